#!/usr/bin/env bats
# shm/: System V shared memory, reader and writer synchronised through FIFOs.
# The long runs (100000 messages) are in tests/stress/shm.bats.

load helpers
load shm-helpers
IPC_PROJS=(s)                     # shm/ makes no other System V object

# ---- the conversation ----

@test "shm: writer with 3 messages -> the reader prints them in order; nothing left" {
    start_reader
    # The key the reader printed is ftok()'s key for our key file, and ipcs shows
    # the segment: mode 600, the reader alone attached.
    key=$(ipc_key s)
    has "^\[reader [0-9]+\] key $key, from the file $IPC_DEMO_DIR/key and the project id 's'$" "$OUT/reader.out"
    read -r k id _ perms bytes nattch _ < <(shm_line)
    [ "$k" = "$key" ] && [ "$perms" = 600 ] && [ "$nattch" = 1 ]
    has "^\[reader [0-9]+\] created the segment shmid $id: $bytes bytes, mode 0600$" "$OUT/reader.out"
    [ -p "$IPC_DEMO_DIR/shm-filled" ] && [ -p "$IPC_DEMO_DIR/shm-free" ]

    run_t "$BIN/shm/writer" "first message" second 'third, with a tab:	!'
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    has '^\[writer [0-9]+\] told the reader I am done; it took all 3 messages$' <<<"$output"
    wait_bg reader
    [ "$status" -eq 0 ]
    diff - <(said) <<'EXPECTED'
first message
second
third, with a tab:\x09!
EXPECTED
    has '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"
    [ -z "$(shm_line)" ]
    no_fifos_left
    [ ! -s "$OUT/reader.err" ]
}

@test "shm: a writer started with standard output closed: its lines go nowhere, never into a FIFO" {
    start_reader
    # fd 1 closed: the first open() would get 1, and every say() would go there.
    status=0
    (bare; exec timeout "$T" "$BIN/shm/writer" "one" "two") >&- 2>"$OUT/writer.err" || status=$?
    [ "$status" -eq 0 ] || { cat "$OUT/writer.err"; false; }
    [ ! -s "$OUT/writer.err" ]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff - <(said) <<'EXPECTED'
one
two
EXPECTED
}

@test "shm: the shmid_ds facts at start, with the writer attached, after shmdt: nattch 1, 2, 0" {
    start_reader
    run_t "$BIN/shm/writer" hello
    [ "$status" -eq 0 ]
    writer=$(grep -oE '^\[writer [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)
    wait_bg reader
    [ "$status" -eq 0 ]
    reader=$(grep -oE '^\[reader [0-9]+\]' "$OUT/reader.out" | head -1 | tr -dc 0-9)
    grep -E 'shmid_ds' "$OUT/reader.out" | sed -nE 's/.*shmid_ds ([^:]+):.*shm_nattch ([0-9]+), creator pid ([0-9]+).*by pid ([0-9]+).*/\1|\2|\3|\4/p' >"$OUT/facts"
    diff - "$OUT/facts" <<EXPECTED
at start|1|$reader|$reader
with the writer attached|2|$reader|$writer
after shmdt()|0|$reader|$reader
EXPECTED
}

@test "shm: lines of standard input are messages too" {
    start_reader
    run_t "$BIN/shm/writer" < <(printf 'one\n\ntwo words\nno newline at the end')
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'one\n\ntwo words\nno newline at the end\n') <(said)
    has '^\[reader [0-9]+\] received 4 messages$' "$OUT/reader.out"
}

@test "shm: -n 0 through one slot: no message, a clean end" {
    start_reader -S 1
    run_t "$BIN/shm/writer" -n 0
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] received 0 messages$' "$OUT/reader.out"
    has '^\[reader [0-9]+\] checked: 0 intact, 0 lost, 0 duplicated, 0 reordered, 0 corrupted$' "$OUT/reader.out"
}

# ---- either side slowed down (100000 -n messages: tests/stress/shm.bats) ----

@test "shm: 3000 lines through the default ring, then through one slot (-S 1), either side stopped 5 times: all there" {
    slowed_lines 3000
    slowed_lines 3000 -S 1
}

# ---- signals and dead peers ----

@test "shm: SIGINT, SIGTERM or SIGHUP to the reader while it waits: segment and FIFOs removed" {
    for sig in INT TERM HUP; do
        start_reader
        [ -n "$(shm_line)" ]
        kill -"$sig" "$(pid_of reader reader)"
        wait_bg reader
        [ "$status" -eq 0 ]
        has "^\[reader [0-9]+\] caught SIG$sig while waiting: removed the segment and the FIFOs$" "$OUT/reader.out"
        [ -z "$(shm_line)" ]
        no_fifos_left
    done
}

@test "shm: SIGINT or SIGTERM to the reader mid-stream: nothing left, the writer says the reader is gone" {
    for sig in INT TERM; do
        start_reader
        start_bg writer "$BIN/shm/writer" -d 20 $(seq 1000)
        wait_for_line "$OUT/reader.out" 'says: 3$'
        kill -"$sig" "$(pid_of reader reader)"
        wait_bg reader
        [ "$status" -eq 0 ]
        has "^\[reader [0-9]+\] caught SIG$sig after [0-9]+ messages: removed the segment and the FIFOs$" "$OUT/reader.out"
        wait_bg writer
        [ "$status" -eq 1 ]
        grep -q '^shm/writer: the reader is gone' "$OUT/writer.err"
        [ -z "$(shm_line)" ]
        no_fifos_left
    done
}

@test "shm: SIGKILL or SIGINT to the writer mid-stream: the reader reports it, exits 1, leaves nothing" {
    for sig in KILL INT; do
        start_reader
        start_bg writer "$BIN/shm/writer" -d 20 $(seq 1000)
        wait_for_line "$OUT/reader.out" 'says: 3$'
        kill -"$sig" "$(pid_of writer writer)"
        wait_bg writer
        if [ "$sig" = INT ]; then
            [ "$status" -eq 1 ]             # it stops at once, and says so
            has '^shm/writer: caught SIGINT after [0-9]+ messages: stopping$' "$OUT/writer.err"
        fi
        wait_bg reader
        [ "$status" -eq 1 ]
        has '^shm/reader: the writer vanished mid-stream after [0-9]+ messages .*: removed the segment and the FIFOs$' "$OUT/reader.err"
        [ -z "$(shm_line)" ]
        no_fifos_left
    done
}

@test "shm: SIGKILL to the reader: the next reader finds the stale segment, replaces it, reuses the FIFOs, works" {
    start_reader
    old=$(shm_id)
    kill -KILL "$(pid_of reader reader)"
    wait_bg reader
    [ "$(shm_nattch)" = 0 ]                      # left behind, nobody attached
    [ -p "$IPC_DEMO_DIR/shm-filled" ]
    # A writer meanwhile finds no reader: it says so at once, it does not hang.
    run_t "$BIN/shm/writer" hello
    [ "$status" -eq 1 ]
    [[ $stderr == *"no reader has it open"* ]]

    start_reader -v                              # -v: mkfifo's real result
    has "^\[reader [0-9]+\] mkfifo\(\"$IPC_DEMO_DIR/shm-filled\", 0600\) = -1 EEXIST$" "$OUT/reader.err"
    has "^\[reader [0-9]+\] mkfifo\(\"$IPC_DEMO_DIR/shm-free\", 0600\) = -1 EEXIST$" "$OUT/reader.err"
    has "^\[reader [0-9]+\] segment $old \(key $(ipc_key s), [0-9]+ bytes\) was left by a killed run \(its creator, pid [0-9]+, is gone; nobody uses it\): removing it$" "$OUT/reader.out"
    has "^\[reader [0-9]+\] reusing the FIFO $IPC_DEMO_DIR/shm-filled left by an earlier run \(ours, mode 0600\)$" "$OUT/reader.out"
    has "^\[reader [0-9]+\] reusing the FIFO $IPC_DEMO_DIR/shm-free left by an earlier run" "$OUT/reader.out"
    [ "$(shm_id)" != "$old" ]
    run_t "$BIN/shm/writer" after
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = after ]
}

@test "shm: SIGKILL to the reader mid-stream: the writer exits 1; --cleanup removes the leftover" {
    start_reader
    start_bg writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -KILL "$(pid_of reader reader)"
    wait_bg writer
    [ "$status" -eq 1 ]
    grep -q '^shm/writer: the reader is gone' "$OUT/writer.err"
    id=$(shm_id)
    [ "$(shm_nattch)" = 0 ]
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] segment $id \(.*\) was left by a killed run" <<<"$output"
    has "^\[reader [0-9]+\] removed the FIFO $IPC_DEMO_DIR/shm-filled$" <<<"$output"
    has "^\[reader [0-9]+\] removed the FIFO $IPC_DEMO_DIR/shm-free$" <<<"$output"
    [ -z "$(shm_line)" ]
    no_fifos_left
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] nothing to clean up' <<<"$output"
}

@test "shm: a leftover still attached is not stale: refused with the exact ipcrm; --cleanup removes it" {
    start_reader
    start_bg writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    writer=$(pid_of writer writer)
    kill -STOP "$writer"                         # still attached, but stuck
    kill -KILL "$(pid_of reader reader)"
    wait_bg reader
    id=$(shm_id)
    [ "$(shm_nattch)" = 1 ]
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == *"segment $id ("*") is in use: 1 process is still using it."* ]]
    [[ $stderr == *"ipcrm -m $id"* ]]
    [ "$(shm_id)" = "$id" ]                      # refused, not touched
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    has "^\[reader [0-9]+\] segment $id \(.*\): its creator, pid [0-9]+, is gone, 1 process\(es\) still attached: removing it all the same" <<<"$output"
    kill -CONT "$writer"
    wait_bg writer
    [ "$status" -eq 1 ]
    [ -z "$(shm_line)" ]
    no_fifos_left
}

@test "shm: a stale segment of another size: the EINVAL is explained, then it is replaced" {
    start_reader -s 64
    kill -KILL "$(pid_of reader reader)"
    wait_bg reader
    start_reader
    has '^\[reader [0-9]+\] the segment there has [0-9]+ bytes, fewer than the [0-9]+ this run needs: shmget\(key, [0-9]+, 0\) fails with EINVAL \(a size mismatch\)$' "$OUT/reader.out"
    has '^\[reader [0-9]+\] segment [0-9]+ .* was left by a killed run' "$OUT/reader.out"
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
}

@test "shm: a second reader, or --cleanup, while a reader runs: refused with the command, nothing removed" {
    start_reader
    id=$(shm_id)
    reader=$(pid_of reader reader)
    refusal="segment $id (key $(ipc_key s), "*") is in use: its creator, pid $reader, is still running.  Stop it first: kill $reader"
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/reader: "$refusal ]]
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/reader: "$refusal ]]
    [ "$(shm_id)" = "$id" ]
    [ -p "$IPC_DEMO_DIR/shm-filled" ] && [ -p "$IPC_DEMO_DIR/shm-free" ]
    run_t "$BIN/shm/writer" "still works"
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = "still works" ]
}

@test "shm: two writers at once: the second refuses" {
    start_reader
    start_bg writer "$BIN/shm/writer" -d 50 $(seq 40)
    wait_for_line "$OUT/reader.out" 'says: 1$'
    run_t "$BIN/shm/writer" intruder
    [ "$status" -eq 1 ]
    [[ $stderr == *"another shm/writer is already writing into this segment (shm_nattch 3)"* ]]
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(seq 40) <(said)
}

@test "shm: a writer without a reader: start shm/reader first, exit 1, nothing created" {
    run_t "$BIN/shm/writer" hello
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/writer: no shared memory segment for key $(ipc_key s) (start shm/reader first)" ]]
    [ -z "$(shm_line)" ]
    no_fifos_left
}

# ---- leftover FIFOs ----

@test "shm: a FIFO of ours with another mode, or a file, at a FIFO's path: refused, left as it is" {
    mkdir -p "$IPC_DEMO_DIR" && chmod 700 "$IPC_DEMO_DIR"
    mkfifo -m 644 "$IPC_DEMO_DIR/shm-filled"
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/reader: $IPC_DEMO_DIR/shm-filled is a FIFO of yours with mode 0644, not 0600: others could write into it."* ]]
    [ "$(stat -c %a "$IPC_DEMO_DIR/shm-filled")" = 644 ]
    [ -z "$(shm_line)" ]                         # the segment it made is gone again
    rm "$IPC_DEMO_DIR/shm-filled"
    echo data >"$IPC_DEMO_DIR/shm-free"
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/reader: $IPC_DEMO_DIR/shm-free is a regular file, not a FIFO: left as it is"* ]]
    [ "$(cat "$IPC_DEMO_DIR/shm-free")" = data ]
    [ ! -e "$IPC_DEMO_DIR/shm-filled" ]          # the one it made, it removed
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 1 ]
    [[ $stderr == *"shm-free is a regular file, not a FIFO"* ]]
    [ -f "$IPC_DEMO_DIR/shm-free" ]
}

# ---- untrusted data: a slot header scribbled from outside ----

@test "shm: a slot header claiming too many bytes is reported and skipped, never followed" {
    start_reader -s 16
    start_gated writer
    reader=$(hold_reader)
    feed_gate $'one\ntwo\nthree\n'
    wait_for_line "$OUT/writer.out" 'wrote message 3 into slot 2: three$'
    "$ROOT/tests/shm-scribble" "$(shm_id)" 1 len 1000016
    kill -CONT "$reader"
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 1 ]
    diff <(printf 'one\nthree\n') <(said)
    has -xF 'shm/reader: message 2: invalid slot header (sequence 2, length 1000016): the slot header claims more bytes than a slot holds' "$OUT/reader.err"
    has '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"
    has -xF "shm/reader: the writer's messages did not all arrive intact" "$OUT/reader.err"
}

@test "shm: a slot holding another message than announced is reported" {
    start_reader
    start_gated writer
    reader=$(hold_reader)
    feed_gate $'a\nb\nc\n'
    wait_for_line "$OUT/writer.out" 'wrote message 3 into slot 2: c$'
    "$ROOT/tests/shm-scribble" "$(shm_id)" 1 seq 1002
    kill -CONT "$reader"
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 1 ]
    diff <(printf 'a\nc\n') <(said)
    has '^shm/reader: message 2: invalid slot header \(sequence 1002, length 1\): the slot holds another message than the one announced' "$OUT/reader.err"
}

@test "shm: a foreign segment at our key: the writer refuses it, the reader replaces it as stale" {
    mkdir -p "$IPC_DEMO_DIR" && chmod 700 "$IPC_DEMO_DIR" && : >"$IPC_DEMO_DIR/key"
    "$ROOT/tests/shm-scribble" plant "$IPC_DEMO_DIR/key"
    [ -n "$(shm_line)" ]
    run_t "$BIN/shm/writer" hello
    [ "$status" -eq 1 ]
    [[ $stderr == *"is not a ring: no ring header (wrong magic number)"* ]]
    start_reader
    has '^\[reader [0-9]+\] segment [0-9]+ .* was left by a killed run' "$OUT/reader.out"
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
}

@test "shm: a message longer than a slot is skipped with a message; the writer exits 1" {
    start_reader -s 8
    run_t "$BIN/shm/writer" short "far too long for eight bytes" ok
    [ "$status" -eq 1 ]
    [[ $stderr == *"message of 28 bytes does not fit a slot of 8 bytes, skipped (start shm/reader with -s 28)"* ]]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'short\nok\n') <(said)
    # A line of standard input longer than the line buffer, into slots that
    # would hold it: skipped whole, never sent in part.
    start_reader -s 8192
    { echo before; head -c 5000 /dev/zero | tr '\0' x; echo; echo after; } >"$OUT/long"
    run_t "$BIN/shm/writer" <"$OUT/long"
    [ "$status" -eq 1 ]
    [[ $stderr == *"a line of 5000 bytes is longer than the 4095 a line of standard input may be, skipped"* ]]
    wait_bg reader
    [ "$status" -eq 0 ]
    diff <(printf 'before\nafter\n') <(said)
}

@test "shm: -n needs slots that hold a generated message; -n with MESSAGE operands is a usage error" {
    run_t "$BIN/shm/writer" -n 3 hello
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == "shm/writer: -n generates the messages"*"usage: shm/writer"* ]]
    start_reader -s 16
    run_t "$BIN/shm/writer" -n 3
    [ "$status" -eq 1 ]
    # "message 3 of 3 " and at most 22 letters
    [[ $stderr == *"generated messages of -n 3 are at most 37 bytes long, the slots hold 16 (start shm/reader with -s 37)" ]]
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
}

# ---- the race, on purpose ----

@test "shm: -u, the unsynchronised writer: the reader counts what it missed, saw twice or torn" {
    start_reader -S 4
    run_t "$BIN/shm/writer" -u -n 5000
    [ "$status" -eq 0 ]
    has '^\[writer [0-9]+\] told the reader I am done; unsynchronised' <<<"$output"
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] the writer runs unsynchronised' "$OUT/reader.out"
    has '^\[reader [0-9]+\] received 5000 messages$' "$OUT/reader.out"
    # Whatever the race did, the counts add up: each of the 5000 slots read was
    # intact, a duplicate or corrupted; lost = 5000 - intact.
    read -r intact lost dup corrupt < <(sed -nE 's/.*checked: ([0-9]+) intact, ([0-9]+) lost, ([0-9]+) duplicated, [0-9]+ reordered, ([0-9]+) corrupted$/\1 \2 \3 \4/p' "$OUT/reader.out")
    [ -n "$intact" ]
    [ $((intact + dup + corrupt)) -eq 5000 ]
    [ $((intact + lost)) -eq 5000 ]
}

@test "shm: -u with more messages than slots: the reader sees the overwritten ring" {
    start_reader -S 2
    start_gated writer -u
    reader=$(hold_reader)
    feed_gate $'a\nb\nc\nd\ne\n'
    wait_for_line "$OUT/writer.out" 'detached the segment'
    kill -CONT "$reader"
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    # Slots 0 and 1 last held messages 5 (e) and 4 (d); the five announcements
    # lead the reader to slots 0 1 0 1 0: e d e d e.
    diff <(printf 'e\nd\ne\nd\ne\n') <(said)
    has '^\[reader [0-9]+\] checked: 2 intact, 3 lost, 3 duplicated, 1 reordered, 0 corrupted$' "$OUT/reader.out"
}

# ---- -v and -f ----

@test "shm: -v traces the system calls of both sides on stderr" {
    start_reader -v
    run_t "$BIN/shm/writer" -v hi
    [ "$status" -eq 0 ]
    has '^\[writer [0-9]+\] shmget\(0x[0-9a-f]{8}, 0, 0\) = [0-9]+$' <<<"$stderr"
    has '^\[writer [0-9]+\] shmat\([0-9]+, NULL, 0\) = 0x[0-9a-f]+$' <<<"$stderr"
    has '^\[writer [0-9]+\] open\(".*/shm-filled", O_WRONLY\|O_NONBLOCK\|O_CLOEXEC\|O_NOFOLLOW\) = [0-9]+$' <<<"$stderr"
    has '^\[writer [0-9]+\] fcntl\([0-9]+, F_SETFL, 0\) = 0$' <<<"$stderr"
    has '^\[writer [0-9]+\] read\([0-9]+, 1\) = 1$' <<<"$stderr"
    has '^\[writer [0-9]+\] write\([0-9]+, "F", 1\) = 1$' <<<"$stderr"
    has '^\[writer [0-9]+\] shmdt\(0x[0-9a-f]+\) = 0$' <<<"$stderr"
    has '^\[writer [0-9]+\] write\([0-9]+, "E", 1\) = 1$' <<<"$stderr"
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] shmget\(0x[0-9a-f]{8}, [0-9]+, IPC_CREAT\|IPC_EXCL\|0600\) = [0-9]+$' "$OUT/reader.err"
    has '^\[reader [0-9]+\] mkfifo\(".*/shm-filled", 0600\) = 0$' "$OUT/reader.err"
    has '^\[reader [0-9]+\] write\([0-9]+, "C" x 8, 8\) = 8$' "$OUT/reader.err"
    has '^\[reader [0-9]+\] write\([0-9]+, "C", 1\) = 1$' "$OUT/reader.err"
    has '^\[reader [0-9]+\] shmctl\([0-9]+, IPC_RMID\) = 0$' "$OUT/reader.err"
    no_line '"C" x|IPC_STAT' "$OUT/reader.out"
}

@test "shm: what the reader says it removed, it had removed: -v shows the unlinks first" {
    start_bg reader bash -c 'exec "$0" -v 2>&1' "$BIN/shm/reader"
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
    run_t "$BIN/shm/writer" hi
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -nE 'unlink\(".*/shm-(filled|free)"\) = 0$|removed the segment shmid [0-9]+ \(shmctl IPC_RMID\) and the two FIFOs$' "$OUT/reader.out" |
        sed -E 's/^([0-9]+):.*(unlink|removed).*/\2/' >"$OUT/order"
    diff <(printf 'unlink\nunlink\nremoved\n') "$OUT/order"
    # The same when a stop signal ends it.
    start_bg reader bash -c 'exec "$0" -v 2>&1' "$BIN/shm/reader"
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -nE 'open\(.*\) = -1 EINTR$|shmctl\([0-9]+, IPC_RMID\) = 0$|unlink\(".*/shm-(filled|free)"\) = 0$|caught SIGTERM while waiting: removed the segment and the FIFOs$' "$OUT/reader.out" |
        sed -E 's/^[0-9]+:\[reader [0-9]+\] ([a-z]+).*/\1/' >"$OUT/order"
    diff <(printf 'open\nshmctl\nunlink\nunlink\ncaught\n') "$OUT/order"
}

@test "shm: -f shows the segment as a mapping, not an fd, and the two FIFOs as fds" {
    start_reader -f
    run_t "$BIN/shm/writer" hi
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    key=$(ipc_key s)
    has "^\[reader [0-9]+\] after shmat\(\): mapping: [0-9a-f]+-[0-9a-f]+ rw-s .*/SYSV${key#0x}" "$OUT/reader.out"
    has "^\[reader [0-9]+\] after open\(\): fd [0-9]+ -> $IPC_DEMO_DIR/shm-filled$" "$OUT/reader.out"
    has "^\[reader [0-9]+\] after open\(\): fd [0-9]+ -> $IPC_DEMO_DIR/shm-free$" "$OUT/reader.out"
    no_line "fd [0-9]+ -> .*SYSV" "$OUT/reader.out"   # a segment is not a file descriptor
    has "^\[reader [0-9]+\] after shmdt\(\): mapping: none for /SYSV${key#0x}$" "$OUT/reader.out"
}
