#!/usr/bin/env bats
# bench/ipcbench, the long cases: the whole --quick run at every default size,
# runs beside CPU hogs that must never fail for the memcpy ceiling, a stop
# signal at many moments of a run.

load ../helpers

MECHS=(pipe fifo shm shm1 msgq socketpair unix posix-mq posix-shm posix-shm1)

# No POSIX object of this test is left (see tests/bench.bats).
eval "helpers_$(declare -f teardown)"
teardown() {
    local dev ino prefix
    helpers_teardown
    [[ -d $IPC_DEMO_DIR ]] || return 0
    read -r dev ino < <(stat -c '%d %i' "$IPC_DEMO_DIR")
    printf -v prefix '/ipc-demos-%x-%x-' "$dev" "$ino"
    ! "$ROOT/tests/bench-mq" exists "${prefix}bench-mq" &&
        ! "$ROOT/tests/bench-mq" exists "${prefix}bench-mq-back" &&
        [[ ! -e /dev/shm${prefix}bench-shm ]]
}

# The data rows of the throughput table, as "SIZE MECH" pairs (see tests/bench.bats).
table_rows() {
    strip_pids <<<"$output" | awk '
        /^\[bench\] +size +mechanism/ { on = 1; next }
        on && /^\[bench\] *$/ { exit }
        on && /^\[bench\] (posix-)?shm.s ring: / { next }
        on {
            sub(/^\[bench\] /, "")
            if ($0 ~ /^ +[0-9]+ (B|KiB|MiB) /) { size = $1 " " $2; mech = $3 }
            else mech = $1
            print size, mech
        }'
}

@test "ipcbench --quick: every mechanism at every default size, the limits, the verification line" {
    T=120 run_t "$BIN/bench/ipcbench" --quick
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    table_rows >"$OUT/rows"
    for size in "64 B" "1 KiB" "4 KiB" "16 KiB" "64 KiB" "1 MiB"; do
        for mech in "${MECHS[@]}" memcpy; do
            grep -qx "$size $mech" "$OUT/rows" || { echo "no row for $mech at $size"; cat "$OUT/rows"; false; }
        done
    done
    grep -qx "64 KiB dd|dd" "$OUT/rows"
    rows=$((6 * (${#MECHS[@]} + 1) + 1))
    [ "$(wc -l <"$OUT/rows")" -eq "$rows" ]
    has "^\[bench [0-9]+\] shm's ring: [0-9]+ slots of 64 B, .*, [0-9]+ slots of 1 MiB; shm1's: 1 slot$" <<<"$output"
    [ -z "$(grep -vE '^\[bench [0-9]+\] ' <<<"$output")" ]
    has '^\[bench [0-9]+\] verified: [0-9]+ messages, .* every byte compared .*: no mismatch$' <<<"$output"
    has '^\[bench [0-9]+\] crossover: shm ' <<<"$output"
    [ "$(grep -cE '^\[bench [0-9]+\]   ([a-z0-9-]+|dd\|dd) +\|[# ]{40}\|' <<<"$output")" -eq "$rows" ]
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

@test "ipcbench --quick --latency at the default sizes: every round trip" {
    T=120 run_t "$BIN/bench/ipcbench" --quick --latency
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    strip_pids <<<"$output" | sed -n '/^\[bench\] round trips/,/^\[bench\] *$/p' >"$OUT/trips"
    for size in "1 B" "4 KiB"; do
        for mech in pipe fifo shm msgq socketpair unix posix-mq posix-shm; do
            has "^\[bench\] +$size +$mech +[0-9.]+ +[0-9.]+ +[0-9.]+ " "$OUT/trips"
        done
    done
}

# hogs N: N busy loops on the CPU the benchmark pins itself to (the first one
# it may use), bounded in time, killed in teardown.
hogs() {
    local cpu
    cpu=$(taskset -pc $$ | sed -E 's/.*: ([0-9]+).*/\1/')
    for n in $(seq "$1"); do
        start_bg "hog$n" taskset -c "$cpu" sh -c 'while :; do :; done'
    done
}

@test "ipcbench --quick beside CPU hogs on its own CPU: never fails for the memcpy ceiling" {
    command -v taskset >/dev/null || skip "taskset is not installed (util-linux)"
    T=300 hogs 3
    for _ in $(seq 8); do
        T=120 run_t "$BIN/bench/ipcbench" --quick -m shm,pipe -s 1M -r 2
        [ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
        # memcpy is timed on its own CPU time: the hogs cannot lower the ceiling.
        [[ $output != *"above memcpy's best"* ]]
    done
}

@test "ipcbench: SIGTERM in each of its first rounds removes everything, exit 1" {
    for round in 1 2 3; do
        rm -f "$OUT/bench.out" "$OUT/bench.err"
        T=60 start_bg bench "$BIN/bench/ipcbench" --quick -m fifo,msgq,shm,shm1,unix,posix-mq,posix-shm -s 64 -r 100 --latency
        wait_for_line "$OUT/bench.out" "round $round of 100" 60
        kill -TERM "$(bg_child bench)"
        wait_bg bench
        [ "$status" -eq 1 ]
        grep -qx 'bench/ipcbench: interrupted by SIGTERM' "$OUT/bench.err"
        [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
        check_leftovers || false
    done
}

# gone PID...: every one has exited (gone, or a zombie).
gone() {
    local pid
    for pid in "$@"; do [[ ! -e /proc/$pid ]] || grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || return 1; done
}

@test "ipcbench unix: killed at any moment, by SIGTERM or SIGKILL, it leaves nothing the next run cannot remove" {
    # The socket file lives from bind() to the writer's connect(): a moment per
    # trial.  Many kills, each at a different point of a run of short trials.
    for n in $(seq 20); do
        rm -f "$OUT/bench.out" "$OUT/bench.err"
        T=60 start_bg bench "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 100 --latency
        wait_for_line "$OUT/bench.out" "round 1 of 100" 60
        main=$(bg_child bench)
        children=$(cat "/proc/$main/task/$main/children" 2>/dev/null || true)
        sig=TERM
        ((n % 2)) || sig=KILL
        kill -"$sig" "$main"
        wait_bg bench
        wait_until "the children of $main to die with it" gone $children
        if [[ $sig == TERM ]]; then
            [ "$status" -eq 1 ]
            [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
        else
            run_t "$BIN/bench/ipcbench" --cleanup
            [ "$status" -eq 0 ] || { echo "kill $n: $stderr"; false; }
            [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
        fi
    done
}
