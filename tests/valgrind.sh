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

# fifo/: a conversation that ends with the client, a client with no server, then
# a -k server serving two clients until SIGTERM (its stop path), a second server
# refused meanwhile.
scenario_fifo_server_client() {
    local fifo="$IPC_DEMO_DIR/fifo" server status
    $VG "$ROOT/fifo/server" >"$logs/server.out" &
    server=$!
    until_ok 60 grep -q 'waiting for a client' "$logs/server.out" || return 1
    $VG "$ROOT/fifo/client" one two three || return 1
    wait "$server" || return 1
    [[ ! -e $fifo ]] || return 1

    $VG "$ROOT/fifo/client" no server here && return 1

    $VG "$ROOT/fifo/server" -k >"$logs/server-k.out" &
    server=$!
    until_ok 60 grep -q 'waiting for a client' "$logs/server-k.out" || return 1
    # A second server is refused (exit 1): its lock's fd closed on the way out.
    $VG "$ROOT/fifo/server" && return 1
    $VG "$ROOT/fifo/client" first || return 1
    printf 'second\nthird\n' | $VG "$ROOT/fifo/client" || return 1
    until_ok 60 grep -q 'client says: third' "$logs/server-k.out" || return 1
    kill -TERM "$server"
    wait "$server"
    status=$?
    [[ $status -eq 0 && ! -e $fifo ]]
}

scenario_pipe_cases() {
    $VG "$ROOT/pipe/cases" all >"$logs/cases.out" || return 1
    cat "$logs/cases.out"
    # The sigpipe case's first writer dies inside write(), as the lesson says:
    # the kernel, not the writer, closes its write end.  Its log is checked for
    # memory errors here and kept out of the fd check.
    local pid
    pid=$(sed -nE 's/.* writer ([0-9]+) was killed by signal 13 \(SIGPIPE\)$/\1/p' "$logs/cases.out")
    [[ -n $pid && -f $logs/vg.$pid ]] || return 1
    if grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched)' "$logs/vg.$pid"; then
        return 1
    fi
    mv "$logs/vg.$pid" "$logs/killed-by-sigpipe.$pid"
}

scenario_pipe_atomic() {
    $VG "$ROOT/pipe/atomic" && $VG "$ROOT/pipe/atomic" -w 8 -s 4097 -n 100
}

# The commands themselves (/usr/bin/...) are not ours and run without valgrind;
# our forked children are checked up to their execvp(), or up to their exit when
# it fails (here first, in the middle and last, so each kind of fd juggling is seen).
scenario_pipe_pipeline() {
    [[ $($VG "$ROOT/pipe/pipeline" 'seq 1000' 'grep 7' 'wc -l') == 271 ]] || return 1
    [[ $($VG "$ROOT/pipe/pipeline" no-such-command-here 'seq 3' no-such-command-here 'wc -l') == 0 ]] ||
        return 1
    $VG "$ROOT/pipe/pipeline" 'true' no-such-command-here
    (($? == 127))
}

# shm_round WRITER_ARGS...: a reader in the background, then a writer, both
# under valgrind; the reader is polled for (with a deadline) before the writer starts.
shm_round() {
    local deadline=$((SECONDS + 60)) reader rc=0
    $VG "$ROOT/shm/reader" >"$logs/reader.out" &
    reader=$!
    # Waiting, and in its open() (the reader is the child of timeout): a
    # writer's O_NONBLOCK open finds it there.
    until grep -q 'waiting for shm/writer' "$logs/reader.out" 2>/dev/null &&
        [[ $(cat "/proc/$reader/task/$reader/children" 2>/dev/null) =~ ^([0-9]+) ]] &&
        grep -q ') S' "/proc/${BASH_REMATCH[1]}/stat" 2>/dev/null; do
        if ((SECONDS >= deadline)) || ! kill -0 "$reader" 2>/dev/null; then
            kill "$reader" 2>/dev/null
            wait "$reader"
            return 1
        fi
        sleep 0.05
    done
    $VG "$ROOT/shm/writer" "$@" || rc=1
    wait "$reader" || rc=1
    return $rc
}

scenario_shm_reader_writer() {
    shm_round "first message" second third &&
        shm_round -n 300 &&
        shm_round -u -n 300
}

# The pool execs its workers: valgrind follows them (--trace-children).  The
# default run, --leaky (stuck, then recovered), --cloexec, and a worker killed
# from outside mid-run (kill -9, the pid the pool printed), replaced.
scenario_procpool_pool() {
    $VG "$ROOT/procpool/pool" &&
        $VG "$ROOT/procpool/pool" --leaky -w 3 -n 6 &&
        $VG "$ROOT/procpool/pool" --cloexec -w 3 -n 6 || return 1
    local out="$logs/killed.out" pool victim
    $VG "$ROOT/procpool/pool" -w 2 -n 40 -d 50 >"$out" &
    pool=$!
    until_ok 60 grep -qE '^\[pool [0-9]+\] task 3 \(' "$out" || { kill "$pool"; wait "$pool"; return 1; }
    victim=$(sed -nE 's/^\[pool [0-9]+\] started worker1 \(pid ([0-9]+)\).*/\1/p' "$out")
    kill -KILL "$victim"
    wait "$pool" || return 1
    grep -qE "worker1 \(pid $victim\) was killed by signal 9" "$out" || return 1
    # Killed inside valgrind, it wrote no summary: its log is checked for
    # memory errors here and kept out of the fd check.
    if grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched)' "$logs/vg.$victim"; then
        return 1
    fi
    mv "$logs/vg.$victim" "$logs/killed.$victim"
}

# Alone: two task codes 0 (all-zero bytes: the same in either byte order), EOF.
scenario_procpool_worker() {
    head -c 8 /dev/zero | $VG "$ROOT/procpool/worker"
}

# The server in the background, clients (arguments, stdin, -q) once it is ready;
# then a server stopped by SIGTERM; then what a killed server (not under
# valgrind: kill -9) leaves, removed by --cleanup, and by a new server.
msgq_server_bg() {     # msgq_server_bg LOG [PREFIX...]: sets $server
    local log=$1
    shift
    "$@" "$ROOT/msgq/server" >"$log" &
    server=$!
    until_ok 60 grep -q 'waiting for requests' "$log" || { kill "$server"; wait "$server"; return 1; }
}

scenario_msgq_server_client() {
    local server
    msgq_server_bg "$logs/server.out" $VG || return 1
    $VG "$ROOT/msgq/client" hello world &&
        printf 'from\nstdin\n' | $VG "$ROOT/msgq/client" &&
        $VG "$ROOT/msgq/client" -q || { kill "$server"; wait "$server"; return 1; }
    wait "$server" || return 1
    msgq_server_bg "$logs/server-term.out" $VG || return 1
    kill -TERM "$server"
    wait "$server" || return 1
    msgq_server_bg "$logs/killed.out" || return 1
    kill -KILL "$server"
    wait "$server"
    $VG "$ROOT/msgq/server" --cleanup || return 1
    msgq_server_bg "$logs/killed2.out" || return 1
    kill -KILL "$server"
    wait "$server"
    msgq_server_bg "$logs/server-after.out" $VG || return 1
    grep -q 'was left by a killed run' "$logs/server-after.out" &&
        $VG "$ROOT/msgq/client" -q && wait "$server"
}

# Each mode; the workers are forked, not exec'd: valgrind follows them.
scenario_sem_race() {
    $VG "$ROOT/sem/race" &&
        $VG "$ROOT/sem/race" -m all -n 500
}

# Each lock and its dead holder.  The holder is killed by SIGKILL (valgrind
# cannot check a process killed so): its log is checked for errors only.
scenario_sem_holder_dies() {
    local args pid
    for args in "-m sem" "-m sem -n -t 50" "-m posix -t 50" "-m mutex" "-m mutex -n"; do
        $VG "$ROOT/sem/holder-dies" $args >"$logs/holder.out" || return 1
        pid=$(sed -nE 's/.*killed the holder \(pid ([0-9]+)\).*/\1/p' "$logs/holder.out")
        [[ -n $pid && -f $logs/vg.$pid ]] || return 1
        if grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched)' "$logs/vg.$pid"; then
            return 1
        fi
        mv "$logs/vg.$pid" "$logs/killed-holder.$pid"
    done
}

# A --quick run of every mechanism at a small and a large size (posix-mq and
# msgq n/a there), round trips too, writer and echo children included (dd and
# perf are skipped: they are not ours).  All six sizes take valgrind minutes.
scenario_bench_ipcbench() {
    $VG "$ROOT/bench/ipcbench" --quick --latency -s 64,64K -r 1
}

# intro/: the lesson, then again with -v and -f (print_fds reads /proc/self/fd).
scenario_intro_isolation() {
    $VG "$ROOT/intro/isolation" && $VG "$ROOT/intro/isolation" -v -f
}

# socket/: a server with clients (arguments, standard input, a line too long
# for the server, the abstract namespace), each stopped with SIGTERM.
scenario_socket_server_client() {
    local out server long
    long=$(head -c 5000 /dev/zero | tr '\0' x)
    for args in "" "-a"; do
        out="$logs/server$args.out"
        $VG "$ROOT/socket/server" $args >"$out" &
        server=$!
        until_ok 60 grep -q 'listening on' "$out" || { kill "$server"; return 1; }
        $VG "$ROOT/socket/client" $args hello world &&
            printf 'from\nstdin\n' | $VG "$ROOT/socket/client" $args &&
            $VG "$ROOT/socket/client" $args "$long" || { kill "$server"; wait "$server"; return 1; }
        kill -TERM "$server"
        wait "$server" || return 1
        [[ ! -e $IPC_DEMO_DIR/socket ]] || return 1
    done
}

# socket/pass: a file, a pipe and a memfd, then senders the receiver refuses
# (two fds for one, five that do not fit: MSG_CTRUNC, an unsealed memfd): no
# fd left open on either side, received ones included.
scenario_socket_pass() {
    local kind recv status out
    printf 'abcdefghijklmnopqrstuvwxyz0123456789\n' >"$logs/alpha"
    for kind in "file $logs/alpha" pipe memfd "fds 2" "fds 5" "fds unsealed"; do
        out="$logs/recv.${kind// /-}.out"
        out=${out//\//-}
        out="$logs/${out##*/}"
        $VG "$ROOT/socket/pass" recv >"$out" &
        recv=$!
        until_ok 60 grep -q 'waiting for a sender' "$out" || { kill "$recv"; return 1; }
        case $kind in
        "fds 2") "$ROOT/tests/socket-fds" "$IPC_DEMO_DIR/pass" 9 "$logs/alpha" "$logs/alpha" ;;
        "fds 5") "$ROOT/tests/socket-fds" "$IPC_DEMO_DIR/pass" 9 "$logs/alpha" "$logs/alpha" \
                     "$logs/alpha" "$logs/alpha" "$logs/alpha" ;;
        "fds unsealed") "$ROOT/tests/socket-fds" "$IPC_DEMO_DIR/pass" 9 unsealed-memfd ;;
        *) $VG "$ROOT/socket/pass" send $kind ;;
        esac || { kill "$recv"; wait "$recv"; return 1; }
        wait "$recv"
        status=$?
        case $kind in
        "fds 5" | "fds unsealed") ((status == 1)) || return 1 ;;
        *) ((status == 0)) || return 1 ;;
        esac
    done
}

# posix-mq/: the server in the background, clients (arguments, stdin with a
# priority, -q); a server stopped by SIGTERM (its signalfd read) while a client
# waits; then what a killed server and client leave (kill -9: not under
# valgrind), removed by --cleanup.
pmq_server_bg() {      # pmq_server_bg LOG [PREFIX...]: sets $server
    local log=$1
    shift
    "$@" "$ROOT/posix-mq/server" "${PMQ_ARGS[@]}" >"$log" &
    server=$!
    until_ok 60 grep -q 'waiting for requests' "$log" || { kill "$server"; wait "$server"; return 1; }
}

scenario_posix_mq_server_client() {
    local server client PMQ_ARGS=()
    pmq_server_bg "$logs/server.out" $VG || return 1
    $VG "$ROOT/posix-mq/client" hello world &&
        printf 'from\nstdin\n' | $VG "$ROOT/posix-mq/client" -P 5 &&
        $VG "$ROOT/posix-mq/client" -q || { kill "$server"; wait "$server"; return 1; }
    wait "$server" || return 1
    PMQ_ARGS=(-d 60000)
    pmq_server_bg "$logs/server-term.out" $VG || return 1
    $VG "$ROOT/posix-mq/client" waits >"$logs/client.out" 2>&1 &
    client=$!
    until_ok 60 grep -q 'sent: waits' "$logs/client.out" || { kill "$server" "$client"; return 1; }
    kill -TERM "$server"
    wait "$server" || return 1
    wait "$client"
    (($? == 1)) || return 1
    PMQ_ARGS=()
    pmq_server_bg "$logs/killed.out" || return 1
    "$ROOT/posix-mq/client" -d 60000 orphan &
    client=$!
    until_ok 60 compgen -G "$IPC_DEMO_DIR/*.[0-9]*.owner" >/dev/null || { kill "$server" "$client"; return 1; }
    kill -KILL "$server" "$client"
    wait "$server" "$client"
    $VG "$ROOT/posix-mq/server" --cleanup >"$logs/cleanup.out" || return 1
    grep -q 'removed its reply queue' "$logs/cleanup.out"
}

# posix-shm/: a reader in the background, then a writer (arguments, -n,
# standard input), both under valgrind; then a reader stopped by SIGTERM.
posix_shm_round() {     # posix_shm_round LOG CMD...: CMD once the reader waits
    local log=$1 rc=0
    shift
    $VG "$ROOT/posix-shm/reader" >"$log" &
    reader=$!
    until_ok 60 grep -q 'waiting for posix-shm/writer' "$log" || { kill "$reader"; wait "$reader"; return 1; }
    "$@" || rc=1
    wait "$reader" || rc=1
    return $rc
}

scenario_posix_shm_reader_writer() {
    local reader
    posix_shm_round "$logs/args.out" $VG "$ROOT/posix-shm/writer" "first message" second &&
        posix_shm_round "$logs/n.out" $VG "$ROOT/posix-shm/writer" -n 300 &&
        printf 'from\nstdin\n' | posix_shm_round "$logs/stdin.out" $VG "$ROOT/posix-shm/writer" &&
        posix_shm_round "$logs/term.out" eval 'kill -TERM $reader' &&
        grep -q 'caught SIGTERM' "$logs/term.out"
}

# bench/ipcbench where perf is not installed: the child that cannot exec it
# leaves with no fd of the pipe it was to write to.
scenario_bench_ipcbench_no_perf() {
    local bin="$logs/bin" tool
    mkdir -p "$bin"
    for tool in dd timeout valgrind valgrind.bin; do    # Debian's valgrind execs $0.bin
        ! command -v "$tool" >/dev/null || ln -sf "$(command -v "$tool")" "$bin/$tool"
    done
    PATH="$bin" $VG "$ROOT/bench/ipcbench" --quick --latency -m pipe -s 64 -r 1 &&
        grep -qE 'perf +skipped: perf is not installed' "$logs/stdout"
}

# fd_leaks LOG: the "Open file descriptor N" blocks of LOG, N > 2, that the
# process opened itself (not "<inherited from parent>").  valgrind names a
# socket differently: "Open AF_UNIX socket N: ...".
fd_leaks() {
    awk '/Open (file descriptor|[A-Z0-9_]+ socket) [0-9]+:/ {
             n = $0; sub(/.*(descriptor|socket) /, "", n); sub(/:.*/, "", n); fd = n + 0
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
        echo "not ok - valgrind: $scenario failed:"
        cat "$logs/stderr" "$logs"/vg.* 2>/dev/null
        failed=1
        continue
    fi
    leaks=$(for log in "$logs"/vg.*; do fd_leaks "$log"; done)
    errors=$(grep -l 'ERROR SUMMARY: [1-9]\|definitely lost' "$logs"/vg.* 2>/dev/null)
    if [[ -n $leaks || -n $errors ]]; then
        echo "not ok - valgrind: $scenario:"
        [[ -z $leaks ]] || echo "$leaks"
        [[ -z $errors ]] || cat $errors
        failed=1
        continue
    fi
    echo "ok - valgrind: $scenario clean"
done
exit $failed
