#!/usr/bin/env bats
# msgq/: a System V message queue, one server, typed replies for many clients.

load helpers

# start_server [ARGS...]: msgq/server in the background, ready for requests.
start_server() {
    start_bg server "$BIN/msgq/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for requests'
}

# start_bg_in NAME FILE CMD...: start_bg with stdin from FILE, opened by the
# job itself (a background job's stdin is otherwise /dev/null).
start_bg_in() {
    local name=$1 file=$2
    shift 2
    start_bg "$name" bash -c 'exec "$@" <"$0"' "$file" "$@"
}

# stop_server: a shutdown request from a client; the server must end with 0.
stop_server() {
    run_t "$BIN/msgq/client" -q
    [ "$status" -eq 0 ]
    grep -qE '^\[client [0-9]+\] asked the server to shut down$' <<<"$output"
    wait_bg server
    [ "$status" -eq 0 ]
}

# queue_ready: the server has created its queue and written its record.
queue_ready() {
    [[ -s $IPC_DEMO_DIR/msgq.pid && -n $(our_queue) ]]
}

# our_queue: the ipcs -q line of this test's queue, empty when there is none.
our_queue() {
    local key
    key=$(ipc_key q) || return 0
    ipcs -q | grep -i -- "^$key " || true
}

# msqid_of_test: the id of this test's queue, from ipcs.
msqid_of_test() {
    our_queue | awk '{ print $2 }'
}

# no_queue_left: neither the queue nor the server's record remains.
no_queue_left() {
    [ -z "$(our_queue)" ]
    [ ! -e "$IPC_DEMO_DIR/msgq.pid" ]
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
    ' "$(ipc_key q)" "$@"
}

# ---- the conversation ----

@test "msgq: a request and its reply, typed by the client's pid" {
    start_server
    run_t "$BIN/msgq/client" hello "two words" ""
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    cpid=$(grep -oE '^\[client [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)
    [ -n "$cpid" ]
    grep -qE "^\[client $cpid\] queue [0-9]+ of msgq/server [0-9]+: my requests go in as type 1, my replies come back as type $cpid$" <<<"$output"
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
    stop_server
    grep -qE '^\[server [0-9]+\] shutdown requested by client [0-9]+$' "$OUT/server.out"
    grep -qE '^\[server [0-9]+\] served 3 requests$' "$OUT/server.out"
    grep -qE '^\[server [0-9]+\] removed the queue \(msgctl IPC_RMID\)' "$OUT/server.out"
    no_queue_left
}

@test "msgq/server prints the key, the msqid, msg_qbytes and the system's msgmax" {
    start_server
    key=$(ipc_key q)
    msqid=$(msqid_of_test)
    [ -n "$msqid" ]
    grep -qE "^\[server [0-9]+\] key $key: ftok\(\"$IPC_DEMO_DIR/key\", 'q'\)$" "$OUT/server.out"
    grep -qE "^\[server [0-9]+\] created message queue msqid $msqid \(mode 0600\)" "$OUT/server.out"
    # ipcs agrees on the owner's mode; msg_qbytes of a new queue is msgmnb.
    [ "$(our_queue | awk '{ print $4 }')" = 600 ]
    grep -qE "limits: msg_qbytes $(cat /proc/sys/kernel/msgmnb) bytes in the queue, msgmax $(cat /proc/sys/kernel/msgmax) bytes per message" "$OUT/server.out"
    # The record names this server and this queue.
    read -r pid start id <"$IPC_DEMO_DIR/msgq.pid"
    [ "$pid" = "$(bg_child server)" ]
    [ "$id" = "$msqid" ]
    stop_server
    no_queue_left
}

@test "msgq/client reads stdin lines when given no message" {
    start_server
    printf 'one\ntwo\nlast without newline' >"$OUT/in"
    run_t "$BIN/msgq/client" <"$OUT/in"
    [ "$status" -eq 0 ]
    diff <(printf 'ONE\nTWO\nLAST WITHOUT NEWLINE\n') <(replies <(echo "$output"))
    stop_server
}

@test "msgq: 4 concurrent clients x 500 messages each get all their own replies, no other" {
    start_server
    for c in 1 2 3 4; do
        for i in $(seq 500); do echo "client $c message $i"; done >"$OUT/in$c"
        awk '{ print toupper($0) }' "$OUT/in$c" >"$OUT/want$c"
    done
    for c in 1 2 3 4; do
        start_bg_in "c$c" "$OUT/in$c" "$BIN/msgq/client"
    done
    for c in 1 2 3 4; do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff "$OUT/want$c" -
        # Every line of this client carries one pid: its own.
        [ "$(grep -oE '^\[client [0-9]+\]' "$OUT/c$c.out" | sort -u | wc -l)" -eq 1 ]
    done
    [ "$(grep -cE '^\[server [0-9]+\] request from client [0-9]+: client [1-4] message [0-9]+$' "$OUT/server.out")" -eq 2000 ]
    # ... 500 from each client's pid.
    for c in 1 2 3 4; do
        cpid=$(head -1 "$OUT/c$c.out" | grep -oE '^\[client [0-9]+\]' | tr -dc 0-9)
        [ "$(grep -c "request from client $cpid: client $c message" "$OUT/server.out")" -eq 500 ]
    done
    stop_server
    no_queue_left
}

@test "msgq: 24 clients with long messages fill the queue, and nobody deadlocks" {
    # 24 requests of 1000 bytes do not fit in msg_qbytes (16384): the server
    # must keep replies aside rather than block with the queue full of requests.
    start_server
    long=$(printf '%01000d' 0 | tr 0 x)
    for c in $(seq 24); do
        for i in $(seq 10); do echo "$c.$i $long"; done >"$OUT/in$c"
        start_bg_in "c$c" "$OUT/in$c" "$BIN/msgq/client"
    done
    for c in $(seq 24); do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff <(tr x X <"$OUT/in$c") -
    done
    stop_server
    no_queue_left
}

@test "msgq: -q after messages: the replies, then the server shuts down" {
    start_server
    run_t "$BIN/msgq/client" -q last words
    [ "$status" -eq 0 ]
    diff <(printf 'LAST\nWORDS\n') <(replies <(echo "$output"))
    tail -1 <<<"$output" | grep -qE '^\[client [0-9]+\] the server is shutting down and removes the queue$'
    wait_bg server
    [ "$status" -eq 0 ]
    no_queue_left
}

@test "msgq/client -d paces the messages" {
    start_server
    start=$(date +%s%N)
    run_t "$BIN/msgq/client" -d 200 a b c
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 600 ]
    stop_server
}

@test "msgq -v: every queue call traced on stderr, stdout unchanged" {
    start_bg server "$BIN/msgq/server" -v
    wait_for_line "$OUT/server.out" 'waiting for requests'
    key=$(ipc_key q)
    msqid=$(msqid_of_test)
    grep -qE "^\[server [0-9]+\] msgget\($key, IPC_CREAT\|IPC_EXCL\|0600\) = $msqid$" "$OUT/server.err"
    run_t "$BIN/msgq/client" -v hi
    [ "$status" -eq 0 ]
    cpid=$(grep -oE '^\[client [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)
    grep -qE "^\[client $cpid\] msgget\($key, 0\) = $msqid$" <<<"$stderr"
    grep -qE "^\[client $cpid\] msgsnd\($msqid, type 1, 22\) = 0$" <<<"$stderr"
    grep -qE "^\[client $cpid\] msgrcv\($msqid, type $cpid\) = 22$" <<<"$stderr"
    [[ $output != *' = '* ]]
    stop_server
    grep -qE "^\[server [0-9]+\] msgrcv\($msqid, type 1\) = 22$" "$OUT/server.err"
    grep -qE "^\[server [0-9]+\] msgsnd\($msqid, type $cpid, 22, IPC_NOWAIT\) = 0$" "$OUT/server.err"
    grep -qE "^\[server [0-9]+\] msgctl\($msqid, IPC_RMID\) = 0$" "$OUT/server.err"
}

# ---- limits and untrusted messages ----

@test "msgq/client refuses a message longer than 1024 bytes and sends the others" {
    start_server
    max=$(printf '%01024d' 0 | tr 0 m)
    run_t "$BIN/msgq/client" short "${max}x" "$max" after
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/client: message 2 is 1025 bytes, more than the 1024 a message carries: not sent" ]
    diff <(printf 'SHORT\n%s\nAFTER\n' "${max^^}") <(replies <(echo "$output"))
    [ "$(grep -c 'request from' "$OUT/server.out")" -eq 3 ]
    # The same for a line of stdin, however long.
    { echo first; printf '%05000d\n' 0; echo third; } >"$OUT/in"
    run_t "$BIN/msgq/client" <"$OUT/in"
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/client: message 2 is 5000 bytes, more than the 1024 a message carries: not sent" ]
    diff <(printf 'FIRST\nTHIRD\n') <(replies <(echo "$output"))
    stop_server
}

@test "msgq: text that is not printable is shown escaped on both sides" {
    start_server
    run_t "$BIN/msgq/client" $'tab\there\001\377 back\\slash'
    [ "$status" -eq 0 ]
    grep -qxF 'reply: TAB\x09HERE\x01\xff BACK\\SLASH' <(sed -E 's/^\[client [0-9]+\] //' <<<"$output")
    grep -qxF 'request from client '"$(grep -oE '^\[client [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)"': tab\x09here\x01\xff back\\slash' \
        <(sed -E 's/^\[server [0-9]+\] //' "$OUT/server.out")
    stop_server
}

@test "msgq/server survives malformed messages and refuses an over-long one" {
    start_server
    send_raw 1 "" 0 0 "abc"                     # 3 bytes: shorter than the header
    send_raw 1 1 1 1 "from pid 1"               # a reply would need type 1
    send_raw 1 99 $$ 1 "what kind?"             # unknown kind
    # An over-long request, sent around the client: refused, and answered.
    run send_raw 1 1 $$ 9 "$(printf '%02000d' 0)" wait
    [ "$status" -eq 0 ]
    [ "$output" = "$$ 4 $$ 77 9 0" ]            # type $$, MSGQ_REFUSED, run and seq echoed
    wait_for_line "$OUT/server.out" "request from client $$ refused: longer than 1024 bytes"
    grep -qE '^\[server [0-9]+\] ignored a malformed message: 3 bytes, shorter than the 20-byte header$' "$OUT/server.out"
    grep -qE '^\[server [0-9]+\] ignored a message claiming to come from pid 1$' "$OUT/server.out"
    grep -qE "^\[server [0-9]+\] ignored a message of unknown kind 99 from client $$\$" "$OUT/server.out"
    # ... and still serves.
    run_t "$BIN/msgq/client" still here
    [ "$status" -eq 0 ]
    diff <(printf 'STILL\nHERE\n') <(replies <(echo "$output"))
    stop_server
    no_queue_left
}

@test "msgq/client ignores a reply that is not for its request" {
    # A reply left for an earlier process with the same pid carries another
    # run stamp: here one is planted for a client that reads stdin, and sent
    # to its pid before its first request.
    start_server
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
    grep -qxF "msgq/client: ignored a stale reply, left for an earlier process with pid $cpid" "$OUT/client.err"
    rm -f "$OUT/feed"
    stop_server
}

# ---- peers missing or killed ----

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

@test "msgq/server on SIGINT, SIGTERM, SIGHUP: queue removed, exit 0" {
    for sig in INT TERM HUP; do
        start_server
        kill -"$sig" "$(bg_child server)"
        wait_bg server
        [ "$status" -eq 0 ]
        grep -qE "^\[server [0-9]+\] caught SIG$sig: stopping$" "$OUT/server.out"
        grep -qE '^\[server [0-9]+\] removed the queue' "$OUT/server.out"
        no_queue_left
    done
}

@test "msgq: server stopped while a client waits: the client is told, exit 1" {
    start_server -d 10000                       # slow to take requests out
    start_bg client "$BIN/msgq/client" hello
    wait_for_line "$OUT/client.out" 'sent: hello'
    kill -TERM "$(bg_child server)"
    wait_bg server
    [ "$status" -eq 0 ]
    wait_bg client
    [ "$status" -eq 1 ]
    grep -qxF 'msgq/client: the queue was removed while waiting for a reply: msgq/server stopped' "$OUT/client.err"
    no_queue_left
}

@test "msgq: a client killed while waiting: the server drops its reply" {
    # The server is stopped while the client sends, and continued only once
    # the client is killed and reaped: it then takes out a request whose
    # sender is gone.
    start_server
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    start_bg client "$BIN/msgq/client" orphan
    wait_for_line "$OUT/client.out" 'sent: orphan'
    cpid=$(bg_child client)
    kill -KILL "$cpid"
    wait_bg client
    kill -CONT "$spid"
    wait_for_line "$OUT/server.out" "client $cpid is gone: reply dropped"
    [ "$(our_queue | awk '{ print $6 }')" = 0 ]  # no reply left for nobody
    stop_server
    no_queue_left
}

@test "msgq: server killed with SIGKILL: a waiting client notices, the queue is stale" {
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
    grep -qxF "msgq/client: msgq/server $spid is gone without answering (killed?); its queue $msqid is left over: the next msgq/server removes it" "$OUT/client.err"
    # The queue outlived its creator: it lives in the kernel.
    [ "$(msqid_of_test)" = "$msqid" ]
    run_t "$BIN/msgq/client" again
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/client: msgq/server $spid is gone (killed?); its queue $msqid is left over (start msgq/server first: it removes a stale queue)" ]
    # The next server proves it stale (ours, its server gone) and replaces it.
    start_server
    grep -qE "^\[server [0-9]+\] found queue $msqid left by msgq/server $spid, which is gone \(killed\?\), 1 message left in it: removing it$" "$OUT/server.out"
    [ "$(msqid_of_test)" != "$msqid" ]
    run_t "$BIN/msgq/client" works
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = WORKS ]
    stop_server
    no_queue_left
}

@test "msgq/server --cleanup removes a killed server's queue and record, and nothing else" {
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 0 ]
    grep -qE "^\[server [0-9]+\] nothing to clean up: no queue with key $(ipc_key q), no record$" <<<"$output"
    start_server
    spid=$(bg_child server)
    msqid=$(msqid_of_test)
    # A live server's queue is not a leftover.
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/server: a server (pid $spid) is running on queue $msqid: stop it instead: kill $spid" ]
    [ "$(msqid_of_test)" = "$msqid" ]
    kill -KILL "$spid"
    wait_bg server
    run_t "$BIN/msgq/server" --cleanup
    [ "$status" -eq 0 ]
    grep -qE "^\[server [0-9]+\] removed message queue $msqid \(key $(ipc_key q)\), 0 messages left in it$" <<<"$output"
    grep -qE "^\[server [0-9]+\] removed the record of server $spid: $IPC_DEMO_DIR/msgq.pid$" <<<"$output"
    no_queue_left
}

@test "msgq/server refuses a leftover that is not provably stale, with the exact ipcrm command" {
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    msqid=$(msqid_of_test)
    rm "$IPC_DEMO_DIR/msgq.pid"                 # nothing proves who made it now
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    [[ $stderr == "msgq/server: a queue with key $(ipc_key q) already exists (msqid $msqid) and is not provably stale (no record of its server in $IPC_DEMO_DIR/msgq.pid); if no msgq/server is running, remove it with: ipcrm -q $msqid" ]]
    [ "$(msqid_of_test)" = "$msqid" ]
    # The command it prints does the job.
    ${stderr##*remove it with: }
    [ -z "$(our_queue)" ]
    # A queue with our key but another mode is not ours either.
    timeout "$T" perl -e 'msgget(hex($ARGV[0]), 01000 | 0644) // die "msgget: $!\n"' "$(ipc_key q)"
    msqid=$(msqid_of_test)
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    [[ $stderr == *"is not provably stale (owner uid $(id -u), mode 0644: not ours); if no msgq/server is running, remove it with: ipcrm -q $msqid" ]]
    ${stderr##*remove it with: }
    start_server
    stop_server
    no_queue_left
}

@test "msgq/server: a second server refuses while the first serves" {
    start_server
    spid=$(bg_child server)
    msqid=$(msqid_of_test)
    run_t "$BIN/msgq/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "msgq/server: another server (pid $spid) is already serving queue $msqid (key $(ipc_key q)); stop it first: kill $spid" ]
    run_t "$BIN/msgq/client" "first still serves"
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = "FIRST STILL SERVES" ]
    stop_server
    no_queue_left
}

@test "msgq/server writing into a closed pipe still removes its queue" {
    start_bg server bash -c '"$1" | head -1' _ "$BIN/msgq/server"
    wait_until "the server's queue" queue_ready
    # The server goes on without a reader of its output: it still answers.
    run_t "$BIN/msgq/client" hi
    [ "$status" -eq 0 ]
    stop_server
    no_queue_left
}
