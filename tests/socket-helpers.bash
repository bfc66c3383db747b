# tests/socket-helpers.bash - what tests/socket.bats and tests/stress/socket.bats
# share: load it after helpers.

# helpers' setup (its own IPC_DEMO_DIR for each test), then the default paths.
eval "helpers_$(declare -f setup)"
setup() {
    helpers_setup
    SOCK="$IPC_DEMO_DIR/socket"
    PASS="$IPC_DEMO_DIR/pass"
    RAW="$ROOT/tests/socket-raw"
    FDS="$ROOT/tests/socket-fds"
}

# start_server [ARGS...]: socket/server in the background, up to its listen().
start_server() {
    start_bg server "$BIN/socket/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] listening on '
}

# start_recv [ARGS...]: socket/pass recv in the background, waiting for a sender.
start_recv() {
    start_bg recv "$BIN/socket/pass" "$@" recv
    wait_for_line "$OUT/recv.out" '^\[recv [0-9]+\] waiting for a sender on '
}

# start_raw: tests/socket-raw connected to the server; its standard input is a
# pipe whose write end this test holds in fd $raw_in (each printf to it is one
# write() to the socket), its replies go to $OUT/raw.out.  (A pipe, not a FIFO:
# nothing here can block in open().)
start_raw() {
    exec {raw_in}> >(bare; exec timeout "$T" "$RAW" "$SOCK" >"$OUT/raw.out" 2>"$OUT/raw.err")
    raw_pid=$!
    BG_PIDS+=("$raw_pid")
}

# end_raw: close its standard input, and wait until it has printed what came
# back and exited.
end_raw() {
    exec {raw_in}>&-
    wait_until "tests/socket-raw to exit" exited "$raw_pid"
}

# lacks GREP-ARGS...: grep finds nothing.  (A bare `! grep` in the middle of a
# test cannot fail it: Bats' errexit ignores a negated command.)
lacks() {
    ! grep "$@"
}

# replies FILE: the TEXT of every "[client PID] reply: TEXT" line of FILE.
replies() {
    sed -n 's/^\[client [0-9]*\] reply: //p' "$1"
}

# pid_of_output: the pid in the first "[ROLE PID]" line of $output.
pid_of_output() {
    sed -nE '1s/^\[[a-z]+ ([0-9]+)\] .*/\1/p' <<<"$output"
}

# stop_server_with SIG: send SIG to the server; it must say so, remove its
# socket file and exit 0.
stop_server_with() {
    local pid
    pid=$(bg_child server)
    kill -"$1" "$pid"
    wait_bg server
    [ "$status" -eq 0 ]
    grep -q "^\[server $pid\] got SIG$1: stopping$" "$OUT/server.out"
    grep -q "^\[server $pid\] removed $SOCK$" "$OUT/server.out"
    absent "$SOCK"
    exited "$pid"
}
