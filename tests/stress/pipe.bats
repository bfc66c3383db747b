#!/usr/bin/env bats
# pipe/: the long cases (make stress): the same promises, many times over.

load ../helpers

@test "pipe/atomic: records of at most PIPE_BUF bytes are never torn, run after run" {
    pipe_buf=$(getconf PIPE_BUF /)
    for size in 16 100 1000 "$pipe_buf"; do
        for run in $(seq 10); do
            run_t "$BIN/pipe/atomic" -w 8 -s "$size" -n 300
            if [ "$status" -ne 0 ] || ! has -x '\[reader [0-9]+\] torn: 0' <<<"$output" ||
               ! has "records: 2400 expected, 2400 read \($((2400 * size)) bytes\), 2400 whole$" <<<"$output"; then
                echo "size $size, run $run: status $status"
                echo "$output"
                return 1
            fi
        done
    done
}

@test "pipe/demo -n 200000: every message once, in order, however read() splits them" {
    # A long run: its own bound, not the per-command $T.
    timeout 300 "$BIN/pipe/demo" -n 200000 >"$OUT/out"
    grep -E '^\[parent [0-9]+\] received: ' "$OUT/out" | sed 's/.*received: //' >"$OUT/got"
    seq 200000 | awk '{ print "message " $1 " of 200000" }' >"$OUT/want"
    diff "$OUT/want" "$OUT/got"
}

@test "pipe/cases all, twenty times: each case as the lesson says, every time" {
    for run in $(seq 20); do
        run_t "$BIN/pipe/cases" -d 5 all
        [ "$status" -eq 0 ] || { echo "run $run: status $status"; echo "$output"; return 1; }
    done
}
