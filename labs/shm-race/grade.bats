#!/usr/bin/env bats
# labs/shm-race: every message the writer puts in the shared slot reaches the
# reader, once, whole, in order - even when the reader is held up.
# make grade LAB=shm-race [FILE=path]

load ../lib

export COUNT=2000

# check_messages WHEN: the reader printed "message 1" to "message COUNT", and
# the run ended well, with nothing left behind.
check_messages() {
    local wrong
    ((STUCK == 0)) || fail "$1, the program is stuck: every process of it waits for another"
    ((status != 124)) || fail "$1, the program did not end within ${T}s"
    wrong=$(numbers_in_order "$OUT/out" '^message [0-9]+$' 1 "$COUNT") ||
        fail "$1, the reader did not print message 1 to message $COUNT, each once, in order: message $wrong. The writer must not overwrite the slot before the reader has copied the message, and the reader must wait for a new one: make them take turns (a semaphore, or a pipe or FIFO)"
    ((status == 0)) || fail "$1, the program exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    [[ ! -s $OUT/left ]] || fail "$1, the program left System V objects behind (remove them before it exits): $(cat "$OUT/left")"
}

@test "shm-race: 2000 messages: the reader prints each once, in order" {
    start_prog "$COUNT" </dev/null
    watch_prog
    check_messages "with $COUNT messages"
}

# reader_pid: the reader, a child of the writer (the first process).
reader_pid() {
    local main p
    main=$(main_pid) || return 1
    find_pids
    for p in "${PIDS[@]}"; do [[ $p != "$main" ]] && echo "$p" && return 0; done
    return 1
}

# writer_waits READER: the writer (the program's first process) has stopped
# writing: it sleeps, but not in a sleep of its own (nanosleep), or it is gone.
writer_waits() {
    local main
    main=$(main_pid) || return 0
    [[ $main != "$1" ]] && asleep_in "$main" . && [[ ! $WCHAN =~ nanosleep ]]
}

@test "shm-race: the reader stopped a while (SIGSTOP): the writer waits for it, nothing is lost" {
    local reader
    start_prog "$COUNT" </dev/null
    # (A program that is over before its reader is seen has lost messages:
    # check_messages says which.)
    if wait_until "the reader (a child of the writer)" reader_pid 2>/dev/null &&
        reader=$(reader_pid); then
        kill -STOP "$reader"
        # Half a second for the writer to wait, as it must, or to finish without it.
        wait_within 0.5 "the writer to wait" writer_waits "$reader" 2>/dev/null || true
        kill -CONT "$reader"
    fi
    watch_prog
    check_messages "with the reader held up"
}
