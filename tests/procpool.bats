#!/usr/bin/env bats
# procpool/: the process pool and its worker.

load helpers

# What the tasks must compute, from cksum(1) itself, never from our programs.
download_sum() { seq 1000 | cksum | cut -d' ' -f1; }
video_sum() { for c in {a..x}; do printf '%01023d\n' 0 | tr 0 "$c"; done | cksum | cut -d' ' -f1; }

# codes N...: each N as the 4 bytes of a uint32_t in this machine's byte order.
codes() {
    local n b little
    little=$(printf '\001\000' | od -An -tu2 | tr -d ' ')
    for n in "$@"; do
        b=($((n & 255)) $(((n >> 8) & 255)) $(((n >> 16) & 255)) $(((n >> 24) & 255)))
        [[ $little == 1 ]] || b=("${b[3]}" "${b[2]}" "${b[1]}" "${b[0]}")
        # shellcheck disable=SC2059
        printf "$(printf '\\%03o' "${b[@]}")"
    done
}

# The pool's lines, without "[pool PID] ".
pool_lines() { sed -nE 's/^\[pool [0-9]+\] //p' <<<"$output"; }

# The task numbers of the dispatch lines / the completion lines, one a line.
dispatched_tasks() { pool_lines | sed -nE 's/^task ([0-9]+) \([a-z-]+\) -> worker[0-9]+ \(pid [0-9]+\)$/\1/p'; }
completed_tasks() { pool_lines | sed -nE 's/^task ([0-9]+) done by worker[0-9]+ \(pid [0-9]+\): result [0-9]+$/\1/p'; }

# every_task_once N: the completion lines name each of the tasks 1..N exactly once.
every_task_once() {
    completed_tasks | sort -n >"$OUT/done"
    seq "$1" | diff - "$OUT/done"
}

summary_is() {
    [ "$(pool_lines | tail -n 1)" = "$1" ]
}

# The pids the pool's "started workerK (pid P)" lines name, the latest per K.
current_workers() {
    pool_lines | sed -nE 's/^started worker([0-9]+) \(pid ([0-9]+)\).*/\1 \2/p' |
        awk '{ pid[$1] = $2 } END { for (k in pid) print k, pid[k] }' | sort -n
}

# ---- procpool/pool ----

@test "procpool/pool: the default run dispatches 10 tasks to 5 workers and completes each once" {
    run_t "$BIN/procpool/pool"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$(dispatched_tasks | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
    every_task_once 10
    [ "$(grep -cE '^\[worker[0-4] [0-9]+\] running task [0-2]: ' <<<"$output")" -eq 10 ]
    for k in 0 1 2 3 4; do
        grep -qE "^\[pool [0-9]+\] worker$k \(pid [0-9]+\) exited with status 0$" <<<"$output"
        grep -qE "^\[worker$k [0-9]+\] read\(\) returned 0: end of file" <<<"$output"
    done
    summary_is "10 tasks dispatched, 10 completed, 5 workers exited cleanly"
}

@test "procpool/pool: each dispatch wakes the named worker, whose result comes back to the pool" {
    run_t "$BIN/procpool/pool" -w 3 -n 30
    [ "$status" -eq 0 ]
    dl=$(download_sum) video=$(video_sum)
    while read -r t name k pid; do
        # The worker with that pid ran a task of that name ...
        grep -qE "^\[worker$k $pid\] running task [0-2]: $name: " <<<"$output"
        # ... and the pool got its result back: the checksum cksum(1) computes.
        result=$(pool_lines | sed -nE "s/^task $t done by worker$k \(pid $pid\): result ([0-9]+)$/\1/p")
        case $name in
        download) [ "$result" = "$dl" ] ;;
        push-video-stream) [ "$result" = "$video" ] ;;
        print-log) [ "$result" -ge 1 ] && [ "$result" -le 30 ] ;;
        esac
    done < <(pool_lines | sed -nE 's/^task ([0-9]+) \(([a-z-]+)\) -> worker([0-9]+) \(pid ([0-9]+)\)$/\1 \2 \3 \4/p')
    [ "$(dispatched_tasks | wc -l)" -eq 30 ]
}

@test "procpool/pool: round-robin hands task T to worker (T-1) mod W, evenly" {
    run_t "$BIN/procpool/pool" -w 4 -n 100 -s rr
    [ "$status" -eq 0 ]
    pool_lines | sed -nE 's/^task ([0-9]+) \([a-z-]+\) -> worker([0-9]+) .*/\1 \2/p' >"$OUT/pairs"
    [ "$(wc -l <"$OUT/pairs")" -eq 100 ]
    awk '$2 != ($1 - 1) % 4 { print "task " $1 " went to worker" $2; bad = 1 } END { exit bad }' "$OUT/pairs"
    for k in 0 1 2 3; do
        [ "$(grep -cE "^\[worker$k [0-9]+\] running task" <<<"$output")" -eq 25 ]
    done
    summary_is "100 tasks dispatched, 100 completed, 4 workers exited cleanly"
}

@test "procpool/pool: -S SEED makes a random run repeat exactly; another seed differs" {
    n=0
    for seed in 42 42 43; do
        run_t "$BIN/procpool/pool" -s random -S "$seed" -w 4 -n 40
        [ "$status" -eq 0 ]
        grep -qF "seed $seed: -S $seed repeats this run" <<<"$output"
        pool_lines | sed -nE 's/^(task [0-9]+ \([a-z-]+\) -> worker[0-9]+) .*/\1/p' >"$OUT/run.$seed.$n"
        n=$((n + 1))
    done
    [ "$(wc -l <"$OUT/run.42.0")" -eq 40 ]
    diff "$OUT/run.42.0" "$OUT/run.42.1"
    [ "$(cat "$OUT/run.42.0")" != "$(cat "$OUT/run.43.2")" ]
    # Random: not the round-robin order, and more than one worker used.
    [ "$(awk '{ split($5, w, "worker"); if (w[2] != (NR - 1) % 4) off++ } END { print off + 0 }' "$OUT/run.42.0")" -gt 0 ]
    [ "$(awk '{ print $5 }' "$OUT/run.42.0" | sort -u | wc -l)" -gt 1 ]
}

@test "procpool/pool -S: the task codes repeat in round-robin too" {
    run_t "$BIN/procpool/pool" -S 7 -n 20
    pool_lines | grep -E '^task [0-9]+ \(' | sed 's/ (pid.*//' >"$OUT/a"
    run_t "$BIN/procpool/pool" -S 7 -n 20
    pool_lines | grep -E '^task [0-9]+ \(' | sed 's/ (pid.*//' >"$OUT/b"
    [ "$(wc -l <"$OUT/a")" -eq 20 ]
    diff "$OUT/a" "$OUT/b"
}

@test "procpool/pool -n 0: no task, the workers still start, see end of file and are reaped" {
    run_t "$BIN/procpool/pool" -n 0
    [ "$status" -eq 0 ]
    [ -z "$(dispatched_tasks)" ]
    [ "$(grep -cE '^\[worker[0-4] [0-9]+\] read\(\) returned 0: .*ran 0 tasks' <<<"$output")" -eq 5 ]
    summary_is "0 tasks dispatched, 0 completed, 5 workers exited cleanly"
}

@test "procpool/pool -w 1: one worker does everything" {
    run_t "$BIN/procpool/pool" -w 1 -n 10
    [ "$status" -eq 0 ]
    [ "$(pool_lines | grep -cE '^task [0-9]+ \([a-z-]+\) -> worker0 ')" -eq 10 ]
    [ "$(grep -cE '^\[worker0 [0-9]+\] running task' <<<"$output")" -eq 10 ]
    every_task_once 10
    summary_is "10 tasks dispatched, 10 completed, 1 workers exited cleanly"
}

@test "procpool/pool -w 64 -n 10000: finishes, every task completed once" {
    T=60 run_t "$BIN/procpool/pool" -w 64 -n 10000
    [ "$status" -eq 0 ]
    every_task_once 10000
    [ "$(dispatched_tasks | wc -l)" -eq 10000 ]
    summary_is "10000 tasks dispatched, 10000 completed, 64 workers exited cleanly"
}

@test "procpool/pool -f: a worker holds only fds 0-2, its own read end and the results pipe" {
    # Bats hands its own fds to what it runs: the pool must not pass them on.
    run_t "$BIN/procpool/pool" -f -w 4 -n 4
    [ "$status" -eq 0 ]
    read -r rpipe rfd < <(pool_lines | sed -nE 's/^results pipe (pipe:\[[0-9]+\]): every worker writes fd ([0-9]+),.*/\1 \2/p')
    [ -n "$rpipe" ] && [ -n "$rfd" ]
    for k in 0 1 2 3; do
        own=$(pool_lines | sed -nE "s/^started worker$k \(pid [0-9]+\): it reads (pipe:\[[0-9]+\]) as stdin.*/\1/p")
        [ -n "$own" ]
        pool_lines | sed -nE "s/^worker$k \(pid [0-9]+\): fd ([0-9]+) -> (.*)/\1 \2/p" >"$OUT/fds$k"
        cat "$OUT/fds$k"
        [ "$(cut -d' ' -f1 "$OUT/fds$k" | sort -n | tr '\n' ' ')" = "0 1 2 $rfd " ]
        grep -qxF "0 $own" "$OUT/fds$k"
        grep -qxF "$rfd $rpipe" "$OUT/fds$k"
    done
    # The pool holds the results pipe's two ends and one write end per worker.
    [ "$(pool_lines | grep -cxF "fd $rfd -> $rpipe")" -eq 1 ]
    [ "$(pool_lines | grep -cE "^fd [0-9]+ -> ${rpipe//[/\\[}\$")" -eq 2 ]
    for k in 0 1 2 3; do
        own=$(pool_lines | sed -nE "s/^started worker$k \(pid [0-9]+\): it reads (pipe:\[[0-9]+\]) as stdin, the pool writes it through fd ([0-9]+)$/fd \2 -> \1/p")
        pool_lines | grep -qxF "$own"
    done
}

@test "procpool/pool --leaky -f: each worker keeps the write ends of the earlier workers' pipes" {
    run_t "$BIN/procpool/pool" --leaky -f -w 4 -n 4
    [ "$status" -eq 0 ]
    for k in 0 1 2 3; do
        pipes[k]=$(pool_lines | sed -nE "s/^started worker$k \(pid [0-9]+\): it reads (pipe:\[[0-9]+\]) as stdin.*/\1/p")
        [ -n "${pipes[k]}" ]
        # fds 1 and 2 are whatever the test gave the pool (a pipe, here)
        pool_lines | sed -nE "s/^worker$k \(pid [0-9]+\): fd ([03-9]|[0-9][0-9]+) -> (pipe:.*)/\2/p" >"$OUT/pipes$k"
    done
    for k in 1 2 3; do
        for ((j = 0; j < k; j++)); do
            grep -qxF "${pipes[j]}" "$OUT/pipes$k"
        done
        # its own pipe, the results pipe, and the k inherited write ends
        [ "$(wc -l <"$OUT/pipes$k")" -eq $((k + 2)) ]
    done
    [ "$(wc -l <"$OUT/pipes0")" -eq 2 ]
}

@test "procpool/pool --leaky: the stuck shutdown is noticed, explained, recovered; exit 0" {
    run_t "$BIN/procpool/pool" --leaky
    [ "$status" -eq 0 ]
    pool_lines | grep -qxF "worker0 still has 4 writers: the later workers inherited its write end"
    for k in 1 2 3 4; do
        pool_lines | grep -qE "^  worker$k \(pid [0-9]+\) holds it as fd [0-9]+$"
    done
    pool_lines | grep -qE '^worker0 \(pid [0-9]+\) has not exited after 1 second'
    pool_lines | grep -qxF "recovering: closing every write end first, then reaping"
    pool_lines | grep -qE '^lesson: '
    every_task_once 10
    summary_is "10 tasks dispatched, 10 completed, 5 workers exited cleanly"
}

@test "procpool/pool: without --leaky the notes' close-then-wait order just works" {
    run_t "$BIN/procpool/pool" -w 3 -n 3
    [ "$status" -eq 0 ]
    [ "$(grep -c 'still has' <<<"$output")" -eq 0 ]
    # close worker K's pipe, worker K exits, then the next: strictly in that order.
    pool_lines | grep -E '^(closing fd [0-9]+, worker[0-9]|worker[0-9] \(pid [0-9]+\) exited)' |
        sed -E 's/^closing fd [0-9]+, (worker[0-9]).*/close \1/; s/^(worker[0-9]) .*/exit \1/' >"$OUT/order"
    printf 'close worker0\nexit worker0\nclose worker1\nexit worker1\nclose worker2\nexit worker2\n' |
        diff - "$OUT/order"
}

@test "procpool/pool: workers that die (test aid PROCPOOL_DIE_AFTER) are replaced, no task lost" {
    PROCPOOL_DIE_AFTER=3 run_t "$BIN/procpool/pool" -w 4 -n 60
    [ "$status" -eq 0 ]
    killed=$(pool_lines | grep -cE '^worker[0-3] \(pid [0-9]+\) was killed by signal 9 \(SIGKILL\) with [0-9]+ tasks? unfinished$')
    [ "$killed" -ge 4 ]
    pool_lines | grep -qE '^re-dispatching task [0-9]+ '
    pool_lines | grep -qE "^deaths during the run: $killed; replacements started: $killed; tasks re-dispatched: [0-9]+$"
    every_task_once 60
    summary_is "60 tasks dispatched, 60 completed, 4 workers exited cleanly"
}

@test "procpool/pool: PROCPOOL_DIE_AFTER=INDEX:K kills only that worker, again and again" {
    PROCPOOL_DIE_AFTER=2:1 run_t "$BIN/procpool/pool" -w 3 -n 30
    [ "$status" -eq 0 ]
    [ "$(pool_lines | grep -cE '^worker2 \(pid [0-9]+\) was killed by signal 9')" -ge 5 ]
    [ "$(pool_lines | grep -cE '^worker[01] \(pid [0-9]+\) was killed')" -eq 0 ]
    every_task_once 30
    summary_is "30 tasks dispatched, 30 completed, 3 workers exited cleanly"
}

@test "procpool/pool: workers that die before completing anything make it give up, not spin" {
    PROCPOOL_DIE_AFTER=0 run_t "$BIN/procpool/pool" -w 2 -n 5
    [ "$status" -eq 1 ]
    pool_lines | grep -qE '^worker[01] died 3 times in a row before completing a task: giving up$'
    [[ $stderr == *"procpool/pool: workers kept dying before completing a task: gave up"* ]]
    pool_lines | tail -n 1 | grep -qE '^[0-5] tasks dispatched, 0 completed, [0-2] workers exited cleanly$'
}

# zombies_of PID: the pids of PID's children that are zombies.
zombies_of() {
    local stat pid rest fields
    for stat in /proc/[0-9]*/stat; do
        read -r pid rest <"$stat" 2>/dev/null || continue
        read -ra fields <<<"${rest##*) }"
        if [[ ${fields[0]} == Z && ${fields[1]} == "$1" ]]; then echo "$pid"; fi
    done
}

# wait_for_more FILE TEXT COUNT: poll until more than COUNT lines of FILE contain TEXT.
wait_for_more() {
    local deadline=$((SECONDS + T))
    until (($(grep -cF -- "$2" "$1") > $3)); do
        if ((SECONDS >= deadline)); then
            echo "timed out waiting for more than $3 lines with '$2' in $1" >&2
            return 1
        fi
        sleep 0.02
    done
}

@test "procpool/pool: a worker killed from outside mid-run is replaced and its tasks sent again" {
    # Stopped, worker1 holds the pool back once it has 8 tasks unfinished (the
    # window), so the run cannot end before the kill.
    start_bg pool "$BIN/procpool/pool" -w 3 -n 60 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 2 \('
    pool=$(bg_child pool)
    victim=$(sed -nE 's/^\[pool [0-9]+\] started worker1 \(pid ([0-9]+)\).*/\1/p' "$OUT/pool.out")
    # Stopped, it cannot complete what it is sent next: that task is in its pipe
    # when it dies, and must be sent again.
    kill -STOP "$victim"
    wait_until "worker1 to stop" stopped "$victim"
    wait_for_more "$OUT/pool.out" "-> worker1 (pid $victim)" "$(grep -cF -- "-> worker1 (pid $victim)" "$OUT/pool.out")"
    kill -KILL "$victim"
    wait_for_line "$OUT/pool.out" "worker1 \(pid $victim\) was killed by signal 9 \(SIGKILL\) with [1-9][0-9]* tasks? unfinished"
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] started worker1 \(pid [0-9]+\)'
    # Reaped at once: no zombie under the pool while it goes on.
    [ -z "$(zombies_of "$pool")" ]
    wait_bg pool
    [ "$status" -eq 0 ]
    output=$(cat "$OUT/pool.out")
    pool_lines | grep -qE '^re-dispatching task [0-9]+ \([a-z-]+\) -> worker1 '
    every_task_once 60
    summary_is "60 tasks dispatched, 60 completed, 3 workers exited cleanly"
}

@test "procpool/pool: SIGTERM mid-run: every write end closed, every worker reaped, exit 1" {
    start_bg pool "$BIN/procpool/pool" -n 1000 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 5 \('
    kill -TERM "$(bg_child pool)"
    wait_bg pool
    [ "$status" -eq 1 ]
    output=$(cat "$OUT/pool.out")
    pool_lines | grep -qxF "stopped by SIGTERM: closing every write end, then reaping the workers"
    while read -r k pid; do
        pool_lines | grep -qE "^worker$k \(pid $pid\) exited with status 0$"
        [ ! -e "/proc/$pid" ] || [ "$(awk '{ print $3 }' "/proc/$pid/stat")" != Z ]
    done < <(current_workers)
    [ "$(current_workers | wc -l)" -eq 5 ]
    grep -qxF "procpool/pool: stopped by SIGTERM before every task was completed" "$OUT/pool.err"
    pool_lines | tail -n 1 | grep -qE '^[0-9]+ tasks dispatched, [0-9]+ completed, 5 workers exited cleanly$'
}

@test "procpool/pool: Ctrl-C (SIGINT to the pool and its workers): all reaped, none replaced" {
    start_bg pool "$BIN/procpool/pool" -w 3 -n 1000 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 4 \('
    output=$(cat "$OUT/pool.out")
    mapfile -t pids < <(current_workers | cut -d' ' -f2)
    [ "${#pids[@]}" -eq 3 ]
    kill -INT "$(bg_child pool)" "${pids[@]}"
    wait_bg pool
    [ "$status" -eq 1 ]
    output=$(cat "$OUT/pool.out")
    pool_lines | grep -qxF "stopped by SIGINT: closing every write end, then reaping the workers"
    [ "$(pool_lines | grep -cE '^started worker')" -eq 3 ]
    [ "$(pool_lines | grep -cE '^worker[0-2] \(pid [0-9]+\) (exited|was killed)')" -eq 3 ]
}

@test "procpool/pool: the pool killed (also --leaky): no worker is left waiting" {
    for leaky in "" --leaky; do
        start_bg pool "$BIN/procpool/pool" $leaky -w 4 -n 1000 -d 20
        wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 6 \('
        output=$(cat "$OUT/pool.out")
        kill -KILL "$(bg_child pool)"
        wait_bg pool
        # Their pipes lost their last writer: each worker reads end of file and exits.
        for pid in $(current_workers | cut -d' ' -f2); do
            wait_until "worker $pid to exit" exited "$pid"
        done
        # Each saw end of file, or first ran a task still queued and found nobody
        # to report it to (EPIPE).
        eof=$(grep -cE '^\[worker[0-3] [0-9]+\] read\(\) returned 0' "$OUT/pool.out" || true)
        epipe=$(grep -cF 'procpool/worker: write to the results pipe (is the pool gone?): Broken pipe' "$OUT/pool.err" || true)
        [ $((eof + epipe)) -eq 4 ]
    done
}

@test "procpool/worker: a results pipe nobody reads (the pool gone) is reported, exit 1" {
    exec {fd}> >(exec true)
    reader=$!
    wait_until "the results reader to exit" exited "$reader"
    codes 0 >"$OUT/in"
    run_t "$BIN/procpool/worker" -i 1 -r "$fd" <"$OUT/in"
    exec {fd}>&-
    [ "$status" -eq 1 ]
    [ "$stderr" = "procpool/worker: write to the results pipe (is the pool gone?): Broken pipe" ]
}

@test "procpool/pool: finds the worker next to itself, not on PATH" {
    mkdir -p "$OUT/bin" "$OUT/elsewhere"
    cd "$OUT/elsewhere"
    run_t env PATH=/nonexistent "$BIN/procpool/pool" -n 2 -w 2
    [ "$status" -eq 0 ]
    cp "$BIN/procpool/pool" "$OUT/bin/pool"
    run_t "$OUT/bin/pool"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "procpool/pool: $OUT/bin/worker: No such file or directory (the worker must sit next to the pool: run make)" ]
}

@test "procpool/pool -v: the system calls on stderr, stdout unchanged" {
    run_t "$BIN/procpool/pool" -v -w 2 -n 2
    [ "$status" -eq 0 ]
    grep -qE '^\[pool [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr"
    grep -qE '^\[pool [0-9]+\] fork\(\) = [0-9]+$' <<<"$stderr"
    grep -qE '^\[worker1 [0-9]+\] close\([0-9]+\) = 0$' <<<"$stderr"
    grep -qE '^\[worker[01] [0-9]+\] dup2\([0-9]+, 0\) = 0$' <<<"$stderr"
    grep -qE '^\[worker[01] [0-9]+\] execv\(.*/worker\)$' <<<"$stderr"
    [ "$(grep -cE '^\[pool [0-9]+\] write\([0-9]+, 4\) = 4$' <<<"$stderr")" -eq 2 ]
    [ "$(grep -cE '^\[worker[01] [0-9]+\] read\(0, 4\) = 4$' <<<"$stderr")" -eq 2 ]
    grep -qE '^\[pool [0-9]+\] waitpid\(-1\) = [0-9]+$' <<<"$stderr"
    [ "$(grep -cE '\) = ' <<<"$output")" -eq 0 ]
}

@test "procpool/pool -d: paces the dispatches" {
    start=$(date +%s%N)
    run_t "$BIN/procpool/pool" -d 100 -n 5 -w 2
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 400 ]
}

@test "procpool/pool: bad -w, -s, -S, -d and --leaky=x are usage errors" {
    for args in "-w 0" "-w 257" "-s fifo" "-S -1" "-S 2147483648" "-d 60001" "--leaky=x"; do
        read -ra words <<<"$args"
        run_t "$BIN/procpool/pool" "${words[@]}"
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [[ $stderr == "procpool/pool: "* ]]
        [[ $stderr == *"usage: procpool/pool"* ]]
    done
    run_t "$BIN/procpool/pool" -s fifo
    [[ $stderr == "procpool/pool: -s: 'fifo' is not rr or random"* ]]
}

# ---- procpool/worker alone ----

@test "procpool/worker: valid codes run their tasks, whose results cksum(1) confirms" {
    codes 0 1 2 1 >"$OUT/in"
    run_t "$BIN/procpool/worker" <"$OUT/in"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    sed -nE 's/^\[worker [0-9]+\] //p' <<<"$output" >"$OUT/got"
    cat >"$OUT/want" <<EOF
ready: waiting for task codes on stdin
running task 0: download: fetched $(seq 1000 | wc -c) bytes, cksum $(download_sum)
running task 1: print-log: tasks run so far: 2 (1 download, 1 print-log, 0 push-video-stream)
running task 2: push-video-stream: pushed 24 frames, 24576 bytes, cksum $(video_sum)
running task 1: print-log: tasks run so far: 4 (1 download, 2 print-log, 1 push-video-stream)
read() returned 0: end of file, every writer closed the pipe; ran 4 tasks, exiting
EOF
    diff "$OUT/want" "$OUT/got"
}

@test "procpool/worker: the documented printf example runs task 1" {
    [[ $(printf '\001\000' | od -An -tu2 | tr -d ' ') == 1 ]] || skip "the example is for little-endian machines"
    run_t bash -c "printf '\\001\\000\\000\\000' | '$BIN/procpool/worker'"
    [ "$status" -eq 0 ]
    grep -qE '^\[worker [0-9]+\] running task 1: print-log: ' <<<"$output"
}

@test "procpool/worker: an unknown code is reported and skipped" {
    codes 7 0 4294967295 >"$OUT/in"
    run_t "$BIN/procpool/worker" <"$OUT/in"
    [ "$status" -eq 1 ]
    grep -qE '^\[worker [0-9]+\] unknown task code 7: skipped$' <<<"$output"
    grep -qE '^\[worker [0-9]+\] unknown task code 4294967295: skipped$' <<<"$output"
    [ "$(grep -cE 'running task' <<<"$output")" -eq 1 ]
    grep -qE '^\[worker [0-9]+\] 2 bad task codes received$' <<<"$output"
}

@test "procpool/worker: 1 to 3 bytes before end of file are a truncated code" {
    for n in 1 2 3; do
        { codes 0; head -c "$n" /dev/zero; } >"$OUT/in"
        run_t "$BIN/procpool/worker" <"$OUT/in"
        [ "$status" -eq 1 ]
        grep -qE "^\[worker [0-9]+\] truncated task code: $n of 4 bytes, then end of file$" <<<"$output"
        [ "$(grep -cE 'running task 0' <<<"$output")" -eq 1 ]
        grep -qE '^\[worker [0-9]+\] read\(\) returned 0: ' <<<"$output"
    done
}

@test "procpool/worker: end of file at once: no task, exit 0" {
    run_t "$BIN/procpool/worker" </dev/null
    [ "$status" -eq 0 ]
    grep -qE '^\[worker [0-9]+\] read\(\) returned 0: end of file, every writer closed the pipe; ran 0 tasks, exiting$' <<<"$output"
    [ "$(wc -l <<<"$output")" -eq 2 ]
}

@test "procpool/worker: codes arriving a byte at a time are still read whole" {
    codes 0 1 2 0 1 2 0 1 2 0 >"$OUT/in"
    run_t bash -c "dd bs=1 status=none <'$OUT/in' | '$BIN/procpool/worker' -i 3"
    [ "$status" -eq 0 ]
    [ "$(grep -cE '^\[worker3 [0-9]+\] running task [0-2]: ' <<<"$output")" -eq 10 ]
    [ "$(grep -cE 'unknown|truncated' <<<"$output")" -eq 0 ]
}

@test "procpool/worker -r FD: one fixed-size result record per task" {
    codes 2 0 >"$OUT/in"
    run_t "$BIN/procpool/worker" -i 5 -r 7 <"$OUT/in" 7>"$OUT/records"
    [ "$status" -eq 0 ]
    pid=$(sed -nE '1s/^\[worker5 ([0-9]+)\] .*/\1/p' <<<"$output")
    # kind worker pid seq code value, as uint32_t: ready, then one per task.
    od -An -tu4 -w24 -v "$OUT/records" | awk '{ $1 = $1; print }' >"$OUT/got"
    printf '%s\n' "1 5 $pid 0 0 0" "2 5 $pid 1 2 $(video_sum)" "2 5 $pid 2 0 $(download_sum)" |
        diff - "$OUT/got"
}
