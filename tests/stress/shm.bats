#!/usr/bin/env bats
# shm/ under load: 100000 messages with either side stopped along the way, and
# the unsynchronised race at full size.  tests/shm.bats keeps a smaller proof
# of each.

# A busy machine may take long: each command gets a minute, not 20 s.
T=${T:-60}
load ../helpers
load ../shm-helpers
IPC_PROJS=(s)

@test "shm stress: -n 100000 through the default ring, reader and writer each stopped 5 times: all there" {
    slowed 100000 4000
}

@test "shm stress: -n 100000 through one slot (-S 1), reader and writer each stopped 5 times: all there" {
    slowed 100000 4000 -S 1
}

@test "shm stress: -u -n 100000 through 4 slots: the counts add up" {
    start_reader -S 4
    run_t "$BIN/shm/writer" -u -n 100000
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] received 100000 messages$' "$OUT/reader.out"
    read -r intact lost dup corrupt < <(sed -nE 's/.*checked: ([0-9]+) intact, ([0-9]+) lost, ([0-9]+) duplicated, [0-9]+ reordered, ([0-9]+) corrupted$/\1 \2 \3 \4/p' "$OUT/reader.out")
    [ -n "$intact" ]
    [ $((intact + dup + corrupt)) -eq 100000 ]
    [ $((intact + lost)) -eq 100000 ]
}
