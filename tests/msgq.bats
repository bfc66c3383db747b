#!/usr/bin/env bats
# msgq/: a System V message queue, one server, typed replies for many clients.
# The long cases (4 clients x 500 messages, 24 clients filling the queue for
# real) are in tests/stress/msgq.bats; here, a smaller proof of each.

load helpers

# start_server [ARGS...]: msgq/server in the background, ready for requests.
# KEY: this test's key, once the server made the key file.
start_server() {
    start_bg server "$BIN/msgq/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for requests'
    KEY=$(ipc_key q)
}

# stop_server: a shutdown request from a client; the server must end with 0.
stop_server() {
    run_t "$BIN/msgq/client" -q
    [ "$status" -eq 0 ]
    has '^\[client [0-9]+\] asked the server to shut down$' <<<"$output"
    wait_bg server
    [ "$status" -eq 0 ]
}

# our_queue: the ipcs -q line of this test's queue, empty when there is none
# (the key is computed once, when the key file is there).
our_queue() {
    local line
    [[ -n ${KEY:-} ]] || KEY=$(ipc_key q) || return 0
    while read -r line; do
        [[ ${line,,} == "${KEY,,} "* ]] && echo "$line"
    done < <(ipcs -q)
    return 0
}

# msqid_of_test: the id of this test's queue, from ipcs.
msqid_of_test() {
    local line
    line=$(our_queue)
    read -r _ line _ <<<"$line"
    echo "$line"
}

# messages_in_queue: how many messages wait in this test's queue.
messages_in_queue() {
    local line
    line=$(our_queue)
    read -r _ _ _ _ _ line _ <<<"$line"
    echo "$line"
}

# queue_holds N: at least N messages wait in this test's queue.
queue_holds() {
    local n
    n=$(messages_in_queue)
    [[ -n $n && $n -ge $1 ]]
}

# no_queue_left: neither the queue nor the server's record remains.
no_queue_left() {
    [ -z "$(our_queue)" ]
    [ ! -e "$IPC_DEMO_DIR/msgq.owner" ]
}

# replies FILE: the texts of the reply lines in FILE, in order.
replies() {
    sed -nE 's/^\[client [0-9]+\] reply: //p' "$1"
}

# send_raw TYPE KIND PID SEQ TEXT [WAIT_REPLY]: put one hand-made message into
# the queue (perl's msgsnd), bypassing msgq/client; with WAIT_REPLY, wait for
# the message of type PID and print "TYPE KIND PID RUN SEQ TEXTLEN".
# The layout is msgq/msgq.h's: long mtype; int32 kind, pid; uint64 run;
# uint32 seq; text.
send_raw() {
    timeout "$T" perl -e '
        my ($key, $type, $kind, $pid, $seq, $text, $wait) = @ARGV;
        my $id = msgget(hex($key), 0) // die "msgget: $!\n";
        my $body = length($kind) ? pack("l l Q L", $kind, $pid, 77, $seq) . $text : $text;
        msgsnd($id, pack("l!", $type) . $body, 0) or die "msgsnd: $!\n";
        exit 0 unless $wait;
        msgrcv($id, my $buf, 8192, $pid, 0) or die "msgrcv: $!\n";
        my ($t, $k, $p, $r, $s) = unpack("l! l l Q L", $buf);
        print join(" ", $t, $k, $p, $r, $s, length($buf) - 28), "\n";
    ' "$KEY" "$@"
}

# ---- the conversation ----

@test "msgq: requests and replies typed by the client's pid; the key, the limits, the record; -d; -q" {
    start_server
    msqid=$(msqid_of_test)
    [ -n "$msqid" ]
    has -x "\[server [0-9]+\] key $KEY, from the file $IPC_DEMO_DIR/key and the project id 'q'" "$OUT/server.out"
    has -x "\[server [0-9]+\] created message queue msqid $msqid \(mode 0600\); my pid and start time are on record in $IPC_DEMO_DIR/msgq.owner" "$OUT/server.out"
    [ "$(our_queue | awk '{ print $4 }')" = 600 ]
    # msg_qbytes of a new queue is msgmnb; msgmax comes from msgctl(IPC_INFO).
    has "limits: msg_qbytes $(cat /proc/sys/kernel/msgmnb) bytes in the queue, msgmax $(cat /proc/sys/kernel/msgmax) bytes per message" "$OUT/server.out"
    read -r pid start id <"$IPC_DEMO_DIR/msgq.owner"
    [ "$pid" = "$(bg_child server)" ]
    [ "$id" = "$msqid" ]

    # -d 50 before each of 3 messages: at least 150 ms.
    start=$(date +%s%N)
    run_t "$BIN/msgq/client" -d 50 hello "two words" ""
    [ "$status" -eq 0 ]
    (( ($(date +%s%N) - start) / 1000000 >= 150 ))
    [ -z "$stderr" ]
    cpid=$(first_pid client <(echo "$output"))
    has -x "\[client $cpid\] queue $msqid of msgq/server $pid: my requests go in as type 1, my replies come back as type $cpid" <<<"$output"
    diff - <(grep -E '(sent|reply): ' <<<"$output" | strip_pids) <<EXPECTED
[client] sent: hello
[client] reply: HELLO
[client] sent: two words
[client] reply: TWO WORDS
[client] sent: 
[client] reply: 
EXPECTED
    diff - <(grep -E 'request from' "$OUT/server.out" | strip_pids) <<EXPECTED
[server] request from client $cpid: hello
[server] request from client $cpid: two words
[server] request from client $cpid: 
EXPECTED
    # Text that is not printable is shown escaped, on both sides; then -q.
    run_t "$BIN/msgq/client" -q $'tab\there\001\377 back\\slash'
    [ "$status" -eq 0 ]
    cpid=$(first_pid client <(echo "$output"))
    diff - <(strip_pids <<<"$output" | tail -n +2) <<'EXPECTED'
[client] sent: tab\x09here\x01\xff back\\slash
[client] reply: TAB\x09HERE\x01\xff BACK\\SLASH
[client] asked the server to shut down
[client] the server is shutting down and removes the queue
EXPECTED
    wait_bg server
    [ "$status" -eq 0 ]
    diff - <(tail -n 4 "$OUT/server.out" | strip_pids) <<EXPECTED
[server] request from client $cpid: tab\\x09here\\x01\\xff back\\\\slash
[server] shutdown requested by client $cpid
[server] served 4 requests
[server] removed the queue (msgctl IPC_RMID): msqid $msqid is gone
EXPECTED
    no_queue_left
}

@test "msgq/client: stdin lines; a line too long is refused (exit 1), a MESSAGE too long is a usage error (exit 2)" {
    start_server
    max=$(printf '%01024d' 0 | tr 0 m)
    # 1024 bytes go; 1025, or 5000 (longer than a line buffer), do not; a last
    # line without a newline does.
    { echo first; echo "${max}x"; printf '%05000d\n' 0; echo "$max"; printf 'last'; } >"$OUT/in"
    run_t "$BIN/msgq/client" <"$OUT/in"
    [ "$status" -eq 1 ]
    diff - <(echo "$stderr") <<EXPECTED
msgq/client: message 2 is 1025 bytes, more than the 1024 a message carries: not sent
msgq/client: message 3 is 5000 bytes, more than the 1024 a message carries: not sent
EXPECTED
    diff <(printf 'FIRST\n%s\nLAST\n' "${max^^}") <(replies <(echo "$output"))
    # An argument that can never be sent: nothing is sent at all.
    run_t "$BIN/msgq/client" short "${max}x"
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    diff - <(echo "$stderr") <<EXPECTED
msgq/client: MESSAGE 2 is 1025 bytes long: a message carries at most 1024
usage: msgq/client [-q] [-d MS] [-v] [MESSAGE...]
EXPECTED
    stop_server
    [ "$(grep -c 'request from' "$OUT/server.out")" -eq 3 ]
}

@test "msgq: 3 concurrent clients x 40 messages each get all their own replies, no other" {
    start_server
    for c in 1 2 3; do
        for i in $(seq 40); do echo "client $c message $i"; done >"$OUT/in$c"
    done
    for c in 1 2 3; do
        start_bg_in "c$c" "$OUT/in$c" "$BIN/msgq/client"
    done
    for c in 1 2 3; do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff <(tr a-z A-Z <"$OUT/in$c") -
        # Every line of this client carries one pid, its own; the server took
        # its 40 requests from that pid.
        [ "$(grep -oE '^\[client [0-9]+\]' "$OUT/c$c.out" | sort -u | wc -l)" -eq 1 ]
        [ "$(grep -c "request from client $(first_pid client "$OUT/c$c.out"): client $c message" "$OUT/server.out")" -eq 40 ]
    done
    stop_server
    no_queue_left
}

@test "msgq: a queue full of long requests, more clients blocked in msgsnd(): nobody deadlocks" {
    # 18 requests of 1000 bytes do not fit in msg_qbytes (16384): with the
    # server stopped, 16 fill the queue and the last clients block in msgsnd().
    # Continued, the server must keep replies aside rather than block.
    start_server
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    long=$(printf '%01000d' 0 | tr 0 x)
    for c in $(seq 18); do
        start_bg "c$c" "$BIN/msgq/client" "$c $long" "$c again"
        printf '%s\n' "$c ${long^^}" "$c AGAIN" >>"$OUT/want"
    done
    wait_until "the queue to fill" queue_holds 16
    kill -CONT "$spid"
    for c in $(seq 18); do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
    done
    # Each client got its two replies, in order.
    cat "$OUT"/c{1..18}.out | sed -nE 's/^\[client [0-9]+\] reply: //p' | diff "$OUT/want" -
    stop_server
    no_queue_left
}

@test "msgq -v: every queue call traced on stderr with its flags, stdout unchanged" {
    start_server -v
    msqid=$(msqid_of_test)
    has -x "\[server [0-9]+\] msgget\($KEY, IPC_CREAT\|IPC_EXCL\|0600\) = $msqid" "$OUT/server.err"
    has -x "\[server [0-9]+\] msgctl\($msqid, IPC_STAT\) = 0" "$OUT/server.err"
    run_t "$BIN/msgq/client" -v hi
    [ "$status" -eq 0 ]
    cpid=$(first_pid client <(echo "$output"))
    has -xF "[client $cpid] ftok(\"$IPC_DEMO_DIR/key\", 'q') = $((KEY))" <<<"$stderr"
    has -x "\[client $cpid\] msgget\($KEY, 0\) = $msqid" <<<"$stderr"
    has -x "\[client $cpid\] msgsnd\($msqid, type 1, 22, 0\) = 0" <<<"$stderr"
    has -x "\[client $cpid\] msgrcv\($msqid, type $cpid, MSG_NOERROR\) = 22" <<<"$stderr"
    [[ $output != *' = '* ]]
    stop_server
    has -x "\[server [0-9]+\] msgrcv\($msqid, type 1, MSG_NOERROR\) = 22" "$OUT/server.err"
    has -x "\[server [0-9]+\] msgsnd\($msqid, type $cpid, 22, IPC_NOWAIT\) = 0" "$OUT/server.err"
    has -x "\[server [0-9]+\] msgctl\($msqid, IPC_RMID\) = 0" "$OUT/server.err"
    # The tick's interrupted calls are left out, as -h says.
    ! grep -q 'EINTR' "$OUT/server.err"
    "$BIN/msgq/server" -h | has -F 'left out: the msgrcv()'
}

# ---- untrusted messages ----

@test "msgq: the server survives malformed messages and refuses an over-long one; a client ignores a stale reply" {
    start_server
    send_raw 1 "" 0 0 "abc"                     # 3 bytes: shorter than the header
    send_raw 1 1 1 1 "from pid 1"               # a reply would need type 1
    send_raw 1 99 $$ 1 "what kind?"             # unknown kind
    # An over-long request, sent around the client: refused, and answered.
    run send_raw 1 1 $$ 9 "$(printf '%02000d' 0)" wait
    [ "$status" -eq 0 ]
    [ "$output" = "$$ 4 $$ 77 9 0" ]            # type $$, MSGQ_REFUSED, run and seq echoed
    wait_for_line "$OUT/server.out" "request from client $$ refused: longer than 1024 bytes"
    has '^\[server [0-9]+\] ignored a malformed message: 3 bytes, shorter than the 20-byte header$' "$OUT/server.out"
    has '^\[server [0-9]+\] ignored a message claiming to come from pid 1$' "$OUT/server.out"
    has "^\[server [0-9]+\] ignored a message of unknown kind 99 from client $$\$" "$OUT/server.out"

    # A reply left for an earlier process with the same pid carries another
    # run stamp: one is planted for a client that reads stdin, sent to its
    # pid before its first request.
    mkfifo "$OUT/feed"
    exec 4<>"$OUT/feed"                         # read-write: never blocks
    start_bg_in client "$OUT/feed" "$BIN/msgq/client" 4>&-
    wait_for_line "$OUT/client.out" 'my replies come back as type'
    cpid=$(bg_child client)
    send_raw "$cpid" 3 "$cpid" 1 "STALE"
    echo fresh >&4
    exec 4>&-
    wait_bg client
    [ "$status" -eq 0 ]
    [ "$(replies "$OUT/client.out")" = FRESH ]
    has -xF "msgq/client: ignored a stale reply, left for an earlier process with pid $cpid" "$OUT/client.err"
    rm -f "$OUT/feed"
    stop_server
    no_queue_left
}

# ---- peers missing, stopped or killed ----

@test "msgq/client without a server: exit 1, and no queue created" {
    run_t "$BIN/msgq/client" hello
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "msgq/client: no message queue with key $(ipc_key q): No such file or directory (start msgq/server first)" ]
    [ -z "$(our_queue)" ]
    run_t "$BIN/msgq/client" -q
    [ "$status" -eq 1 ]
    [ -z "$(our_queue)" ]
}

@test "msgq/server on SIGINT, SIGTERM, SIGHUP: queue removed, exit 0; a waiting client is told" {
    for sig in INT TERM HUP; do
        start_server -d 10000                   # slow to take requests out
        start_bg client "$BIN/msgq/client" hello
        wait_for_line "$OUT/client.out" 'sent: hello'
        kill -"$sig" "$(bg_child server)"
        wait_bg server
        [ "$status" -eq 0 ]
        has -x "\[server [0-9]+\] caught SIG$sig: stopping" "$OUT/server.out"
        has '^\[server [0-9]+\] removed the queue' "$OUT/server.out"
        no_queue_left
        wait_bg client
        [ "$status" -eq 1 ]
        [ "$(cat "$OUT/client.err")" = 'msgq/client: the queue was removed while waiting for a reply: msgq/server stopped' ]
    done
}

@test "msgq/server | head -3: once its output is gone it stops and removes its queue (exit 1)" {
    start_bg server bash -c '"$1" | head -3; exit "${PIPESTATUS[0]}"' _ "$BIN/msgq/server"
    wait_bg server
    [ "$status" -eq 1 ]
    [ "$(wc -l <"$OUT/server.out")" -eq 3 ]
    [ "$(cat "$OUT/server.err")" = "msgq/server: standard output is gone (a closed pipe?): stopped, the queue is removed" ]
    no_queue_left
}

@test "msgq: a client killed while waiting, reaped or still a zombie: the server drops its reply" {
    # The server is stopped while the clients send, and continued once both
    # are killed: one reaped, one a zombie (its parent, sleep, never waits).
    start_server
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    start_bg reaped "$BIN/msgq/client" orphan
    start_bg zombie sh -c '"$1" zombie >"$2" & exec sleep 60' _ "$BIN/msgq/client" "$OUT/z.out"
    wait_for_line "$OUT/reaped.out" 'sent: orphan'
    wait_for_line "$OUT/z.out" 'sent: zombie'
    rpid=$(first_pid client "$OUT/reaped.out") zpid=$(first_pid client "$OUT/z.out")
    kill -KILL "$rpid" "$zpid"
    wait_bg reaped
    wait_until "client $zpid to be a zombie" in_state "$zpid" Z
    kill -CONT "$spid"
    # A request after theirs: once it is answered, theirs were handled.
    run_t "$BIN/msgq/client" after
    [ "$status" -eq 0 ]
    has -x "\[server [0-9]+\] client $rpid is gone: reply dropped" "$OUT/server.out"
    has -x "\[server [0-9]+\] client $zpid is gone: reply dropped" "$OUT/server.out"
    [ "$(messages_in_queue)" = 0 ]              # no reply left for nobody
    stop_server
    no_queue_left
}

# ---- what a killed server leaves ----

@test "msgq: server killed with SIGKILL: a waiting client notices, the next server removes the stale queue" {
    start_server -d 10000
    start_bg client "$BIN/msgq/client" hello
    wait_for_line "$OUT/client.out" 'sent: hello'
    spid=$(bg_child server)
    msqid=$(msqid_of_test)
    kill -KILL "$spid"
    wait_bg server
    # The waiting client must not hang: it notices the server is gone.
    wait_bg client
    [ "$status" -eq 1 ]
    left="msgq/client: msgq/server $spid is gone (killed?): its queue $msqid is left over, with 1 message; the next msgq/server removes it"
    [ "$(cat "$OUT/client.err")" = "$left" ]
    # The queue outlived its creator: it lives in the kernel.
    [ "$(msqid_of_test)" = "$msqid" ]
    run_t "$BIN/msgq/client" again
    [ "$status" -eq 1 ]
    [ "$stderr" = "$left" ]
    # The next server proves it stale (ours, its server gone) and replaces it.
    start_server
    diff - <(sed -n 2,3p "$OUT/server.out" | strip_pids) <<EXPECTED
[server] message queue $msqid (key $KEY) was left by a killed run (its creator, pid $spid, is gone; nobody uses it): removing it
[server] removed message queue $msqid, 1 message left in it
EXPECTED
    [ "$(msqid_of_test)" != "$msqid" ]
    run_t "$BIN/msgq/client" works
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = WORKS ]
    stop_server
    no_queue_left
}

@test "msgq/server --cleanup, or a second server: a live server's queue stays; a killed one's goes, with its record" {
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 0 ]
    has -x "\[server [0-9]+\] nothing to clean up: no queue with key $(ipc_key q), no record of a server that is gone" <<<"$output"
    start_server
    spid=$(bg_child server)
    msqid=$(msqid_of_test)
    in_use="message queue $msqid (key $KEY) is in use: its creator, pid $spid, is still running.  Stop it first: kill $spid"
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/server: $in_use" ]
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/server: $in_use" ]
    run_t "$BIN/msgq/client" "first still serves"
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = "FIRST STILL SERVES" ]
    kill -KILL "$spid"
    wait_bg server
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 0 ]
    diff - <(strip_pids <<<"$output") <<EXPECTED
[server] message queue $msqid (key $KEY) was left by a killed run (its creator, pid $spid, is gone; nobody uses it): removing it
[server] removed message queue $msqid, 0 messages left in it
[server] removed the record of msgq/server $spid, which is gone: $IPC_DEMO_DIR/msgq.owner
EXPECTED
    no_queue_left
}

@test "msgq/server refuses a leftover that is not provably stale, with the exact ipcrm command" {
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    msqid=$(msqid_of_test)
    rm "$IPC_DEMO_DIR/msgq.owner"               # nothing proves who made it now
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    diff - <(echo "$stderr") <<EXPECTED
msgq/server: message queue $msqid (key $KEY) has no msgq/server on record in $IPC_DEMO_DIR/msgq.owner: nothing proves it stale, so it is not touched.
If no msgq/server is running, remove it with: ipcrm -q $msqid
EXPECTED
    run_t "$BIN/msgq/server" --cleanup          # the same verdict
    [ "$status" -eq 1 ]
    [ "$(msqid_of_test)" = "$msqid" ]
    # The command it prints does the job.
    ${stderr##*remove it with: }
    [ -z "$(our_queue)" ]
    # A queue with our key but another mode is not ours.
    timeout "$T" perl -e 'msgget(hex($ARGV[0]), 01000 | 0644) // die "msgget: $!\n"' "$KEY"
    msqid=$(msqid_of_test)
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    diff - <(echo "$stderr") <<EXPECTED
msgq/server: message queue $msqid (key $KEY) is not ours (another user, or another mode than 0600): not touched.
If it is yours to remove: ipcrm -q $msqid
EXPECTED
    ${stderr##*to remove: }
    [ -z "$(our_queue)" ]
}

@test "msgq/server refuses a file at its record's path that is not a record of ours, and creates nothing" {
    mkdir -p "$IPC_DEMO_DIR"
    chmod 700 "$IPC_DEMO_DIR"
    for planted in "not a record" "1234 56 7 trailing"; do
        echo "$planted" >"$IPC_DEMO_DIR/msgq.owner"
        run_t "$BIN/msgq/server"
        [ "$status" -eq 1 ]
        [ "$stderr" = "msgq/server: $IPC_DEMO_DIR/msgq.owner is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)" ]
        [ "$(cat "$IPC_DEMO_DIR/msgq.owner")" = "$planted" ]
        [[ $output != *created* && $output != *removed* ]]
        [ -z "$(our_queue)" ]
    done
    # A symbolic link there is neither followed nor replaced.
    rm "$IPC_DEMO_DIR/msgq.owner"
    ln -s "$OUT/elsewhere" "$IPC_DEMO_DIR/msgq.owner"
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 1 ]
    [ -L "$IPC_DEMO_DIR/msgq.owner" ] && [ ! -e "$OUT/elsewhere" ]
    rm "$IPC_DEMO_DIR/msgq.owner"
}
