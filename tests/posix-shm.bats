#!/usr/bin/env bats
# posix-shm/: a POSIX shared memory object (shm_open, mmap), a ring of slots
# synchronised by two process-shared semaphores inside it.

load helpers
load posix-shm-helpers

# ---- the conversation ----

@test "posix-shm: three messages, in order; the object is a 0600 file in /dev/shm while it lives" {
    start_reader
    name=$(shm_name)
    has "^\[reader [0-9]+\] created the shared memory object $name: the file /dev/shm$name, mode 0600" "$OUT/reader.out"
    [ "$(stat -c '%F %a %U' "$(shm_file)")" = "regular file 600 $(id -un)" ]
    slots=8 bytes=$(stat -c %s "$(shm_file)")
    [ "$bytes" -gt $((slots * 4096)) ]
    run_t "$BIN/posix-shm/writer" "first message" second 'third, with a tab:	!'
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    has '^\[writer [0-9]+\] the reader took all 3 messages; unmapped the object$' <<<"$output"
    has "^\[writer [0-9]+\] wrote message 3 into slot 2: third" <<<"$output"
    wait_bg reader
    [ "$status" -eq 0 ]
    diff - <(said) <<'EXPECTED'
first message
second
third, with a tab:\x09!
EXPECTED
    has '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"
    has "^\[reader [0-9]+\] removed $name \(shm_unlink\)" "$OUT/reader.out"
    nothing_left
    [ ! -s "$OUT/reader.err" ]
}

@test "posix-shm: lines of standard input; -n 0 through one slot" {
    start_reader
    run_t "$BIN/posix-shm/writer" < <(printf 'one\n\ntwo words\nno newline at the end')
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'one\n\ntwo words\nno newline at the end\n') <(said)
    start_reader -S 1
    run_t "$BIN/posix-shm/writer" -n 0
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] checked: 0 intact, 0 lost, 0 corrupted$' "$OUT/reader.out"
}

@test "posix-shm: -n 20000, the reader and the writer stopped and continued: all there" {
    stress 20000 "3000 12000"
}

@test "posix-shm: -n 10000 through one slot (-S 1, lock-step), stopped and continued: all there" {
    stress 10000 "2000 6000" -S 1
}

# ---- signals and dead peers ----

# Each stop signal at each moment: tests/stress/posix-shm.bats.
@test "posix-shm: stop signals to the reader, waiting for a writer or mid-stream: nothing left" {
    reader_waiting INT
    reader_midstream TERM
}

@test "posix-shm: stop signals to the writer, pausing, waiting for a slot, waiting at the end: nothing left" {
    writer_pausing HUP
    writer_waiting INT
    writer_waiting TERM end
}

@test "posix-shm: kill -9 of the writer while the reader waits in sem_timedwait: reported, exit 1, nothing left" {
    start_reader
    start_bg writer "$BIN/posix-shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    writer=$(pid_of writer writer)
    kill -KILL "$writer"
    wait_bg reader
    [ "$status" -eq 1 ]
    has "^posix-shm/reader: the writer \(pid $writer\) is gone after [0-9]+ messages" "$OUT/reader.err"
    nothing_left
}

@test "posix-shm: kill -9 of the reader while the writer waits for a slot; the next reader replaces the leftover" {
    start_reader -S 2
    reader=$(pid_of reader reader)
    kill -STOP "$reader"
    start_bg writer "$BIN/posix-shm/writer" a b c d
    wait_for_line "$OUT/writer.out" 'wrote message 2 into slot 1'
    kill -KILL "$reader"
    wait_bg writer
    [ "$status" -eq 1 ]
    has -x "posix-shm/writer: the reader \(pid $reader\) is gone after 2 messages" "$OUT/writer.err"
    wait_bg reader
    [ -f "$(shm_file)" ]                         # kill -9: left behind

    # A writer meanwhile refuses it at once, it does not wait.
    run_t "$BIN/posix-shm/writer" hello
    [ "$status" -eq 1 ]
    [[ $stderr == *"is not the object of a running posix-shm/reader: a leftover of a killed one?"* ]]

    start_reader
    has "^\[reader [0-9]+\] shared memory object $(shm_name) was left by a killed run \(its creator, pid $reader, is gone; nobody uses it\): removing it$" "$OUT/reader.out"
    run_t "$BIN/posix-shm/writer" after
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = after ]
    nothing_left
}

@test "posix-shm: --cleanup removes a killed reader's object and record; one no record names is refused with the exact rm" {
    start_reader
    reader=$(pid_of reader reader)
    kill -KILL "$reader"
    wait_bg reader
    [ -f "$(shm_file)" ] && [ -f "$IPC_DEMO_DIR/posix-shm.owner" ]
    run_t "$BIN/posix-shm/reader" --cleanup
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] shared memory object $(shm_name) was left by a killed run \(its creator, pid $reader, is gone" <<<"$output"
    nothing_left
    run_t "$BIN/posix-shm/reader" --cleanup
    [ "$status" -eq 0 ]
    has -x "\[reader [0-9]+\] nothing to clean up: no $(shm_file), no record of a reader that is gone" <<<"$output"

    # A leftover no record names: refused, with the exact command.
    start_reader
    kill -KILL "$(pid_of reader reader)"
    wait_bg reader
    rm "$IPC_DEMO_DIR/posix-shm.owner"
    for cmd in "" --cleanup; do
        run_t "$BIN/posix-shm/reader" $cmd
        [ "$status" -eq 1 ]
        [[ $stderr == *"is named by no posix-shm/reader on record"* ]]
        [[ $stderr == *"remove it with: rm $(shm_file)" ]]
        [ -f "$(shm_file)" ]                     # not touched
    done
    rm "$(shm_file)"
}

@test "posix-shm: two readers, two writers at once: the second refuses and leaves the first alone" {
    start_reader
    reader=$(pid_of reader reader)
    run_t "$BIN/posix-shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == "posix-shm/reader: shared memory object $(shm_name) is in use: its creator, pid $reader, is still running"* ]]
    run_t "$BIN/posix-shm/writer" "still works"
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = "still works" ]

    start_reader
    start_bg writer "$BIN/posix-shm/writer" -d 20 $(seq 30)
    wait_for_line "$OUT/reader.out" 'says: 1$'
    # Stopped, it is still running, however long the intruder takes to start.
    kill -STOP "$(pid_of writer writer)"
    run_t "$BIN/posix-shm/writer" intruder
    kill -CONT "$(pid_of writer writer)"
    [ "$status" -eq 1 ]
    [[ $stderr == "posix-shm/writer: another posix-shm/writer (pid $(pid_of writer writer)) is already writing into $(shm_name)" ]]
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(seq 30) <(said)
}

@test "posix-shm: standard output gone (| head): the reader stops and removes the object" {
    start_bg reader bash -c '"$0" | head -n 6' "$BIN/posix-shm/reader"     # 4 lines, 2 messages
    wait_for_line "$IPC_DEMO_DIR/posix-shm.owner" ' '                     # written last
    run_t "$BIN/posix-shm/writer" -n 100000
    [ "$status" -eq 1 ]
    [[ $stderr == "posix-shm/writer: the reader (pid "*") is gone after "*" messages" ]]
    wait_bg reader
    grep -q '^posix-shm/reader: standard output is gone (a closed pipe?) after [0-9]* messages' "$OUT/reader.err"
    nothing_left
}

# ---- untrusted data ----

# FIELD=len|seq VALUE=N scribble_then WRITER_ARGS: a reader of 4 slots,
# stopped; a writer fills three and the end, and waits; then slot 1's FIELD
# is overwritten from outside, and the reader goes on.
scribble_then() {
    start_reader -S 4
    reader=$(pid_of reader reader)
    kill -STOP "$reader"
    start_bg writer "$BIN/posix-shm/writer" "$@"
    wait_until "the writer to wait for its slots back" in_futex "$(pid_of writer writer)"
    "$ROOT/tests/posix-shm-scribble" "$(shm_name)" 1 "$FIELD" "$VALUE"
    kill -CONT "$reader"
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 1 ]
}

@test "posix-shm: a slot header scribbled from outside is reported and skipped, never followed" {
    FIELD=len VALUE=1000016 scribble_then one two three
    diff <(printf 'one\nthree\n') <(said)
    has -xF 'posix-shm/reader: message 2: invalid slot header (sequence 2, length 1000016): the slot header claims more bytes than a slot holds: Bad message' "$OUT/reader.err"
    has '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"

    FIELD=seq VALUE=1002 scribble_then one two three
    has -xF 'posix-shm/reader: message 2: invalid slot header (sequence 1002, length 3): the slot holds another message than the next: Bad message' "$OUT/reader.err"
    FIELD=len VALUE=3 scribble_then -n 3
    has -xF 'posix-shm/reader: message 2 failed its check: Bad message' "$OUT/reader.err"
    has '^\[reader [0-9]+\] checked: 2 intact, 1 lost, 1 corrupted$' "$OUT/reader.out"
    has -xF 'posix-shm/reader: the writer'"'"'s messages did not all arrive intact' "$OUT/reader.err"
    nothing_left
}

# ---- mistakes ----

@test "posix-shm: a message longer than a slot is skipped, the writer exits 1" {
    start_reader
    long=$(head -c 4097 /dev/zero | tr '\0' x)
    run_t "$BIN/posix-shm/writer" short "$long" ok
    [ "$status" -eq 1 ]
    [[ $stderr == *"a message of 4097 bytes does not fit a slot of 4096 bytes, skipped"* ]]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'short\nok\n') <(said)
    # A line of standard input longer than the line buffer: skipped whole.
    start_reader
    printf 'before\n%s\nafter\n' "$long" >"$OUT/long"
    run_t "$BIN/posix-shm/writer" <"$OUT/long"
    [ "$status" -eq 1 ]
    [[ $stderr == *"a line of 4097 bytes is longer than the 4095 a line of standard input may be, skipped"* ]]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'before\nafter\n') <(said)
}

@test "posix-shm: a writer without a reader, usage errors: exit 1 or 2, nothing created" {
    run_t "$BIN/posix-shm/writer" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-shm/writer: no shared memory object $(shm_name) (start posix-shm/reader first)" ]
    for args in "-S 0" "-S 1025" "-S x" "extra" "-q"; do
        run_t "$BIN/posix-shm/reader" $args
        [ "$status" -eq 2 ] && [ -z "$output" ]
        [[ $stderr == "posix-shm/reader: "*"usage: posix-shm/reader "* ]]
    done
    for args in "-n abc" "-n -1" "-n 5 hello" "-d 99999999"; do
        run_t "$BIN/posix-shm/writer" $args
        [ "$status" -eq 2 ] && [ -z "$output" ]
        [[ $stderr == "posix-shm/writer: "*"usage: posix-shm/writer "* ]]
    done
    [ ! -e "$(shm_file)" ]
}
