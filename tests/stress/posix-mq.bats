#!/usr/bin/env bats
# posix-mq/ under load: many messages, many clients with many priorities, a
# server's queue full for real (more clients than mq_maxmsg), killed clients.
# tests/posix-mq.bats keeps a smaller proof of each.

# A busy machine may take long: each command gets a minute, not 20 s.
T=${T:-60}
load ../helpers

start_server() {
    start_bg server "$BIN/posix-mq/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for requests'
}

# stop_server: -q; nothing of this test's left in $IPC_DEMO_DIR but the key
# file (every queue has a record beside it while it exists).
stop_server() {
    run_t "$BIN/posix-mq/client" -q
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    [ -z "$(ls "$IPC_DEMO_DIR" | grep -v '^key$' || true)" ]
}

replies() {
    sed -nE 's/^\[client [0-9]+\] reply: //p' "$1"
}

@test "posix-mq stress: 6 concurrent clients x 300 messages, each its own priority, all their own replies" {
    start_server
    for c in 1 2 3 4 5 6; do
        for i in $(seq 300); do echo "client $c message $i"; done >"$OUT/in$c"
        tr a-z A-Z <"$OUT/in$c" >"$OUT/want$c"
    done
    for c in 1 2 3 4 5 6; do
        start_bg_in "c$c" "$OUT/in$c" "$BIN/posix-mq/client" -P $((c * 1000))
    done
    for c in 1 2 3 4 5 6; do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff "$OUT/want$c" -
        cpid=$(head -1 "$OUT/c$c.out" | grep -oE '^\[client [0-9]+\]' | tr -dc 0-9)
        [ "$(grep -c "request from client $cpid, priority $((c * 1000)): client $c message" "$OUT/server.out")" -eq 300 ]
    done
    stop_server
}

@test "posix-mq stress: 30 clients at a stopped server fill its queue (mq_maxmsg 10), wait, and all get through" {
    start_server
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    for c in $(seq 30); do
        start_bg "c$c" "$BIN/posix-mq/client" -P $((c % 7)) "one $c" "two $c"
    done
    # 10 requests fit; 20 clients wait in mq_timedsend(), looking every second.
    wait_until "10 requests in the queue" test "$(cat "$OUT"/c*.out | grep -c 'sent: one')" -ge 10
    kill -CONT "$spid"
    for c in $(seq 30); do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        [ "$(replies "$OUT/c$c.out")" = "$(printf 'ONE %s\nTWO %s' "$c" "$c")" ]
    done
    stop_server
}

@test "posix-mq stress: 20 clients killed with SIGKILL, waiting for a reply or for room: every reply queue is removed" {
    start_server
    spid=$(bg_child server)
    kill -STOP "$spid"
    wait_until "the server to stop" stopped "$spid"
    for c in $(seq 20); do
        start_bg "k$c" "$BIN/posix-mq/client" "doomed $c"
    done
    for c in $(seq 20); do
        wait_for_line "$OUT/k$c.out" 'my replies come back'
    done
    # 10 requests fill the queue: those clients wait for a reply, the other
    # 10 for room.  All are killed.
    wait_until "10 requests in the queue" test "$(cat "$OUT"/k*.out | grep -c 'sent: ')" -ge 10
    for c in $(seq 20); do
        kill -KILL "$(bg_child "k$c")"
        wait_bg "k$c"
    done
    kill -CONT "$spid"
    run_t "$BIN/posix-mq/client" after
    [ "$status" -eq 0 ]
    # The 10 whose replies could not be delivered: removed then.
    [ "$(grep -c 'is gone: removed its reply queue' "$OUT/server.out")" -eq 10 ]
    run_t "$BIN/posix-mq/client" -q
    [ "$status" -eq 0 ]
    wait_bg server
    # The 10 others: by the next server, at its start, from their records.
    mv "$OUT/server.out" "$OUT/first.out"
    start_server
    [ "$(grep -c 'is gone: removed its reply queue' "$OUT/server.out")" -eq 10 ]
    stop_server
}
