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

@test "shm-race: the reader held up (its output unread, then stopped): the writer waits for it, nothing is lost" {
    local reader drain
    # The reader's 8000 lines (100 KB) go to a pipe nobody reads yet: once it
    # holds 64 KiB, the reader blocks in write() and cannot end, however fast
    # the program is.  Then SIGSTOP, and the writer must wait.
    mkfifo "$OUT/pipe"
    exec 8<>"$OUT/pipe"
    PROG_OUT=$OUT/pipe start_prog 8000 </dev/null
    if wait_until "the reader (a child of the writer)" reader_pid 2>/dev/null &&
        reader=$(reader_pid) && kill -STOP "$reader" 2>/dev/null; then
        wait_within 0.5 "the writer to wait" writer_waits "$reader" 2>/dev/null || true
        kill -CONT "$reader" 2>/dev/null || true
    fi
    # Now read it all: one read end, opened before the test lets go of fd 8, so
    # nothing in the pipe is lost even if the program has already ended.
    exec 9<"$OUT/pipe" 8>&-
    timeout "$T" cat <&9 >"$OUT/out" 3>&- &
    drain=$!
    exec 9<&-
    watch_prog
    ((STUCK)) || wait "$drain" || true
    COUNT=8000 check_messages "with the reader held up"
}
