#!/usr/bin/env bats
# pipe/: the anonymous-pipe lessons.

load helpers

# ---- pipe/demo ----

@test "pipe/demo: the child's messages arrive in order, then EOF, then the reap" {
    run_t "$BIN/pipe/demo"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    mapfile -t got < <(grep -E '^\[parent [0-9]+\] received: ' <<<"$output" | strip_pids)
    [ "${#got[@]}" -eq 5 ]
    for i in 1 2 3 4 5; do
        [ "${got[i-1]}" = "[parent] received: message $i of 5" ]
    done
    # EOF comes after the last message, the reap after EOF, and names the child.
    child=$(grep -oE '^\[child [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)
    [ -n "$child" ]
    tail -n 2 <<<"$output" | strip_pids >"$OUT/tail"
    diff - "$OUT/tail" <<EXPECTED
[parent] read() returned 0: end of file, every write end is closed
[parent] child $child exited with status 0
EXPECTED
}

@test "pipe/demo -n 0: no message, still EOF and the reap" {
    run_t "$BIN/pipe/demo" -n 0
    [ "$status" -eq 0 ]
    ! grep -q 'received:' <<<"$output"
    grep -qE '^\[parent [0-9]+\] read\(\) returned 0: end of file' <<<"$output"
    grep -qE '^\[parent [0-9]+\] child [0-9]+ exited with status 0$' <<<"$output"
}

@test "pipe/demo -n 2000: every message once, in order, however read() splits them" {
    run_t "$BIN/pipe/demo" -n 2000
    [ "$status" -eq 0 ]
    grep -E '^\[parent [0-9]+\] received: ' <<<"$output" | sed 's/.*received: //' >"$OUT/got"
    for i in $(seq 2000); do echo "message $i of 2000"; done >"$OUT/want"
    diff "$OUT/want" "$OUT/got"
}

@test "pipe/demo: no line is duplicated through a pipe or on a terminal" {
    command -v script >/dev/null || skip "script(1) is not installed (apt-get install bsdutils)"
    timeout "$T" "$BIN/pipe/demo" | cat >"$OUT/piped"
    timeout "$T" script -qec "$BIN/pipe/demo" /dev/null </dev/null | tr -d '\r' >"$OUT/tty"
    # Parent and child interleave freely, and pids differ: compare the multiset
    # of lines with every number masked.
    sed -E 's/[0-9]+/N/g' "$OUT/piped" | sort >"$OUT/a"
    sed -E 's/[0-9]+/N/g' "$OUT/tty" | sort >"$OUT/b"
    diff "$OUT/a" "$OUT/b"
    [ "$(wc -l <"$OUT/a")" -eq 17 ]
    [ -z "$(sort "$OUT/piped" | uniq -d)" ]
}

@test "pipe/demo -f: each side closes the end it does not use" {
    run_t "$BIN/pipe/demo" -f -n 1
    [ "$status" -eq 0 ]
    read -r r w < <(sed -nE 's/.*pipe\(\) gave fd ([0-9]+) \(read end\) and fd ([0-9]+) .*/\1 \2/p' <<<"$output")
    [ -n "$r" ] && [ -n "$w" ]
    # After fork() both processes hold both ends of the same pipe ...
    for role in parent child; do
        for fd in "$r" "$w"; do
            grep -qE "^\[$role [0-9]+\] after fork\(\): fd $fd -> pipe:\[[0-9]+\]$" <<<"$output"
        done
    done
    # ... after close() the child keeps only the write end, the parent only the read end.
    grep -qE "^\[child [0-9]+\] after close\(\): fd $w -> pipe:" <<<"$output"
    ! grep -qE "^\[child [0-9]+\] after close\(\): fd $r " <<<"$output"
    grep -qE "^\[parent [0-9]+\] after close\(\): fd $r -> pipe:" <<<"$output"
    ! grep -qE "^\[parent [0-9]+\] after close\(\): fd $w " <<<"$output"
}

@test "pipe/demo -v: every system call traced on stderr, stdout unchanged" {
    run_t "$BIN/pipe/demo" -v -n 2
    [ "$status" -eq 0 ]
    grep -qE '^\[parent [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr"
    grep -qE '^\[parent [0-9]+\] fork\(\) = [0-9]+$' <<<"$stderr"
    grep -qE '^\[child [0-9]+\] close\([0-9]+\) = 0$' <<<"$stderr"
    [ "$(grep -cE '^\[child [0-9]+\] write\([0-9]+, 15\) = 15$' <<<"$stderr")" -eq 2 ]
    grep -qE '^\[parent [0-9]+\] read\([0-9]+, [0-9]+\) = 0$' <<<"$stderr"
    grep -qE '^\[parent [0-9]+\] waitpid\([0-9]+\) = [0-9]+$' <<<"$stderr"
    ! grep -qE '\) = ' <<<"$output"
}

@test "pipe/demo -d: paces the steps" {
    start=$(date +%s%N)
    run_t "$BIN/pipe/demo" -d 100 -n 3
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 300 ]
}

@test "pipe/demo: a parent that is gone is reported by the child, not a silent death" {
    # The parent is killed before it reads; the child's write() fails with EPIPE.
    start_bg demo "$BIN/pipe/demo" -d 300 -n 3
    wait_for_line "$OUT/demo.out" 'forked child'
    parent=$(bg_child demo)
    kill -KILL "$parent"
    wait_bg demo
    wait_for_line "$OUT/demo.err" 'pipe/demo: write to the pipe \(is the parent gone\?\): Broken pipe'
}
