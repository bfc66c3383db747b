#!/usr/bin/env bats
# labs/pool-fds: the pool shuts down the notes' way (close a pipe, wait for its
# worker, the next) without hanging, and no worker holds a write end of any
# worker's pipe.  Either fix passes: closing them in each child before
# execl(), or making them close-on-exec.
# make grade LAB=pool-fds [FILE=path]

load ../lib

export WORKERS=4

# find_workers: WORKER_PIDS and WORKER_NAMES ("worker2"), the processes of the
# program that run as "PROG worker N" (after execl()).
find_workers() {
    local p
    WORKER_PIDS=() WORKER_NAMES=()
    find_pids
    for p in "${PIDS[@]}"; do
        args_of "$p"
        [[ ${ARGS[1]-} == worker ]] || continue
        WORKER_PIDS+=("$p")
        WORKER_NAMES+=("worker${ARGS[2]-?}")
    done
}

# name_of PID: "worker2 (pid 123)", or "the pool (pid 122)".
name_of() {
    local i
    for i in "${!WORKER_PIDS[@]}"; do
        [[ ${WORKER_PIDS[$i]} == "$1" ]] && { echo "${WORKER_NAMES[$i]} (pid $1)"; return; }
    done
    echo "the pool (pid $1)"
}

# all_waiting: $WORKERS workers, each asleep reading its pipe.
all_waiting() {
    local p
    find_workers
    ((${#WORKER_PIDS[@]} == WORKERS)) || return 1
    for p in "${WORKER_PIDS[@]}"; do
        asleep_in "$p" pipe || return 1
    done
}

@test "pool-fds: seq 8 | pool: the pool shuts down, each worker sees end of file, every task done once" {
    seq 8 >"$OUT/tasks"
    start_prog <"$OUT/tasks"
    watch_prog
    if ((STUCK)); then
        local i p inode holder fd main
        main=$(main_pid)
        find_workers
        echo "the pool (pid $main) is asleep in $(wchan_of "$main") (waitpid), and:" >&2
        for i in "${!WORKER_PIDS[@]}"; do
            p=${WORKER_PIDS[$i]}
            inode=$(pipe_of "$p" 0) || continue
            asleep_in "$p" pipe || continue
            echo "  ${WORKER_NAMES[$i]} (pid $p) is blocked in read() on its pipe, pipe:[$inode]; its write ends:" >&2
            while read -r holder fd; do
                [[ -n $holder ]] && echo "    $(name_of "$holder") holds one as fd $fd" >&2
            done < <(write_ends "$inode")
        done
        fail "the shutdown hangs: the pool closed a worker's pipe and waits for it, but that worker's read() never returns 0 - who else holds a write end of its pipe, and how did they get it? (the lines above, from /proc/PID/fd)"
    fi
    ((status != 124)) || fail "the pool did not end within ${T}s"
    ((status == 0)) || fail "the pool exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    local got
    got=$(grep -oE 'task [0-9]+$' "$OUT/out" | grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
    [[ $got == "1 2 3 4 5 6 7 8 " ]] ||
        fail "the workers ran tasks '$got', expected each of 1 to 8 once (keep the starter's 'task N' lines)"
    (($(grep -c 'read() returned 0: end of file' "$OUT/out") == WORKERS)) ||
        fail "not every one of the $WORKERS workers said 'read() returned 0: end of file'"
}

@test "pool-fds: while the pool waits for tasks, no worker holds a write end of any worker's pipe" {
    hold_stdin
    start_prog <"$OUT/in"
    printf '1\n2\n' >&7
    wait_until "$WORKERS workers, each blocked reading its pipe" all_waiting ||
        fail "the pool did not start $WORKERS workers (\"PROG worker N\", after execl()) waiting for tasks within ${T}s; its stderr: $(head -c 300 "$OUT/err")"
    find_workers

    # Which pipe each worker reads (its fd 0), then every fd of every worker.
    local i j reads=() bad=0
    fd_table
    for i in "${!WORKER_PIDS[@]}"; do
        for j in "${!FD_PID[@]}"; do
            [[ ${FD_PID[$j]} == "${WORKER_PIDS[$i]}" && ${FD_NUM[$j]} == 0 ]] && reads[i]=${FD_LINK[$j]}
        done
    done
    for j in "${!FD_PID[@]}"; do
        [[ ${FD_LINK[$j]} == pipe:* ]] || continue
        for i in "${!WORKER_PIDS[@]}"; do
            [[ ${reads[i]-} == "${FD_LINK[$j]}" ]] || continue
            writes_to "${FD_PID[$j]}" "${FD_NUM[$j]}" || continue
            [[ ${FD_PID[$j]} == "$(main_pid)" ]] && continue    # the pool's own
            echo "  $(name_of "${FD_PID[$j]}"): fd ${FD_NUM[$j]} -> ${FD_LINK[$j]}, the write end of ${WORKER_NAMES[$i]}'s pipe" >&2
            bad=1
        done
    done
    ((bad == 0)) ||
        fail "workers hold write ends of the workers' pipes (above): inherited through fork(), kept across execl(); while one does, closing that pipe in the pool cannot give its worker end of file. Close them in the child, or make them close-on-exec"
    release_stdin
    watch_prog
    ((STUCK == 0)) || fail "the pool hangs once its input ended"
    ((status == 0)) || fail "the pool did not end well once its input ended (status $status)"
}
