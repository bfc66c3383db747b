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

# The pool execs its workers: valgrind follows them (--trace-children).  The
# default run, the --leaky run and its recovery, and workers that die and are
# replaced (PROCPOOL_DIE_AFTER, a test aid).
scenario_procpool_pool() {
    $VG "$ROOT/procpool/pool" -S 1 &&
        $VG "$ROOT/procpool/pool" --leaky -w 3 -n 6 &&
        PROCPOOL_DIE_AFTER=2 $VG "$ROOT/procpool/pool" -w 2 -n 8
}

# Alone: two task codes 0 (all-zero bytes: the same in either byte order), EOF.
scenario_procpool_worker() {
    head -c 8 /dev/zero | $VG "$ROOT/procpool/worker"
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
