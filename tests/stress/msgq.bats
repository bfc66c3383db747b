#!/usr/bin/env bats
# msgq/ under load: many messages, many clients, a queue filled for real.
# tests/msgq.bats keeps a smaller proof of each.

# A busy machine may take long: each command gets a minute, not 20 s.
T=${T:-60}
load ../helpers

start_server() {
    start_bg server "$BIN/msgq/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for requests'
}

stop_server() {
    run_t "$BIN/msgq/client" -q
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    [ ! -e "$IPC_DEMO_DIR/msgq.owner" ]
}

replies() {
    sed -nE 's/^\[client [0-9]+\] reply: //p' "$1"
}

@test "msgq stress: 4 concurrent clients x 500 messages each get all their own replies, no other" {
    start_server
    for c in 1 2 3 4; do
        for i in $(seq 500); do echo "client $c message $i"; done >"$OUT/in$c"
        tr a-z A-Z <"$OUT/in$c" >"$OUT/want$c"
    done
    for c in 1 2 3 4; do
        start_bg_in "c$c" "$OUT/in$c" "$BIN/msgq/client"
    done
    for c in 1 2 3 4; do
        wait_bg "c$c"
        [ "$status" -eq 0 ]
        replies "$OUT/c$c.out" | diff "$OUT/want$c" -
        [ "$(grep -oE '^\[client [0-9]+\]' "$OUT/c$c.out" | sort -u | wc -l)" -eq 1 ]
        cpid=$(head -1 "$OUT/c$c.out" | grep -oE '^\[client [0-9]+\]' | tr -dc 0-9)
        [ "$(grep -c "request from client $cpid: client $c message" "$OUT/server.out")" -eq 500 ]
    done
    [ "$(grep -c 'request from client' "$OUT/server.out")" -eq 2000 ]
    stop_server
}

@test "msgq stress: 24 clients x 10 long messages fill the queue, and nobody deadlocks" {
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
}
