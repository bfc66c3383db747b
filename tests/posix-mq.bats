#!/usr/bin/env bats
# posix-mq/: a POSIX message queue, one server, a reply queue per client,
# priorities, a signalfd.  Queues are looked at with tests/posix-mq-tool
# (mq_open: ENOENT or not), so /dev/mqueue need not be mounted.

load helpers

TOOL="$ROOT/tests/posix-mq-tool"

# teardown: as helpers.bash's, and no queue of this test left (the server's,
# or any a record names), no record left either.
teardown() {
    stop_all_bg
    check_leftovers
    [[ -d $IPC_DEMO_DIR ]] || return 0
    local name left="" rec
    name=$(mq_name)
    if "$TOOL" exists "$name" >/dev/null; then
        left+=" $name"
        "$TOOL" unlink "$name"
    fi
    for rec in "$IPC_DEMO_DIR"/*.owner; do
        [[ -e $rec ]] || continue
        rec=${rec##*/}
        left+=" $IPC_DEMO_DIR/$rec"
        "$TOOL" unlink "/${rec%.owner}" 2>/dev/null || true
    done
    if [[ -n $left ]]; then
        echo "left behind:$left" >&2
        return 1
    fi
}

# mq_name: this test's queue name, as posix_name() makes it from the
# directory's device and inode.
mq_name() {
    local dev ino
    read -r dev ino < <(stat -c '%d %i' "$IPC_DEMO_DIR")
    printf '/ipc-demos-%x-%x-mq\n' "$dev" "$ino"
}

# start_server [ARGS...]: posix-mq/server in the background, ready. NAME: its queue.
start_server() {
    start_bg server "$BIN/posix-mq/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for requests'
    NAME=$(mq_name)
}

stop_server() {
    run_t "$BIN/posix-mq/client" -q
    [ "$status" -eq 0 ]
    has '^\[client [0-9]+\] the server is shutting down and removes the queue$' <<<"$output"
    wait_bg server
    [ "$status" -eq 0 ]
}

# gone NAME: no queue NAME (mq_open fails with ENOENT), nor in /dev/mqueue.
gone() {
    run "$TOOL" exists "$1"
    [ "$status" -eq 1 ]
    [ ! -e "/dev/mqueue$1" ]
}

# nothing_left: no server queue, no record of a server or client.
nothing_left() {
    gone "$(mq_name)"
    [ -z "$(ls "$IPC_DEMO_DIR" | grep -v '^key$' || true)" ]
}

replies() {
    sed -nE 's/^\[client [0-9]+\] reply: //p' "$1"
}

# ---- the conversation ----

@test "posix-mq: the name, the limits, the record; requests and replies; -q removes every queue" {
    start_server
    spid=$(bg_child server)
    dir=$IPC_DEMO_DIR rec="$IPC_DEMO_DIR/${NAME#/}.owner"
    diff - <(head -n 3 "$OUT/server.out" | strip_pids) <<EXPECTED
[server] queue name $NAME, made from the device and inode of $dir
[server] created message queue $NAME (mode 0600, mq_maxmsg 10, mq_msgsize 1036); my pid and start time are on record in $rec
[server] limits in /proc/sys/fs/mqueue: msg_max $(cat /proc/sys/fs/mqueue/msg_max) messages, msgsize_max $(cat /proc/sys/fs/mqueue/msgsize_max) bytes, queues_max $(cat /proc/sys/fs/mqueue/queues_max) queues; a request carries at most 1024 bytes of text
EXPECTED
    has -x "\[server $spid\] waiting for requests: one poll\(\) on the queue \(fd [0-9]+\), the signalfd \(fd [0-9]+\) and standard output" "$OUT/server.out"
    [ "$("$TOOL" exists "$NAME")" = "0 0600" ]
    read -r pid start ino <"$rec"
    [ "$pid" = "$spid" ]
    [ "$ino" -gt 0 ]

    run_t "$BIN/posix-mq/client" hello "two words" "" $'tab\there\001'
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    cpid=$(first_pid client <(echo "$output"))
    diff - <(strip_pids <<<"$output") <<EXPECTED
[client] queue $NAME of posix-mq/server $spid: my requests go in with priority 0, my replies come back in my own queue $NAME.$cpid
[client] sent: hello
[client] reply: HELLO
[client] sent: two words
[client] reply: TWO WORDS
[client] sent: 
[client] reply: 
[client] sent: tab\\x09here\\x01
[client] reply: TAB\\x09HERE\\x01
EXPECTED
    gone "$NAME.$cpid"                          # the client's own queue went with it
    [ ! -e "$IPC_DEMO_DIR/${NAME#/}.$cpid.owner" ]
    run_t "$BIN/posix-mq/client" -q
    [ "$status" -eq 0 ]
    qpid=$(first_pid client <(echo "$output"))
    wait_bg server
    [ "$status" -eq 0 ]
    diff - <(tail -n 7 "$OUT/server.out" | strip_pids) <<EXPECTED
[server] request from client $cpid, priority 0: hello
[server] request from client $cpid, priority 0: two words
[server] request from client $cpid, priority 0: 
[server] request from client $cpid, priority 0: tab\\x09here\\x01
[server] shutdown requested by client $qpid
[server] served 4 requests
[server] removed the queue (mq_unlink): $NAME is gone
EXPECTED
    nothing_left
}

@test "posix-mq/client: stdin lines; a line too long is refused (exit 1), a MESSAGE too long is a usage error (exit 2)" {
    start_server
    max=$(printf '%01024d' 0 | tr 0 m)
    { echo first; echo "${max}x"; echo "$max"; printf 'last'; } >"$OUT/in"
    run_t "$BIN/posix-mq/client" <"$OUT/in"
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-mq/client: message 2 is 1025 bytes, more than the 1024 a message carries: not sent" ]
    diff <(printf 'FIRST\n%s\nLAST\n' "${max^^}") <(replies <(echo "$output"))
    run_t "$BIN/posix-mq/client" short "${max}x"
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    diff - <(echo "$stderr") <<EXPECTED
posix-mq/client: MESSAGE 2 is 1025 bytes long: a message carries at most 1024
usage: posix-mq/client [-N NAME] [-P PRIO] [-q] [-d MS] [-v] [--small-buffer] [MESSAGE...]
EXPECTED
    # Its output gone (| true: before the first message, -d 300): no death by
    # SIGPIPE, its own queue removed.
    run_t bash -c '"$1" -d 300 one two three | true' _ "$BIN/posix-mq/client"
    [ "$status" -eq 0 ]
    [ -z "$(ls "$IPC_DEMO_DIR" | grep -v -e '^key$' -e "^${NAME#/}.owner\$" || true)" ]
    # A message longer than mq_msgsize is refused by the kernel itself.
    run "$TOOL" send "$NAME" 0 "$(printf '%01037d' 0)"
    [ "$status" -eq 2 ]
    [[ $output == *"Message too long"* ]]
    stop_server
    [ "$(grep -c 'request from' "$OUT/server.out")" -eq 6 ]
    nothing_left
}

@test "posix-mq: requests waiting in the queue come out highest priority first" {
    start_server -d 100
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    n=0
    for p in 1 9 0 5 32767; do
        n=$((n + 1))
        start_bg "c$n" "$BIN/posix-mq/client" -P "$p" "prio $p"
        wait_for_line "$OUT/c$n.out" 'sent: '
    done
    kill -CONT "$spid"
    for n in 1 2 3 4 5; do
        wait_bg "c$n"
        [ "$status" -eq 0 ]
        has '^\[client [0-9]+\] reply: PRIO [0-9]+$' "$OUT/c$n.out"
    done
    diff - <(sed -nE 's/^\[server [0-9]+\] request from client [0-9]+, (priority [0-9]+): .*/\1/p' "$OUT/server.out") <<'EXPECTED'
priority 32767
priority 9
priority 5
priority 1
priority 0
EXPECTED
    stop_server
    nothing_left
}

@test "posix-mq: 4 concurrent clients x 25 messages each get all their own replies, no other" {
    start_server
    for c in 1 2 3 4; do
        for i in $(seq 25); do echo "client $c message $i"; done >"$OUT/in$c"
    done
    for c in 1 2 3 4; do
        start_bg_in "c$c" "$OUT/in$c" "$BIN/posix-mq/client" -P "$c"
    done
    for c in 1 2 3 4; do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff <(tr a-z A-Z <"$OUT/in$c") -
        [ "$(grep -oE '^\[client [0-9]+\]' "$OUT/c$c.out" | sort -u | wc -l)" -eq 1 ]
        [ "$(grep -c "request from client $(first_pid client "$OUT/c$c.out"), priority $c: client $c message" "$OUT/server.out")" -eq 25 ]
    done
    stop_server
    nothing_left
}

# ---- every way out ----

@test "posix-mq/server on SIGINT, SIGTERM, SIGHUP: queue removed at once, exit 0; a waiting client notices within a second" {
    for sig in INT HUP TERM; do
        start_server -d 20000                   # holds each request 20 s before taking it out
        spid=$(bg_child server)
        if [[ $sig == TERM ]]; then             # one waiting client is enough
            start_bg client "$BIN/posix-mq/client" hello
            wait_for_line "$OUT/client.out" 'sent: hello'
            cpid=$(bg_child client)
        fi
        start=$(date +%s%N)
        kill -"$sig" "$spid"
        wait_bg server
        [ "$status" -eq 0 ]
        (( ($(date +%s%N) - start) / 1000000 < 5000 ))     # the 20 s pause did not hold it
        has -x "\[server $spid\] caught SIG$sig: stopping" "$OUT/server.out"
        gone "$NAME"
        [ ! -e "$IPC_DEMO_DIR/${NAME#/}.owner" ]
        ! kill -0 "$spid" 2>/dev/null
    done
    wait_bg client
    [ "$status" -eq 1 ]
    [ "$(cat "$OUT/client.err")" = "posix-mq/client: posix-mq/server $spid stopped: its queue $NAME was removed" ]
    gone "$NAME.$cpid"
    ! kill -0 "$cpid" 2>/dev/null
    nothing_left
}

@test "posix-mq/client on SIGINT, SIGTERM, SIGHUP while it waits: its own queue removed, exit 1" {
    start_server -d 20000
    for sig in INT TERM HUP; do
        start_bg client "$BIN/posix-mq/client" hello
        wait_for_line "$OUT/client.out" 'sent: hello'
        cpid=$(bg_child client)
        kill -"$sig" "$cpid"
        wait_bg client
        [ "$status" -eq 1 ]
        [ "$(cat "$OUT/client.err")" = "posix-mq/client: caught SIG$sig: stopped" ]
        gone "$NAME.$cpid"
        [ ! -e "$IPC_DEMO_DIR/${NAME#/}.$cpid.owner" ]
    done
    kill -TERM "$(bg_child server)"
    wait_bg server
    [ "$status" -eq 0 ]
    # The requests of the clients that left were taken out at the end or
    # never: none was answered into a queue that is gone.
    nothing_left
}

@test "posix-mq/server | head -3: once its output is gone it stops and removes its queue (exit 1)" {
    start_bg server bash -c '"$1" | head -3; exit "${PIPESTATUS[0]}"' _ "$BIN/posix-mq/server"
    wait_bg server
    [ "$status" -eq 1 ]
    [ "$(wc -l <"$OUT/server.out")" -eq 3 ]
    [ "$(cat "$OUT/server.err")" = "posix-mq/server: standard output is gone (a closed pipe?): stopped, the queue is removed" ]
    nothing_left
}

# ---- what kill -9 leaves ----

@test "posix-mq: server killed with SIGKILL: a waiting client notices, the next server removes the stale queue" {
    start_server -d 20000
    start_bg client "$BIN/posix-mq/client" hello
    wait_for_line "$OUT/client.out" 'sent: hello'
    spid=$(bg_child server)
    kill -KILL "$spid"
    wait_bg server
    wait_bg client
    [ "$status" -eq 1 ]
    left="posix-mq/client: posix-mq/server $spid is gone (killed?): its queue $NAME is left over, with 1 message; the next posix-mq/server removes it"
    [ "$(cat "$OUT/client.err")" = "$left" ]
    [ "$("$TOOL" exists "$NAME")" = "1 0600" ]
    run_t "$BIN/posix-mq/client" again
    [ "$status" -eq 1 ]
    [ "$stderr" = "$left" ]
    start_server
    diff - <(sed -n 2,3p "$OUT/server.out" | strip_pids) <<EXPECTED
[server] message queue $NAME was left by a killed run (its creator, pid $spid, is gone; nobody uses it): removing it
[server] removed message queue $NAME, 1 message left in it
EXPECTED
    run_t "$BIN/posix-mq/client" works
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = WORKS ]
    stop_server
    nothing_left
}

@test "posix-mq: a client killed with SIGKILL: its reply queue is removed by the server, by its record" {
    start_server -d 300
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    start_bg killed "$BIN/posix-mq/client" orphan
    wait_for_line "$OUT/killed.out" 'sent: orphan'
    kpid=$(bg_child killed)
    kill -KILL "$kpid"
    wait_bg killed
    [ "$("$TOOL" exists "$NAME.$kpid")" = "0 0600" ]
    kill -CONT "$spid"
    run_t "$BIN/posix-mq/client" after          # answered after the orphan's request
    [ "$status" -eq 0 ]
    has -x "\[server $spid\] client $kpid is gone: reply dropped" "$OUT/server.out"
    has -x "\[server $spid\] client $kpid is gone: removed its reply queue $NAME.$kpid, 0 messages left in it" "$OUT/server.out"
    gone "$NAME.$kpid"
    [ ! -e "$IPC_DEMO_DIR/${NAME#/}.$kpid.owner" ]
    # One killed while nothing was in flight: found at the next start.
    mkfifo "$OUT/feed"
    exec 4<>"$OUT/feed"                         # read-write: never blocks
    start_bg_in idle "$OUT/feed" "$BIN/posix-mq/client" 4>&-
    wait_for_line "$OUT/idle.out" 'my replies come back'
    ipid=$(bg_child idle)
    kill -KILL "$ipid"
    wait_bg idle
    exec 4>&-
    rm "$OUT/feed"
    stop_server
    has -x "\[server $spid\] served 1 request" "$OUT/server.out"   # not the dropped one
    start_server
    has -x "\[server [0-9]+\] client $ipid is gone: removed its reply queue $NAME.$ipid, 0 messages left in it" "$OUT/server.out"
    stop_server
    nothing_left
}

@test "posix-mq/server --cleanup: a live server's queue stays; a killed server's and a killed client's go, with their records" {
    run_t "$BIN/posix-mq/server" --cleanup
    [ "$status" -eq 0 ]
    has -x "\[server [0-9]+\] nothing to clean up: no queue $(mq_name), no record of a server or client that is gone" <<<"$output"
    start_server
    spid=$(bg_child server)
    in_use="message queue $NAME is in use: its creator, pid $spid, is still running.  Stop it first: kill $spid"
    run_t "$BIN/posix-mq/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-mq/server: $in_use" ]
    run_t "$BIN/posix-mq/server" --cleanup
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-mq/server: $in_use" ]
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    start_bg killed "$BIN/posix-mq/client" orphan
    wait_for_line "$OUT/killed.out" 'sent: orphan'
    kpid=$(bg_child killed)
    kill -KILL "$kpid" "$spid"
    wait_bg killed
    wait_bg server
    run_t "$BIN/posix-mq/server" --cleanup
    [ "$status" -eq 0 ]
    diff - <(strip_pids <<<"$output") <<EXPECTED
[server] message queue $NAME was left by a killed run (its creator, pid $spid, is gone; nobody uses it): removing it
[server] removed message queue $NAME, 1 message left in it
[server] removed the record of posix-mq/server $spid, which is gone: $IPC_DEMO_DIR/${NAME#/}.owner
[server] client $kpid is gone: removed its reply queue $NAME.$kpid, 0 messages left in it
EXPECTED
    nothing_left
}

@test "posix-mq/server refuses a queue that is not provably stale, with the exact command" {
    mkdir -m 700 -p "$IPC_DEMO_DIR"
    NAME=$(mq_name)
    "$TOOL" create "$NAME" 600                  # no record names it
    run_t "$BIN/posix-mq/server"
    [ "$status" -eq 1 ]
    diff - <(echo "$stderr") <<EXPECTED
posix-mq/server: message queue $NAME has no creator on record in $IPC_DEMO_DIR/${NAME#/}.owner: nothing proves it stale, so it is not touched.
If nothing of ours is running, remove it with: rm /dev/mqueue$NAME
EXPECTED
    run_t "$BIN/posix-mq/server" --cleanup
    [ "$status" -eq 1 ]
    [ "$("$TOOL" exists "$NAME")" = "0 0600" ]
    "$TOOL" unlink "$NAME"
    "$TOOL" create "$NAME" 644                  # another mode: not ours
    run_t "$BIN/posix-mq/server"
    [ "$status" -eq 1 ]
    diff - <(echo "$stderr") <<EXPECTED
posix-mq/server: message queue $NAME is not ours (another user, or another mode than 0600): not touched.
If it is yours to remove: rm /dev/mqueue$NAME
EXPECTED
    "$TOOL" unlink "$NAME"
    # A file at the record's path that is not a record of ours.
    echo "not a record" >"$IPC_DEMO_DIR/${NAME#/}.owner"
    run_t "$BIN/posix-mq/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-mq/server: $IPC_DEMO_DIR/${NAME#/}.owner is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)" ]
    rm "$IPC_DEMO_DIR/${NAME#/}.owner"
    nothing_left
}

# ---- the traps, and bad input ----

@test "posix-mq: EMSGSIZE, a receive buffer smaller than mq_msgsize; malformed messages skipped" {
    start_server
    run_t "$BIN/posix-mq/client" --small-buffer hi
    [ "$status" -eq 1 ]
    [ "$stderr" = "posix-mq/client: mq_timedreceive into 64 bytes: Message too long: the buffer must hold the queue's mq_msgsize, 1036 bytes, however short the message waiting in it" ]
    # The client's receive fails at once, maybe before the server has taken "hi".
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] request from client [0-9]+, priority 0: hi$'
    "$TOOL" send "$NAME" 0 abc                  # shorter than the 12-byte header
    "$TOOL" request "$NAME" 0 1 1 1 "from pid 1"
    "$TOOL" request "$NAME" 0 99 $$ 1 "what kind?"
    "$TOOL" request "$NAME" 0 1 999999999 1 "nobody"
    wait_for_line "$OUT/server.out" 'client 999999999 is gone: reply dropped'
    [ "$(grep -c 'ignored a malformed message of' "$OUT/server.out")" -eq 3 ]
    has '^\[server [0-9]+\] ignored a malformed message of 3 bytes$' "$OUT/server.out"
    stop_server
    nothing_left
}

# has_sys_resource: this shell has CAP_SYS_RESOURCE (bit 24) in its effective set
# (root usually does; root in a container may not).
has_sys_resource() {
    local eff
    eff=$(sed -nE 's/^CapEff:\s*//p' /proc/self/status)
    (( (16#$eff >> 24) & 1 ))
}

@test "posix-mq/server -m above msg_max: EINVAL without CAP_SYS_RESOURCE; with it (root), allowed" {
    max=$(cat /proc/sys/fs/mqueue/msg_max)
    want="posix-mq/server: mq_open $(mkdir -m 700 -p "$IPC_DEMO_DIR"; mq_name): Invalid argument: mq_maxmsg $((max + 1)) is above /proc/sys/fs/mqueue/msg_max, $max: only a process with CAP_SYS_RESOURCE (root) may ask for more"
    if ! has_sys_resource; then
        run_t "$BIN/posix-mq/server" -m $((max + 1))
        [ "$status" -eq 1 ]
        [ "$stderr" = "$want" ]
        nothing_left
        return 0
    fi
    # With it: allowed; without it (not in the bounding set, so not
    # given back by exec), refused as for anyone.
    start_server -m $((max + 1))
    has "created message queue $NAME \(mode 0600, mq_maxmsg $((max + 1)), mq_msgsize 1036\)" "$OUT/server.out"
    stop_server
    command -v setpriv >/dev/null || skip "no setpriv to drop CAP_SYS_RESOURCE"
    run_t setpriv --inh-caps=-sys_resource --bounding-set=-sys_resource "$BIN/posix-mq/server" -m $((max + 1))
    [ "$status" -eq 1 ]
    [ "$stderr" = "$want" ]
    nothing_left
}

@test "posix-mq: -N NAME; bad names are usage errors; a client without a server creates nothing" {
    run_t "$BIN/posix-mq/client" hello
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "posix-mq/client: no message queue $(mq_name): No such file or directory (start posix-mq/server first)" ]
    long=/$(printf '%0199d' 0)
    for bad in noslash /two/slashes / /. "/sp ace" "$long"; do
        for prog in server client; do            # called directly: Bats' run is slow
            rc=0
            timeout "$T" "$BIN/posix-mq/$prog" -N "$bad" >"$OUT/o" 2>"$OUT/e" || rc=$?
            [ "$rc" -eq 2 ]
            [ ! -s "$OUT/o" ]
            [[ $(<"$OUT/e") == "posix-mq/$prog: -N: '$bad' is not a queue name: '/' and then 1 to 198 letters, digits, '.', '_' or '-'"$'\n'"usage: posix-mq/$prog "* ]]
        done
    done
    # The longest name allowed is a name: no such queue (exit 1), not a usage error.
    rc=0
    timeout "$T" "$BIN/posix-mq/client" -N "/$(printf '%0198d' 0)" hi >/dev/null 2>"$OUT/e" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$OUT/e"; false; }
    custom="/posix-mq-test.$$.$RANDOM"
    start_bg server "$BIN/posix-mq/server" -N "$custom"
    wait_for_line "$OUT/server.out" 'waiting for requests'
    has -x "\[server [0-9]+\] queue name $custom, given with -N" "$OUT/server.out"
    run_t "$BIN/posix-mq/client" -N "$custom" -P 7 -q custom
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = CUSTOM ]
    wait_bg server
    [ "$status" -eq 0 ]
    gone "$custom"
    nothing_left
}
