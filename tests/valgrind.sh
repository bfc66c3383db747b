#!/usr/bin/env bash
# tests/valgrind.sh - the second half of `make check`: each demo's default
# invocation under valgrind.  Fails on any memory error, any leak valgrind calls
# definite, and any fd other than 0-2 still open when a process exits.
#
# Each scenario_* function runs one demo (and its peer, for pairs) with "$VG" in
# front of every program of ours; it must return 0 when the demo behaved.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"


# Start from fds 0-2 only, whatever make or the shell handed down.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null; fi
done
exec </dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export IPC_DEMO_DIR="$WORK/ipc"

scenario_pipe_demo() {
    $VG "$ROOT/pipe/demo"
}

# until_ok SECONDS CMD...: poll CMD until it succeeds, or fail after SECONDS.
until_ok() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.05
    done
}

# fifo/: a conversation that ends with the client, then a -k server serving two
# clients until SIGTERM (its signal handler's cleanup path).
scenario_fifo_server_client() {
    local fifo="$IPC_DEMO_DIR/fifo" server status
    $VG "$ROOT/fifo/server" >"$WORK/fifo-server.out" &
    server=$!
    until_ok 60 test -p "$fifo" || return 1
    until_ok 60 grep -q 'waiting for a client' "$WORK/fifo-server.out" || return 1
    $VG "$ROOT/fifo/client" one two three || return 1
    wait "$server" || return 1
    [[ ! -e $fifo ]] || return 1

    $VG "$ROOT/fifo/server" -k >"$WORK/fifo-server-k.out" &
    server=$!
    until_ok 60 grep -q 'waiting for a client' "$WORK/fifo-server-k.out" || return 1
    $VG "$ROOT/fifo/client" first || return 1
    printf 'second\nthird\n' | $VG "$ROOT/fifo/client" || return 1
    until_ok 60 grep -q 'client says: third' "$WORK/fifo-server-k.out" || return 1
    kill -TERM "$server"
    wait "$server"
    status=$?
    [[ $status -eq 0 && ! -e $fifo ]]
}

# fd_leaks LOG: the "Open file descriptor N" blocks of LOG, N > 2, that the
# process opened itself (not "<inherited from parent>").
fd_leaks() {
    awk '/Open file descriptor [0-9]+:/ {
             n = $0; sub(/.*descriptor /, "", n); sub(/:.*/, "", n); fd = n + 0
             getline next_line
             if (fd > 2 && next_line !~ /inherited from parent/) print FILENAME ": fd " fd ": " $0
         }' "$1"
}

failed=0
for scenario in $(declare -F | awk '$3 ~ /^scenario_/ { print $3 }'); do
    logs="$WORK/${scenario#scenario_}"
    mkdir -p "$logs"
    VG="timeout 120 valgrind -q --error-exitcode=99 --track-fds=yes --leak-check=full
        --errors-for-leak-kinds=definite --trace-children=yes
        --trace-children-skip=/usr/*,/bin/* --log-file=$logs/vg.%p"
    if ! $scenario >"$logs/stdout" 2>"$logs/stderr"; then
        echo "valgrind: $scenario failed:"
        cat "$logs/stderr" "$logs"/vg.* 2>/dev/null
        failed=1
        continue
    fi
    leaks=$(for log in "$logs"/vg.*; do fd_leaks "$log"; done)
    errors=$(grep -l 'ERROR SUMMARY: [1-9]\|definitely lost' "$logs"/vg.* 2>/dev/null)
    if [[ -n $leaks || -n $errors ]]; then
        echo "valgrind: $scenario:"
        [[ -z $leaks ]] || echo "$leaks"
        [[ -z $errors ]] || cat $errors
        failed=1
        continue
    fi
    echo "valgrind: $scenario clean"
done
exit $failed
