# tests/posix-shm-helpers.bash - shared by tests/posix-shm.bats and
# tests/stress/posix-shm.bats (load it after helpers).

# shm_name: this test's object name, made here from the identity of
# $IPC_DEMO_DIR as design.md says (device and inode, in hex), not taken from
# the programs' output.
shm_name() {
    local dev ino
    read -r dev ino < <(stat -c '%d %i' "$IPC_DEMO_DIR")
    printf '/ipc-demos-%x-%x-ring\n' "$dev" "$ino"
}

shm_file() {
    echo "/dev/shm$(shm_name)"
}

# Besides the FIFOs and System V objects of helpers.bash: no object in
# /dev/shm, no record of a reader.
teardown() {
    stop_all_bg
    local left=""
    if [[ -d $IPC_DEMO_DIR ]]; then
        [[ ! -e $(shm_file) ]] || left="$(shm_file) "
        [[ ! -e $IPC_DEMO_DIR/posix-shm.owner ]] || left+="$IPC_DEMO_DIR/posix-shm.owner"
        rm -f "$(shm_file)"
    fi
    check_leftovers
    [[ -z $left ]] || { echo "left behind: $left" >&2; return 1; }
}

start_reader() {
    start_bg reader "$BIN/posix-shm/reader" "$@"
    wait_for_line "$OUT/reader.out" 'waiting for posix-shm/writer'
}

said() {
    sed -nE 's/^\[reader [0-9]+\] shared memory says: //p' "$OUT/reader.out"
}

# in_futex PID: PID sleeps in a futex wait: a semaphore at 0.  Where the
# kernel hides wchan ("0"), asleep is the best we can tell.
in_futex() {
    local w=""
    { read -r w <"/proc/$1/wchan"; } 2>/dev/null
    [[ -n $w ]] || return 1
    [[ $w == futex* ]] || { [[ $w == 0 ]] && in_state "$1" S; }
}

stopped_or_exited() {
    stopped "$1" || exited "$1"
}

# A reader may also be done: the writer finished while it was stopped.
waiting_or_exited() {
    in_futex "$1" || exited "$1"
}

nothing_left() {
    [ ! -e "$(shm_file)" ]
    [ ! -e "$IPC_DEMO_DIR/posix-shm.owner" ]
}

# stress N MARKS READER_ARGS...: N generated messages, in rounds: stop the
# reader (the writer fills the ring and waits in sem_timedwait), stop the
# writer, continue the reader (it drains the ring and waits), continue the
# writer.  The first round before the writer starts, the others once the
# reader printed message MARK (unless the writer is done by then: the reader
# is fast).  Every message must arrive once, in order, byte for byte.
stress() {
    local n=$1 marks=$2 reader writer mark
    shift 2
    start_reader "$@"
    reader=$(pid_of reader reader)
    kill -STOP "$reader"
    start_bg writer "$BIN/posix-shm/writer" -n "$n"
    writer=$(pid_of writer writer)
    for mark in 0 $marks; do
        if ((mark > 0)); then
            wait_for_line "$OUT/reader.out" "says: message $mark of "
            kill -STOP "$reader" 2>/dev/null || break    # done already
        fi
        wait_until "the reader to stop" stopped_or_exited "$reader"
        if exited "$writer"; then
            kill -CONT "$reader" 2>/dev/null
            break
        fi
        wait_until "the writer to wait" in_futex "$writer"
        kill -STOP "$writer"
        kill -CONT "$reader"
        wait_until "the reader to wait" waiting_or_exited "$reader"
        kill -CONT "$writer"
    done
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] checked: $n intact, 0 lost, 0 corrupted$" "$OUT/reader.out"
    # Checked here too: the numbers are 1..n, in order.
    said | awk '{ print $2 }' | cmp - <(seq "$n")
    [ ! -s "$OUT/reader.err" ] && [ ! -s "$OUT/writer.err" ]
}


# ---- a stop signal at each moment: MOMENT SIG runs one and checks it ----

reader_waiting() {
    start_reader
    kill -"$1" "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] caught SIG$1 after 0 messages: removing $(shm_name)$" "$OUT/reader.out"
    nothing_left
}

reader_midstream() {
    start_reader
    start_bg writer "$BIN/posix-shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -"$1" "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] caught SIG$1 after [0-9]+ messages: removing $(shm_name)$" "$OUT/reader.out"
    nothing_left
    wait_bg writer
    [ "$status" -eq 1 ]
    has "^posix-shm/writer: the reader \(pid $(pid_of reader reader)\) is gone after [0-9]+ messages$" "$OUT/writer.err"
}

writer_pausing() {
    start_reader
    start_bg writer "$BIN/posix-shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -"$1" "$(pid_of writer writer)"
    wait_bg writer
    [ "$status" -eq 1 ]
    has "^posix-shm/writer: caught SIG$1 after [0-9]+ messages: stopping$" "$OUT/writer.err"
    wait_bg reader
    [ "$status" -eq 1 ]
    has "^posix-shm/reader: the writer \(pid $(pid_of writer writer)\) is gone after [0-9]+ messages: removing $(shm_name)$" "$OUT/reader.err"
    nothing_left
}

# The writer waits in sem_timedwait for a free slot (the reader is stopped);
# with END, for its slots back after the end.
writer_waiting() {
    local reader slots=2 args=(a b c d)
    [[ ${2:-} != end ]] || slots=4 args=(a b)
    start_reader -S "$slots"
    reader=$(pid_of reader reader)
    kill -STOP "$reader"
    start_bg writer "$BIN/posix-shm/writer" "${args[@]}"
    wait_until "the writer to wait" in_futex "$(pid_of writer writer)"
    kill -"$1" "$(pid_of writer writer)"
    wait_bg writer
    [ "$status" -eq 1 ]
    has -x "posix-shm/writer: caught SIG$1 after 2 messages: stopping" "$OUT/writer.err"
    kill -CONT "$reader"
    wait_bg reader
    [ "$(said | tr '\n' ' ')" = "a b " ]
    if [[ ${2:-} == end ]]; then
        [ "$status" -eq 0 ]                  # the end was in the ring already
    else
        [ "$status" -eq 1 ]
        has "^posix-shm/reader: the writer \(pid [0-9]+\) is gone after 2 messages" "$OUT/reader.err"
    fi
    nothing_left
}
