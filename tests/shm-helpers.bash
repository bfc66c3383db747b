# tests/shm-helpers.bash - what tests/shm.bats and tests/stress/shm.bats share.

# start_reader [ARGS...]: shm/reader in the background, waiting for a writer.
start_reader() {
    start_bg reader "$BIN/shm/reader" "$@"
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
    # and in its open(), so that a writer's O_NONBLOCK open finds it there
    wait_until "the reader in its open()" in_state "$(pid_of reader reader)" S
}

# shm_line: our segment's line in `ipcs -m` (empty when there is none).
shm_line() {
    ipc_objects_for s
}

# shm_id, shm_nattch: our segment's shmid and nattch, from ipcs, not from the programs.
shm_id() {
    shm_line | awk '{ print $2 }'
}

shm_nattch() {
    shm_line | awk '{ print $6 }'
}

# said: the messages the reader printed, one per line, without the prefix.
said() {
    sed -nE 's/^\[reader [0-9]+\] shared memory says: //p' "$OUT/reader.out"
}

# no_line REGEX FILE: no line of FILE matches (a bare `! grep` cannot fail a test).
no_line() {
    if has -- "$1" "$2"; then
        echo "unexpected /$1/ in $2:" >&2
        grep -E -- "$1" "$2" >&2
        return 1
    fi
}

no_fifos_left() {
    [ ! -e "$IPC_DEMO_DIR/shm-filled" ] && [ ! -e "$IPC_DEMO_DIR/shm-free" ]
}

# The gate: a FIFO this test holds open for reading and writing (such an open
# never waits), as a writer's standard input: its lines go in when the test
# chooses.  start_gated NAME ARGS...: shm/writer ARGS reading the gate (fds 0-2
# only, as start_bg gives: without the test's own fd 7, closing the gate is its
# end of file).
start_gated() {
    local name=$1
    shift
    mkfifo "$OUT/gate"
    exec 7<>"$OUT/gate"
    # (bash gives a background command /dev/null as its stdin: hence the inner one)
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    start_bg_in "$name" "$OUT/gate" "$BIN/shm/writer" "$@"
}

# feed_gate TEXT: TEXT into the gate, which is then closed and removed.
feed_gate() {
    printf '%s' "$1" >&7
    exec 7>&-
    rm -f "$OUT/gate"
}

# hold_reader: once the reader has handed over its credits (the writer is
# connected), stop it (SIGSTOP) before it reads any slot; prints its pid.
hold_reader() {
    local reader
    wait_for_line "$OUT/reader.out" 'handed the writer' || return 1
    reader=$(pid_of reader reader) || return 1
    kill -STOP "$reader"
    wait_until "the reader to stop" stopped "$reader" || return 1
    echo "$reader"
}

# blocked_or_gone PID: PID sleeps in a system call (its read() of a FIFO), or
# has exited.
blocked_or_gone() {
    exited "$1" || in_state "$1" S
}

# A round: stop the reader (unless it is, already); the writer fills the ring
# and blocks; stop the writer; resume the reader, which drains the ring and
# blocks; resume the writer.  The writer cannot finish while the reader is
# stopped, so no stop comes too late; a round that comes after the end (the
# reader gone) ends the rounds.
round() {
    local reader=$1 writer=$2
    stopped "$reader" || kill -STOP "$reader" 2>/dev/null || return 1
    wait_until "the writer to block" blocked_or_gone "$writer"   # no free slot
    kill -STOP "$writer" 2>/dev/null
    kill -CONT "$reader" 2>/dev/null || return 1
    wait_until "the reader to block" blocked_or_gone "$reader"   # nothing filled
    kill -CONT "$writer" 2>/dev/null
}

# slowed_lines N READER_ARGS...: the lines 1..N through the gate, both sides
# stopped five times: once before the reader has read anything, then one round
# after the other.  Every line must arrive once, in order.
slowed_lines() {
    local n=$1 reader writer r
    shift
    start_reader "$@"
    start_gated writer
    reader=$(hold_reader)
    writer=$(pid_of writer writer)
    feed_gate "$(seq "$n")"$'\n'
    for ((r = 1; r <= 5; r++)); do
        round "$reader" "$writer" || break
    done
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] received $n messages$" "$OUT/reader.out"
    said | cmp <(seq "$n") -
    [ ! -s "$OUT/reader.err" ] && [ ! -s "$OUT/writer.err" ]
}

# slowed N STEP READER_ARGS...: N generated messages, both sides stopped each
# time the reader is at message STEP, 2*STEP, ... 5*STEP.  Every message must
# arrive once, in order, intact.  The pair runs free between the line seen and
# the stop (100,000 messages take under a second on an idle machine), so 5*STEP
# is kept far below N; a reader that has finished all the same ends the rounds,
# but only after the first, which must happen.
slowed() {
    local n=$1 step=$2 reader writer r
    shift 2
    start_reader "$@"
    reader=$(pid_of reader reader)
    start_bg writer "$BIN/shm/writer" -n "$n"
    writer=$(pid_of writer writer)
    for ((r = 1; r <= 5; r++)); do
        wait_for_line "$OUT/reader.out" "says: message $((r * step)) of "
        round "$reader" "$writer" || { ((r > 1)) && break; false; }
    done
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] received $n messages$" "$OUT/reader.out"
    has "^\[reader [0-9]+\] checked: $n intact, 0 lost, 0 duplicated, 0 reordered, 0 corrupted$" "$OUT/reader.out"
    # Checked here too, not only by the reader: the numbers are 1..n in order.
    said | awk '{ print $2 }' >"$OUT/seqs"
    seq "$n" | cmp - "$OUT/seqs"
    [ ! -s "$OUT/reader.err" ] && [ ! -s "$OUT/writer.err" ]
}
