#!/usr/bin/env bats
# sem/: the long cases -- the locked modes exact run after run, the holder's
# death lesson again and again.

load ../helpers

counts() {
    sed -nE 's/^\[parent [0-9]+\] expected ([0-9]+), got ([0-9]+)$/\1 \2/p' <<<"$output"
}

@test "sem/race: every lock is exact, 10 runs of 4 processes each" {
    for _ in $(seq 10); do
        for m in sem:2000 posix:200000 mutex:200000 atomic:1000000; do
            run_t "$BIN/sem/race" -p 4 -m "${m%%:*}" -n "${m#*:}"
            [ "$status" -eq 0 ]
            [ "$(counts)" = "$((4 * ${m#*:})) $((4 * ${m#*:}))" ]
        done
    done
}

@test "sem/holder-dies: each lesson happens as described, 20 times" {
    for _ in $(seq 20); do
        for args in "-m sem" "-m sem -n -t 20" "-m posix -t 20" "-m mutex" "-m mutex -n"; do
            run_t "$BIN/sem/holder-dies" $args
            [ "$status" -eq 0 ]
        done
    done
}
