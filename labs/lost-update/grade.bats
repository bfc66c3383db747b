#!/usr/bin/env bats
# labs/lost-update: WORKERS processes each add 1 to a shared counter ADDS
# times; no update may be lost, and no semaphore set may be left behind.
# make grade LAB=lost-update [FILE=path]

load ../lib

# run_adds WORKERS ADDS: the counter must end at WORKERS x ADDS.
run_adds() {
    local workers=$1 adds=$2 want=$(($1 * $2)) got
    start_prog "$workers" "$adds" </dev/null
    watch_prog
    ((STUCK == 0)) || fail "the program is stuck: every process of it waits for another (a P without its V?)"
    ((status != 124)) || fail "the program did not end within ${T}s"
    ((status == 0)) || fail "the program exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    got=$(sed -nE 's/.*counter is (-?[0-9]+)$/\1/p' "$OUT/out" | tail -n 1)
    [[ -n $got ]] || fail "no line ending in 'counter is N' (keep the starter's last line)"
    ((got == want)) ||
        fail "$workers workers x $adds additions: the counter is $got, not $want: $((want - got)) updates lost. Between one worker's load and its store, another loaded the same value: only one worker at a time may be between them (a lock around the critical section)"
    [[ ! -s $OUT/left ]] ||
        fail "the program left System V objects behind (semctl IPC_RMID before it exits): $(cat "$OUT/left")"
}

@test "lost-update: 4 workers x 10000 additions, then 2 x 10000: the counter ends at 40000, then 20000" {
    run_adds 4 10000
    run_adds 2 10000
}
