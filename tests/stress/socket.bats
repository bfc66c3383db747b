#!/usr/bin/env bats
# socket/ under load: many clients, many lines, stop signals again and again.

load ../helpers
load ../socket-helpers

# A hundred processes at once take a while on a busy machine: a longer bound
# for each of them.
T=60

@test "socket stress: 8 clients at once, 1000 lines each: every client gets exactly its own replies, in order" {
    start_server
    local i
    for i in 1 2 3 4 5 6 7 8; do
        seq 1000 | sed "s/^/client $i line /" >"$OUT/in.$i"
        tr a-z A-Z <"$OUT/in.$i" >"$OUT/want.$i"
    done
    for i in 1 2 3 4 5 6 7 8; do
        start_bg_in client$i "$OUT/in.$i" "$BIN/socket/client"
    done
    for i in 1 2 3 4 5 6 7 8; do
        wait_bg client$i
        [ "$status" -eq 0 ]
        replies "$OUT/client$i.out" >"$OUT/got.$i"
        cmp "$OUT/want.$i" "$OUT/got.$i"
    done
    [ "$(grep -c ' says: client ' "$OUT/server.out")" -eq 8000 ]
    stop_server_with TERM
}

@test "socket stress: 100 clients at once, more than the 64 slots: the rest wait in the listen() queue, all are served" {
    start_server
    local i
    # Each client holds its connection for 10 s before it says anything, so
    # that all 64 slots are taken at once.
    for i in $(seq 100); do
        start_bg client$i "$BIN/socket/client" -d 10000 "client $i"
    done
    for i in $(seq 100); do
        wait_bg client$i
        [ "$status" -eq 0 ]
        [ "$(replies "$OUT/client$i.out")" = "CLIENT $i" ]
    done
    [ "$(grep -c ' connected (fd ' "$OUT/server.out")" -eq 100 ]
    # Never more than 64 connections at once, and 64 at some moment.
    [ "$(awk '/ connected \(fd / { n++; if (n > max) max = n } / finished / { n-- }
               END { print max }' "$OUT/server.out")" -eq 64 ]
    stop_server_with TERM
}

@test "socket stress: 30 stop signals at random moments of a busy server: never a file or a process left" {
    local n sig pid
    seq 2000 | sed 's/^/line /' >"$OUT/in"
    for n in $(seq 30); do
        sig=$((n % 2 ? 15 : 1))
        rm -f "$OUT/server.out"
        # The server straight under timeout(1), its own pid signalled: see the
        # start-up test in tests/socket.bats.
        start_bg server "$BIN/socket/server"
        pid=$(bg_child server)
        start_bg_in client "$OUT/in" "$BIN/socket/client"
        # Somewhere between start-up and the middle of the conversation.
        [ "$n" -lt 10 ] || wait_for_line "$OUT/server.out" "says: line $((n * 50))\$"
        kill -"$sig" "$pid"
        wait_bg server
        wait_bg client
        absent "$SOCK"
        exited "$pid"
    done
}

@test "socket stress: 20 memfds passed in a row, each gone with its last fd" {
    local n
    for n in $(seq 20); do
        start_recv
        run_t "$BIN/socket/pass" send memfd "memfd number $n"
        [ "$status" -eq 0 ]
        wait_bg recv
        [ "$status" -eq 0 ]
        grep -q "mapped it: memfd number $n\$" "$OUT/recv.out"
    done
    [ -z "$(ls -A "$IPC_DEMO_DIR")" ]
}
