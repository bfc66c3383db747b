#!/usr/bin/env bats
# shm/: System V shared memory, reader and writer synchronised through FIFOs.

load helpers

# ---- helpers of this file ----

# start NAME CMD...: start_bg, after removing NAME's output of an earlier run in
# this test (else a wait could match the old lines before the new run writes).
start() {
    rm -f "$OUT/$1.out" "$OUT/$1.err"
    start_bg "$@"
}

# start_reader [ARGS...]: shm/reader in the background, waiting for a writer.
start_reader() {
    start reader "$BIN/shm/reader" "$@"
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
}

# shm_line: our segment's line in `ipcs -m` (empty when there is none).
shm_line() {
    ipc_objects_for s
}

# shm_id: our segment's shmid, from ipcs, not from the programs.
shm_id() {
    shm_line | awk '{ print $2 }'
}

# shm_nattch: our segment's nattch, from ipcs.
shm_nattch() {
    shm_line | awk '{ print $6 }'
}

# pid_of NAME ROLE: the pid a program started as NAME prints in its first
# "[ROLE PID] " line (for a short-lived program, surer than scanning /proc).
pid_of() {
    wait_for_line "$OUT/$1.out" "^\[$2 [0-9]+\] " || return 1
    grep -m1 -oE "^\[$2 [0-9]+\]" "$OUT/$1.out" | tr -dc 0-9
}

# the messages the reader printed, one per line, without the prefix
said() {
    sed -nE 's/^\[reader [0-9]+\] shared memory says: //p' "$OUT/reader.out"
}

# absent REGEX FILE: no line of FILE matches (a bare `! grep` cannot fail a test).
absent() {
    if grep -qE -- "$1" "$2"; then
        echo "unexpected /$1/ in $2:" >&2
        grep -E -- "$1" "$2" >&2
        return 1
    fi
}

no_fifos_left() {
    [ ! -e "$IPC_DEMO_DIR/shm-filled" ] && [ ! -e "$IPC_DEMO_DIR/shm-free" ]
}

# ---- the conversation ----

@test "shm: writer with 3 messages -> the reader prints them in order; nothing left" {
    start_reader
    # The key the reader printed is ftok()'s key for our key file, and ipcs shows
    # the segment: mode 600, the reader alone attached.
    key=$(ipc_key s)
    grep -qE "^\[reader [0-9]+\] ftok\(\"$IPC_DEMO_DIR/key\", 's'\) = key $key$" "$OUT/reader.out"
    read -r k id _ perms bytes nattch _ < <(shm_line)
    [ "$k" = "$key" ] && [ "$perms" = 600 ] && [ "$nattch" = 1 ]
    grep -qE "^\[reader [0-9]+\] shmget\(key $key, $bytes bytes, IPC_CREAT\|IPC_EXCL\|0600\) = shmid $id$" "$OUT/reader.out"
    [ -p "$IPC_DEMO_DIR/shm-filled" ] && [ -p "$IPC_DEMO_DIR/shm-free" ]

    run_t "$BIN/shm/writer" "first message" second 'third, with a tab:	!'
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    grep -qE '^\[writer [0-9]+\] told the reader I am done; it took all 3 messages$' <<<"$output"
    wait_bg reader
    [ "$status" -eq 0 ]
    diff - <(said) <<'EXPECTED'
first message
second
third, with a tab:\x09!
EXPECTED
    grep -qE '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"
    [ -z "$(shm_line)" ]
    no_fifos_left
    [ ! -s "$OUT/reader.err" ]
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
    grep -qE '^\[reader [0-9]+\] received 4 messages$' "$OUT/reader.out"
}

@test "shm: -n 0 through one slot: no message, a clean end" {
    start_reader -S 1
    run_t "$BIN/shm/writer" -n 0
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -qE '^\[reader [0-9]+\] received 0 messages$' "$OUT/reader.out"
    grep -qE '^\[reader [0-9]+\] checked: 0 intact, 0 lost, 0 duplicated, 0 reordered, 0 corrupted$' "$OUT/reader.out"
}

# ---- 100000 messages, with either side slowed down ----

# stress SLOTS_OPTION...: 100000 generated messages, both sides stopped five
# times.  Each round: stop the reader; the writer fills the ring and blocks; stop
# the writer; resume the reader, which drains the ring and blocks; resume the
# writer.  The writer cannot finish while the reader is stopped, so no stop can
# come too late.  Every message must arrive once, in order.
stress() {
    local n=100000 reader writer mark
    start_reader "$@"
    reader=$(pid_of reader reader)
    start writer "$BIN/shm/writer" -n "$n"
    writer=$(pid_of writer writer)
    for mark in 5000 10000 15000 20000 25000; do
        wait_for_line "$OUT/reader.out" "says: message $mark of "
        kill -STOP "$reader"
        wait_until "the writer to block" in_state "$writer" S    # no free slot: in read()
        kill -STOP "$writer"
        kill -CONT "$reader"
        wait_until "the reader to block" in_state "$reader" S    # nothing filled: in read()
        kill -CONT "$writer"
    done
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -qE "^\[reader [0-9]+\] received $n messages$" "$OUT/reader.out"
    grep -qE "^\[reader [0-9]+\] checked: $n intact, 0 lost, 0 duplicated, 0 reordered, 0 corrupted$" "$OUT/reader.out"
    # Checked here too, not only by the reader: the numbers are 1..n in order.
    said | awk '{ print $2 }' >"$OUT/seqs"
    seq "$n" | cmp - "$OUT/seqs"
    [ ! -s "$OUT/reader.err" ] && [ ! -s "$OUT/writer.err" ]
}

@test "shm: -n 100000 through the default ring, reader and writer each slowed: all there" {
    stress
}

@test "shm: -n 100000 through one slot (-S 1), reader and writer each slowed: all there" {
    stress -S 1
}

# ---- signals and dead peers ----

@test "shm: SIGINT, SIGTERM or SIGHUP to the reader while it waits: segment and FIFOs removed" {
    for sig in INT TERM HUP; do
        start_reader
        [ -n "$(shm_line)" ]
        kill -"$sig" "$(pid_of reader reader)"
        wait_bg reader
        [ "$status" -eq 0 ]
        grep -qE "^\[reader [0-9]+\] caught SIG$sig while waiting: removing the segment and the FIFOs$" "$OUT/reader.out"
        [ -z "$(shm_line)" ]
        no_fifos_left
    done
}

@test "shm: SIGINT or SIGTERM to the reader mid-stream: nothing left, the writer says the reader is gone" {
    for sig in INT TERM; do
        start_reader
        start writer "$BIN/shm/writer" -d 20 $(seq 1000)
        wait_for_line "$OUT/reader.out" 'says: 3$'
        kill -"$sig" "$(pid_of reader reader)"
        wait_bg reader
        [ "$status" -eq 0 ]
        grep -qE "^\[reader [0-9]+\] caught SIG$sig after [0-9]+ messages" "$OUT/reader.out"
        wait_bg writer
        [ "$status" -eq 1 ]
        grep -q '^shm/writer: the reader is gone' "$OUT/writer.err"
        [ -z "$(shm_line)" ]
        no_fifos_left
    done
}

@test "shm: SIGKILL to the writer mid-stream: the reader reports it, exits 1, leaves nothing" {
    start_reader
    start writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -KILL "$(pid_of writer writer)"
    wait_bg reader
    [ "$status" -eq 1 ]
    grep -qE '^shm/reader: the writer vanished mid-stream after [0-9]+ messages' "$OUT/reader.err"
    [ -z "$(shm_line)" ]
    no_fifos_left
}

@test "shm: SIGINT to the writer mid-stream: it stops at once; the reader reports it, leaves nothing" {
    start_reader
    start writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -INT "$(pid_of writer writer)"
    wait_bg writer
    [ "$status" -eq 1 ]
    grep -qE '^shm/writer: caught SIGINT after [0-9]+ messages: stopping$' "$OUT/writer.err"
    wait_bg reader
    [ "$status" -eq 1 ]
    grep -qE '^shm/reader: the writer vanished mid-stream' "$OUT/reader.err"
    [ -z "$(shm_line)" ]
    no_fifos_left
}

@test "shm: SIGKILL to the reader: the next reader finds the stale segment, replaces it, works" {
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

    start_reader
    grep -qE "^\[reader [0-9]+\] found a stale segment: shmid $old, key $(ipc_key s), .*its creator \(pid [0-9]+\) is gone: removing it$" "$OUT/reader.out"
    grep -qE '^\[reader [0-9]+\] reusing 2 FIFOs left by an earlier run$' "$OUT/reader.out"
    [ "$(shm_id)" != "$old" ]
    run_t "$BIN/shm/writer" after
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = after ]
}

@test "shm: SIGKILL to the reader mid-stream: the writer exits 1; the leftover is recovered" {
    start_reader
    start writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    kill -KILL "$(pid_of reader reader)"
    wait_bg writer
    [ "$status" -eq 1 ]
    grep -q '^shm/writer: the reader is gone' "$OUT/writer.err"
    [ "$(shm_nattch)" = 0 ]
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    grep -qE '^\[reader [0-9]+\] removed segment shmid [0-9]+ ' <<<"$output"
    grep -qE "^\[reader [0-9]+\] removed FIFO $IPC_DEMO_DIR/shm-filled$" <<<"$output"
    grep -qE "^\[reader [0-9]+\] removed FIFO $IPC_DEMO_DIR/shm-free$" <<<"$output"
    [ -z "$(shm_line)" ]
    no_fifos_left
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    grep -qE '^\[reader [0-9]+\] nothing to clean up' <<<"$output"
}

@test "shm: a leftover still attached is not stale: refused with the exact ipcrm; --cleanup removes it" {
    start_reader
    start writer "$BIN/shm/writer" -d 20 $(seq 1000)
    wait_for_line "$OUT/reader.out" 'says: 3$'
    writer=$(pid_of writer writer)
    kill -STOP "$writer"                         # still attached, but stuck
    kill -KILL "$(pid_of reader reader)"
    wait_bg reader
    id=$(shm_id)
    [ "$(shm_nattch)" = 1 ]
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == *"already exists (shmid $id, "*"shm_nattch 1)"* ]]
    [[ $stderr == *"ipcrm -m $id"* ]]
    [ "$(shm_id)" = "$id" ]                      # refused, not touched
    run_t "$BIN/shm/reader" --cleanup
    [ "$status" -eq 0 ]
    grep -qE "^\[reader [0-9]+\] removed segment shmid $id .*shm_nattch 1" <<<"$output"
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
    grep -qE '^\[reader [0-9]+\] the existing segment has [0-9]+ bytes, fewer than the [0-9]+ this run needs: shmget\(key, [0-9]+, 0\) fails with EINVAL \(a size mismatch\)$' "$OUT/reader.out"
    grep -qE '^\[reader [0-9]+\] found a stale segment' "$OUT/reader.out"
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
}

@test "shm: two readers at once: the second refuses clearly and leaves the first alone" {
    start_reader
    id=$(shm_id)
    run_t "$BIN/shm/reader"
    [ "$status" -eq 1 ]
    [[ $stderr == "shm/reader: a segment for key $(ipc_key s) already exists (shmid $id, "* ]]
    [[ $stderr == *"still running: another shm/reader?"* ]]
    [[ $stderr == *"ipcrm -m $id"* ]]
    [ -p "$IPC_DEMO_DIR/shm-filled" ]
    run_t "$BIN/shm/writer" "still works"
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    [ "$(said)" = "still works" ]
}

@test "shm: two writers at once: the second refuses" {
    start_reader
    start writer "$BIN/shm/writer" -d 50 $(seq 40)
    wait_for_line "$OUT/reader.out" 'says: 1$'
    run_t "$BIN/shm/writer" intruder
    [ "$status" -eq 1 ]
    [[ $stderr == *"another shm/writer is already writing into this segment"* ]]
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

# ---- untrusted data ----

@test "shm: a slot header claiming too many bytes is reported and skipped, never followed" {
    start_reader -s 16
    SHM_TEST_BAD_LENGTH=2 run_t "$BIN/shm/writer" one two three
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 1 ]
    diff <(printf 'one\nthree\n') <(said)
    grep -qE '^shm/reader: message 2: invalid slot header \(sequence 2, length 1000016\): the slot header claims more bytes than a slot holds' "$OUT/reader.err"
    grep -qE '^\[reader [0-9]+\] received 3 messages$' "$OUT/reader.out"
}

@test "shm: a slot holding another message than announced is reported" {
    start_reader
    SHM_TEST_BAD_SEQ=3 run_t "$BIN/shm/writer" -n 5
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 1 ]
    grep -qE '^shm/reader: message 3: invalid slot header \(sequence 1003, length [0-9]+\): the slot holds another message' "$OUT/reader.err"
    grep -qE '^\[reader [0-9]+\] checked: 4 intact, 1 lost, 0 duplicated, 0 reordered, 1 corrupted$' "$OUT/reader.out"
}

@test "shm: a foreign segment at our key: the writer refuses it, the reader replaces it as stale" {
    command -v python3 >/dev/null || skip "python3 is needed to plant a foreign segment"
    mkdir -p "$IPC_DEMO_DIR" && chmod 700 "$IPC_DEMO_DIR" && : >"$IPC_DEMO_DIR/key"
    key=$(ipc_key s)
    python3 - "$key" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
shmid = libc.shmget(ctypes.c_int(int(sys.argv[1], 16) - (1 << 32) if int(sys.argv[1], 16) >= 1 << 31 else int(sys.argv[1], 16)),
                    ctypes.c_size_t(4096), ctypes.c_int(0o1000 | 0o2000 | 0o600))
sys.exit(0 if shmid >= 0 else 1)
PY
    [ -n "$(shm_line)" ]
    run_t "$BIN/shm/writer" hello
    [ "$status" -eq 1 ]
    [[ $stderr == *"is not a ring: no ring header (wrong magic number)"* ]]
    start_reader
    grep -qE '^\[reader [0-9]+\] found a stale segment' "$OUT/reader.out"
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
}

@test "shm: -n needs slots that hold a generated message" {
    start_reader -s 16
    run_t "$BIN/shm/writer" -n 3
    [ "$status" -eq 1 ]
    [[ $stderr == *"generated messages need up to 80 bytes, the slots hold 16"* ]]
    kill -TERM "$(pid_of reader reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
}

@test "shm: -n with MESSAGE operands is a usage error" {
    run_t "$BIN/shm/writer" -n 3 hello
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == "shm/writer: -n generates the messages"*"usage: shm/writer"* ]]
}

# ---- the race, on purpose ----

@test "shm: -u, the unsynchronised writer: the reader counts what it missed, saw twice or torn" {
    start_reader -S 4
    run_t "$BIN/shm/writer" -u -n 20000
    [ "$status" -eq 0 ]
    grep -qE '^\[writer [0-9]+\] unsynchronised \(-u\)' <<<"$output"
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -qE '^\[reader [0-9]+\] the writer runs unsynchronised' "$OUT/reader.out"
    grep -qE '^\[reader [0-9]+\] received 20000 messages$' "$OUT/reader.out"
    # Whatever the race did, the counts add up: each of the 20000 slots read was
    # intact, a duplicate or corrupted; lost = 20000 - intact.
    read -r intact lost dup corrupt < <(sed -nE 's/.*checked: ([0-9]+) intact, ([0-9]+) lost, ([0-9]+) duplicated, [0-9]+ reordered, ([0-9]+) corrupted$/\1 \2 \3 \4/p' "$OUT/reader.out")
    [ -n "$intact" ]
    [ $((intact + dup + corrupt)) -eq 20000 ]
    [ $((intact + lost)) -eq 20000 ]
}

@test "shm: -u with more messages than slots: the reader sees the overwritten ring" {
    start_reader -S 2
    reader=$(pid_of reader reader)
    # The writer reads its messages from a gate we hold: it connects, then
    # waits for lines while we stop the reader; then it writes them all.
    mkfifo "$OUT/gate"
    # shellcheck disable=SC2016 # $0 and $1 are the inner shell's
    start writer bash -c 'exec "$0" -u <"$1"' "$BIN/shm/writer" "$OUT/gate"
    exec 5>"$OUT/gate"
    wait_for_line "$OUT/writer.out" 'connected'
    kill -STOP "$reader"
    printf 'a\nb\nc\nd\ne\n' >&5
    exec 5>&-
    rm "$OUT/gate"
    wait_for_line "$OUT/writer.out" 'shmdt'
    kill -CONT "$reader"
    wait_bg writer
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    # Slots 0 and 1 last held messages 5 (e) and 4 (d); the five announcements
    # lead the reader to slots 0 1 0 1 0: e d e d e.
    diff <(printf 'e\nd\ne\nd\ne\n') <(said)
    grep -qE '^\[reader [0-9]+\] checked: 2 intact, 3 lost, 3 duplicated, 1 reordered, 0 corrupted$' "$OUT/reader.out"
}

# ---- -v and -f ----

@test "shm: -v traces the system calls of both sides on stderr" {
    start_reader -v
    run_t "$BIN/shm/writer" -v hi
    [ "$status" -eq 0 ]
    grep -qE '^\[writer [0-9]+\] shmget\(0x[0-9a-f]{8}, 0, 0\) = [0-9]+$' <<<"$stderr"
    grep -qE '^\[writer [0-9]+\] shmat\([0-9]+, NULL, 0\) = 0x[0-9a-f]+$' <<<"$stderr"
    grep -qE '^\[writer [0-9]+\] open\(".*/shm-filled", O_WRONLY\|O_NONBLOCK\) = [0-9]+$' <<<"$stderr"
    grep -qE '^\[writer [0-9]+\] write\([0-9]+, "F" x 1\) = 1$' <<<"$stderr"
    grep -qE '^\[writer [0-9]+\] write\([0-9]+, "E" x 1\) = 1$' <<<"$stderr"
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -qE '^\[reader [0-9]+\] shmget\(0x[0-9a-f]{8}, [0-9]+, IPC_CREAT\|IPC_EXCL\|0600\) = [0-9]+$' "$OUT/reader.err"
    grep -qE '^\[reader [0-9]+\] write\([0-9]+, "C" x 8\) = 8$' "$OUT/reader.err"
    grep -qE '^\[reader [0-9]+\] shmctl\([0-9]+, IPC_RMID\) = 0$' "$OUT/reader.err"
    absent '"C" x|IPC_STAT' "$OUT/reader.out"
}

@test "shm: -f shows the segment as a mapping, not an fd, and the two FIFOs as fds" {
    start_reader -f
    run_t "$BIN/shm/writer" hi
    [ "$status" -eq 0 ]
    wait_bg reader
    [ "$status" -eq 0 ]
    key=$(ipc_key s)
    grep -qE "^\[reader [0-9]+\] after shmat\(\): mapping: [0-9a-f]+-[0-9a-f]+ rw-s .*/SYSV${key#0x}" "$OUT/reader.out"
    grep -qE "^\[reader [0-9]+\] after open\(\): fd [0-9]+ -> $IPC_DEMO_DIR/shm-filled$" "$OUT/reader.out"
    grep -qE "^\[reader [0-9]+\] after open\(\): fd [0-9]+ -> $IPC_DEMO_DIR/shm-free$" "$OUT/reader.out"
    absent "fd [0-9]+ -> .*SYSV" "$OUT/reader.out"   # a segment is not a file descriptor
    grep -qE "^\[reader [0-9]+\] after shmdt\(\): mapping: none for /SYSV${key#0x}$" "$OUT/reader.out"
}
