#!/usr/bin/env bats
# posix-shm/ at length: 200000 messages through the default ring and through
# one slot, both sides stopped and continued; every stop signal at every
# moment.  tests/posix-shm.bats keeps a smaller proof of each.

# A busy machine may take long: each command gets a minute, not 20 s.
T=${T:-60}
load ../helpers
load ../posix-shm-helpers

@test "posix-shm stress: -n 200000 through the default ring, both sides stopped and continued" {
    stress 200000 "20000 90000 150000"
}

@test "posix-shm stress: -n 200000 through one slot (-S 1), both sides stopped and continued" {
    stress 200000 "30000 120000" -S 1
}

@test "posix-shm stress: SIGINT, SIGTERM, SIGHUP at every moment: nothing left, clear words" {
    for sig in INT TERM HUP; do
        reader_waiting "$sig"
        reader_midstream "$sig"
        writer_pausing "$sig"
        writer_waiting "$sig"
        writer_waiting "$sig" end
    done
}
