#!/usr/bin/env bats
# procpool/ under load: many tasks, many workers, kills and stop signals again
# and again.  `make stress` runs it; tests/procpool.bats holds the quick cases.

load ../helpers

pool_lines() { sed -nE 's/^\[pool [0-9]+\] //p' <<<"$output"; }
completed_tasks() { pool_lines | sed -nE 's/^task ([0-9]+) done by worker[0-9]+ \(pid [0-9]+\): result [0-9]+$/\1/p'; }

# every_task_once N: the completion lines name each of the tasks 1..N exactly once.
every_task_once() {
    completed_tasks | sort -n >"$OUT/done"
    seq "$1" | diff - "$OUT/done" >"$OUT/diff" || { head -n 20 "$OUT/diff"; return 1; }
}

summary_is() {
    [ "$(pool_lines | tail -n 1)" = "$1" ]
}

# started K [FILE]: the pid of the latest process the pool started as workerK.
started() {
    sed -nE "s/^\[pool [0-9]+\] started worker$1 \(pid ([0-9]+)\).*/\1/p" "${2:-/dev/stdin}" <<<"$output" |
        tail -n 1
}

@test "stress: -w 64 -n 10000: every task completed once" {
    T=120 run_t "$BIN/procpool/pool" -w 64 -n 10000
    [ "$status" -eq 0 ]
    every_task_once 10000
    summary_is "10000 tasks dispatched, 10000 completed, 64 workers exited cleanly"
}

@test "stress: -w 256 -s random -n 20000: every task completed once, every worker reaped" {
    T=180 run_t "$BIN/procpool/pool" -w 256 -s random -n 20000
    [ "$status" -eq 0 ]
    every_task_once 20000
    summary_is "20000 tasks dispatched, 20000 completed, 256 workers exited cleanly"
}

@test "stress: --leaky -w 64: the stuck shutdown recovers, end of file going down the chain" {
    T=60 run_t "$BIN/procpool/pool" --leaky -w 64 -n 640
    [ "$status" -eq 0 ]
    pool_lines | has -xF "worker0 still has 63 writers: the later workers inherited its write end"
    grep -E '^\[worker[0-9]+ [0-9]+\] read\(\) returned 0' <<<"$output" |
        sed -E 's/^\[worker([0-9]+) .*/\1/' | tr '\n' ' ' >"$OUT/order"
    [ "$(cat "$OUT/order")" = "$(seq 63 -1 0 | tr '\n' ' ')" ]
    every_task_once 640
    summary_is "640 tasks dispatched, 640 completed, 64 workers exited cleanly"
}

@test "stress: 12 workers killed from outside during one run: each replaced, no task lost" {
    start_bg pool "$BIN/procpool/pool" -w 6 -n 5000 -d 2
    pool=$(bg_child pool)
    for round in $(seq 12); do
        k=$((round % 6))
        wait_for_line "$OUT/pool.out" "^\[pool [0-9]+\] task [0-9]+ \([a-z-]+\) -> worker$k "
        victim=$(started "$k" "$OUT/pool.out")
        kill -KILL "$victim"
        wait_for_line "$OUT/pool.out" "^\[pool [0-9]+\] worker$k \(pid $victim\) was killed by signal 9"
        wait_until "worker$k to be replaced" eval '[ "$(started "$k" "$OUT/pool.out")" != "$victim" ]'
    done
    wait_bg pool
    [ "$status" -eq 0 ]
    output=$(cat "$OUT/pool.out")
    pool_lines | has '^deaths during the run: 12; tasks re-dispatched: [0-9]+$'
    every_task_once 5000
    summary_is "5000 tasks dispatched, 5000 completed, 6 workers exited cleanly"
}

@test "stress: Ctrl-C 25 times at once to the pool and its workers: never a replacement, never a hang" {
    for round in $(seq 25); do
        # -d 1: it cannot finish its 100,000 tasks before the signal comes.
        start_bg pool "$BIN/procpool/pool" -w 3 -n 100000 -d 1
        wait_for_line "$OUT/pool.out" "^\[pool [0-9]+\] task $((round * 4)) \("
        output=$(cat "$OUT/pool.out")
        kill -INT "$(bg_child pool)" "$(started 0)" "$(started 1)" "$(started 2)" 2>/dev/null || true
        wait_bg pool
        [ "$status" -eq 1 ]
        output=$(cat "$OUT/pool.out")
        [ "$(pool_lines | grep -c '^started worker')" -eq 3 ]
        [ "$(pool_lines | grep -c '^re-dispatching')" -eq 0 ]
        has -xF "procpool/pool: stopped by SIGINT before every task was completed" "$OUT/pool.err"
    done
}

@test "stress: SIGTERM 25 times, at start-up and mid-run: always reaped, exit 1" {
    for round in $(seq 25); do
        start_bg pool "$BIN/procpool/pool" -w 8 -n 100000 -d 1
        # Early rounds stop it while it starts its workers, later ones mid-run.
        wait_for_line "$OUT/pool.out" "^\[pool [0-9]+\] started worker$((round % 8)) "
        kill -TERM "$(bg_child pool)"
        wait_bg pool
        [ "$status" -eq 1 ]
        output=$(cat "$OUT/pool.out")
        for pid in $(pool_lines | sed -nE 's/^started worker[0-9]+ \(pid ([0-9]+)\).*/\1/p'); do
            pool_lines | has "^worker[0-9]+ \(pid $pid\) (exited|was killed)"
            exited "$pid"
        done
    done
}
