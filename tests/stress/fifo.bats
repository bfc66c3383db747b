#!/usr/bin/env bats
# fifo/, the long cases: thousands of lines from concurrent clients, a stop
# signal at every moment of the server's life, servers racing for one path.

load ../helpers

eval "helpers_$(declare -f setup)"
setup() {
    helpers_setup
    FIFO="$IPC_DEMO_DIR/fifo"
    IPC_PROJS=()                  # fifo/ makes no System V object
}

# start_server [ARGS...]: fifo/server in the background, up to its blocking open().
start_server() {
    rm -f "$OUT/server.out" "$OUT/server.err"
    start_bg server "$BIN/fifo/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for a client on '
}

# said FILE: the TEXT of every "[server PID] client says: TEXT" line of FILE.
said() {
    sed -n 's/^\[server [0-9]*\] client says: //p' "$1"
}

# child_of NAME: the pid of the program start_bg NAME started (its timeout
# wrapper's only child), read from /proc/PID/task/PID/children as soon as it
# exists.
child_of() {
    local var="${1}_pid" tries=0 kid
    local list="/proc/${!var}/task/${!var}/children"
    while ((tries++ < 20000)) && [[ -r $list ]]; do
        kid=""
        { read -r kid _ || true; } <"$list" 2>/dev/null
        [[ -n $kid ]] && { echo "$kid"; return 0; }
        ((tries < 200)) || sleep 0.01
    done
    bg_child "$1"
}

# wait_for_count FILE REGEX N: poll until N lines of FILE match REGEX.
wait_for_count() {
    local deadline=$((SECONDS + T)) n=0
    while ((SECONDS < deadline)); do
        n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
        ((n >= $3)) && return 0
        sleep 0.05
    done
    echo "timed out: $n of $3 lines match /$2/ in $1" >&2
    return 1
}

# client_input K: 2,000 lines for client K, each tagged with K and its number and
# padded with K's own letter to a length that varies up to ~1,500 bytes.
client_input() {
    awk -v k="$1" 'BEGIN {
        letter = substr("abcd", k, 1); pad = ""
        for (j = 0; j < 1500; j++) pad = pad letter
        for (i = 1; i <= 2000; i++) printf "client%d line %d %s\n", k, i, substr(pad, 1, (i * 37) % 1500)
    }'
}

@test "fifo -k: 4 concurrent clients x 2,000 lines: exactly 8,000 whole lines, each client's in order" {
    start_server -k
    for k in 1 2 3 4; do
        client_input "$k" >"$OUT/in$k"
    done
    for k in 1 2 3 4; do
        start_bg_in "client$k" "$OUT/in$k" "$BIN/fifo/client"
    done
    for k in 1 2 3 4; do
        wait_bg "client$k"
        [ "$status" -eq 0 ] || { cat "$OUT/client$k.err"; false; }
        has '^\[client [0-9]+\] closed the FIFO: 2000 lines sent$' "$OUT/client$k.out"
    done
    wait_for_count "$OUT/server.out" '^\[server [0-9]+\] client says: ' 8000
    server=$(child_of server)
    kill -TERM "$server"
    wait_bg server
    [ "$status" -eq 0 ]
    [ ! -e "$FIFO" ]
    has "^\[server $server\] SIGTERM: removed $FIFO and exiting$" "$OUT/server.out"
    said "$OUT/server.out" >"$OUT/got"
    [ "$(wc -l <"$OUT/got")" -eq 8000 ]
    # Every line of every client exactly once, nothing torn or merged ...
    diff <(sort "$OUT"/in[1-4]) <(sort "$OUT/got")
    # ... and each client's lines in the order it sent them.
    for k in 1 2 3 4; do
        diff "$OUT/in$k" <(grep "^client$k " "$OUT/got")
    done
}

@test "fifo/server: a stop signal at any moment ends it and leaves no FIFO" {
    # The signal only sets a flag; the call it interrupts returns EINTR, and one
    # that lands just before a blocking open() or read() is caught by the alarm
    # it sets.  Each round signals the server a little later: from before exec
    # (then timeout's own handler makes the child exit 128+N) to well inside
    # open().  The signal goes to the server's own pid: signalled early, the
    # timeout wrapper (coreutils 9.1) or the bash that starts it can lose it or
    # orphan the child.
    local i server spin sigs=(INT TERM HUP)
    for i in $(seq 40); do
        T=10 start_bg server "$BIN/fifo/server"
        server=$(child_of server)
        for ((spin = 0; spin < i % 6 * 4; spin++)); do :; done
        kill "-${sigs[i % 3]}" "$server"
        wait_bg server
        # 0: our handler ran; 128+N: killed before main() installed it, or
        # before exec.  124 would be the timeout: a server left blocked.
        case $status in
        0 | 129 | 130 | 143) ;;
        *) echo "round $i: status $status"; cat "$OUT/server.out"; false ;;
        esac
        [ ! -e "$FIFO" ] || { echo "round $i: FIFO left"; false; }
    done
}

@test "fifo/server: two servers started at once on one path: one serves, the other is refused, nothing is left" {
    # (Not "i": bats' run, under run_t, sets a variable i of its caller.)
    local round a b
    for round in $(seq 10); do
        rm -f "$OUT"/a.* "$OUT"/b.*
        start_bg a "$BIN/fifo/server"
        start_bg b "$BIN/fifo/server"
        # The one refused exits 1 at once; the other waits for its client.
        wait_until "one server to be refused" \
            grep -qs 'is in use: another fifo/server serves it' "$OUT/a.err" "$OUT/b.err"
        wait_for_line "$OUT/$(grep -qs 'in use' "$OUT/a.err" && echo b || echo a).out" 'waiting for a client'
        run_t "$BIN/fifo/client" "round $round"
        [ "$status" -eq 0 ] || { echo "round $round: $stderr"; false; }
        wait_bg a
        a=$status
        wait_bg b
        b=$status
        # Exactly one served (0) and one was refused (1).
        [[ "$a $b" == "0 1" || "$a $b" == "1 0" ]] || { echo "round $round: status $a and $b"; false; }
        [ "$(said "$OUT/a.out"; said "$OUT/b.out")" = "round $round" ]
        [ ! -e "$FIFO" ] || { echo "round $round: FIFO left"; false; }
    done
}
