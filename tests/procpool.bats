#!/usr/bin/env bats
# procpool/: the process pool and its worker.  The long runs (10,000 tasks,
# 256 workers, repeated kills) are in tests/stress/procpool.bats.

load helpers

# What the tasks must compute, from sum(1) itself, never from our programs: the
# text of `seq 1000`, and 24 frames, frame f being 1023 x ('a' + f) then '\n'.
setup_file() {
    DOWNLOAD_SUM=$(seq 1000 | sum -s | cut -d' ' -f1)
    VIDEO_SUM=$(awk 'BEGIN { for (f = 0; f < 24; f++) { s = sprintf("%1023s", "")
        gsub(/ /, sprintf("%c", 97 + f), s); print s } }' | sum -s | cut -d' ' -f1)
    export DOWNLOAD_SUM VIDEO_SUM
}

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

# started K: the pid of the latest process the pool started as workerK.
started() {
    local line pid="" re="^\[pool [0-9]+\] started worker$1 \(pid ([0-9]+)\)"
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then pid=${BASH_REMATCH[1]}; fi
    done <<<"$output"
    echo "$pid"
}

# fds_of ROLE: the "fd N -> TARGET" lines that ROLE printed (-f), as "N TARGET".
fds_of() {
    sed -nE "s/^\[$1 [0-9]+\] fd ([0-9]+) -> (.*)/\1 \2/p" <<<"$output"
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

# count_in FILE TEXT: how many lines of FILE contain TEXT.
count_in() { grep -cF -- "$2" "$1" || true; }

# fake_pool SCRIPT: the pool copied into $OUT/bin, with SCRIPT as the worker
# next to it (the pool runs the worker it finds beside itself).
fake_pool() {
    mkdir -p "$OUT/bin"
    cp "$BIN/procpool/pool" "$OUT/bin/pool"
    printf '#!/bin/bash\n%s\n' "$1" >"$OUT/bin/worker"
    chmod +x "$OUT/bin/worker"
}

# ---- procpool/pool ----

@test "procpool/pool: the default run sends 10 tasks to 5 workers and completes each once" {
    run_t "$BIN/procpool/pool"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$(dispatched_tasks | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 " ]
    every_task_once 10
    [ "$(grep -cE '^\[worker[0-4] [0-9]+\] running task [0-2]: ' <<<"$output")" -eq 10 ]
    for k in 0 1 2 3 4; do
        pid=$(started $k)
        [[ $output == *"[pool "*"] worker$k (pid $pid) exited with status 0"* ]]
        [[ $output == *"[worker$k $pid] read() returned 0: end of file on stdin; ran 2 tasks, exiting"* ]]
    done
    # The notes' shutdown: close worker K's pipe, worker K exits, then the next.
    pool_lines | grep -E '^(closed fd [0-9]+, worker[0-9]|worker[0-9] \(pid [0-9]+\) exited)' |
        sed -E 's/^closed fd [0-9]+, (worker[0-9]).*/close \1/; s/^(worker[0-9]) .*/exit \1/' |
        tr '\n' ' ' >"$OUT/order"
    [ "$(cat "$OUT/order")" = "close worker0 exit worker0 close worker1 exit worker1 close worker2 exit worker2 close worker3 exit worker3 close worker4 exit worker4 " ]
    [ "$(grep -c 'still has' <<<"$output")" -eq 0 ]
    summary_is "10 tasks dispatched, 10 completed, 5 workers exited cleanly"
}

@test "procpool/pool: each dispatch wakes the named worker, whose result comes back to the pool" {
    run_t "$BIN/procpool/pool" -w 4 -n 30
    [ "$status" -eq 0 ]
    # For each "task T (NAME) -> workerK (pid P)": T's code is (T-1) mod 3, as
    # -h says; workerK with pid P ran a task NAME; and the pool got its result
    # back from that worker: the checksum sum(1) computes, or a count.
    awk -v dl="$DOWNLOAD_SUM" -v video="$VIDEO_SUM" '
        match($0, /^\[worker[0-9]+ [0-9]+\] running task [0-2]: [a-z-]+:/) {
            split(substr($0, 2), f, /[] :]+/); ran[f[1], f[2], f[6]]++; next
        }
        !sub(/^\[pool [0-9]+\] /, "") { next }
        $1 == "task" && $3 ~ /^\(/ { name = $3; gsub(/[()]/, "", name); pid = $7; sub(/\)/, "", pid)
            sent[$2] = $5 " " pid " " name; n++ }
        $1 == "task" && $3 == "done" { pid = $7; sub(/\):/, "", pid); got[$2] = $5 " " pid; value[$2] = $9 }
        END {
            split("download print-log push-video-stream", names, " ")
            for (t in sent) {
                split(sent[t], s, " ")
                if (s[3] != names[(t - 1) % 3 + 1]) { print "task " t " is " s[3]; bad = 1 }
                if (!ran[s[1], s[2], s[3]]) { print s[1] " " s[2] " ran no " s[3]; bad = 1 }
                if (got[t] != s[1] " " s[2]) { print "task " t ": result from " got[t]; bad = 1 }
                want = s[3] == "download" ? dl : s[3] == "push-video-stream" ? video : ""
                if (want != "" ? value[t] != want : value[t] < 1 || value[t] > 8) {
                    print "task " t ": result " value[t]; bad = 1
                }
            }
            if (n != 30) { print n " dispatches"; bad = 1 }
            exit bad
        }' <<<"$output"
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

@test "procpool/pool -s random: the workers are drawn at random, every task still completed once" {
    run_t "$BIN/procpool/pool" -s random -w 4 -n 60
    [ "$status" -eq 0 ]
    pool_lines | has -xF "dispatching 60 tasks at random over 4 workers"
    pool_lines | sed -nE 's/^task ([0-9]+) \([a-z-]+\) -> worker([0-9]+) .*/\1 \2/p' >"$OUT/pairs"
    [ "$(wc -l <"$OUT/pairs")" -eq 60 ]
    # Not the round-robin order (the chance that 60 draws give it: 4^-60),
    # and more than one worker used.
    [ "$(awk '$2 != ($1 - 1) % 4' "$OUT/pairs" | wc -l)" -gt 0 ]
    [ "$(cut -d' ' -f2 "$OUT/pairs" | sort -u | wc -l)" -gt 1 ]
    every_task_once 60
}

@test "procpool/pool -n 0, -w 1: no task, the workers still start and end; one worker does everything" {
    run_t "$BIN/procpool/pool" -n 0
    [ "$status" -eq 0 ]
    [ -z "$(dispatched_tasks)" ]
    [ "$(grep -cE '^\[worker[0-4] [0-9]+\] read\(\) returned 0: .*ran 0 tasks' <<<"$output")" -eq 5 ]
    summary_is "0 tasks dispatched, 0 completed, 5 workers exited cleanly"
    run_t "$BIN/procpool/pool" -w 1 -n 20
    [ "$status" -eq 0 ]
    [ "$(pool_lines | grep -cE '^task [0-9]+ \([a-z-]+\) -> worker0 ')" -eq 20 ]
    [ "$(grep -cE '^\[worker0 [0-9]+\] running task' <<<"$output")" -eq 20 ]
    every_task_once 20
    summary_is "20 tasks dispatched, 20 completed, 1 workers exited cleanly"
}

@test "procpool/pool -f: a worker holds fds 0-2, its own read end and its results pipe, nothing else" {
    # Bats hands its own fds (3, 4, ...) to what it runs: no worker may get them.
    [ -e /proc/self/fd/3 ]
    run_t "$BIN/procpool/pool" -f -w 4 -n 4
    [ "$status" -eq 0 ]
    awk '
        match($0, /^\[pool [0-9]+\] started worker[0-9]+ /) {
            k = $4; sub(/worker/, "", k); own[k] = $9; wfd[k] = $NF
        }
        $3 == "fd" && $5 == "->" { role = substr($1, 2); n[role]++; fd[role, n[role]] = $4; to[role, n[role]] = $6
            if (role == "pool") { held[$4 " " $6] = 1; holders[$6]++ } }
        END {
            for (k = 0; k < 4; k++) {
                w = "worker" k
                # 0, 1, 2 and one more: its end of its own results pipe
                if (n[w] != 4 || fd[w, 1] != 0 || fd[w, 2] != 1 || fd[w, 3] != 2) { print w " holds " n[w] " fds"; bad = 1 }
                if (to[w, 1] != own[k]) { print w ": fd 0 is " to[w, 1] ", not " own[k]; bad = 1 }
                r = to[w, 4]
                if (r !~ /^pipe:/ || r == own[k]) { print w ": fd " fd[w, 4] " is " r; bad = 1 }
                # The pool holds the write end of its task pipe and the other
                # end of its results pipe, one fd each.
                if (!held[wfd[k] " " own[k]] || holders[own[k]] != 1) { print "pool: " own[k] "?"; bad = 1 }
                if (holders[r] != 1) { print "pool: " r " held " holders[r] " times"; bad = 1 }
            }
            exit bad
        }' <<<"$output"
    [ "$(grep -cE "^\[worker[1-3] [0-9]+\] closed the write ends of the other workers' pipes" <<<"$output")" -eq 3 ]
}

@test "procpool/pool --leaky -f: the later workers hold the earlier write ends; the stuck shutdown is explained and recovered" {
    run_t "$BIN/procpool/pool" --leaky -f -w 4 -n 8
    [ "$status" -eq 0 ]
    awk '
        match($0, /^\[pool [0-9]+\] started worker[0-9]+ /) { k = $4; sub(/worker/, "", k); own[k] = $9 }
        $1 ~ /^\[worker/ && $3 == "fd" && $4 > 2 { k = substr($1, 8) + 0; held[k, $6] = 1; n[k]++ }
        END {
            for (k = 0; k < 4; k++) {
                # its results pipe, and the k write ends it inherited
                if (n[k] != k + 1) { print "worker" k " holds " n[k] " fds above 2"; bad = 1 }
                for (j = 0; j < k; j++) if (!held[k, own[j]]) { print "worker" k " lacks " own[j]; bad = 1 }
            }
            exit bad
        }' <<<"$output"
    pool_lines >"$OUT/pool"
    has '^worker0 \(pid [0-9]+\) has not exited after 1 second: its read\(\) is still blocked$' "$OUT/pool"
    has -xF "worker0 still has 3 writers: the later workers inherited its write end" "$OUT/pool"
    for k in 1 2 3; do
        has -x "  worker$k \(pid $(started $k)\) holds it as fd [0-9]+" "$OUT/pool"
    done
    has -xF "recovering: every write end closed, waiting for 4 workers to exit" "$OUT/pool"
    # End of file comes to the last worker first, then down the chain.
    grep -E '^\[worker[0-3] [0-9]+\] read\(\) returned 0' <<<"$output" | cut -d' ' -f1 | tr '\n' ' ' >"$OUT/order"
    [ "$(cat "$OUT/order")" = "[worker3 [worker2 [worker1 [worker0 " ]
    pool_lines | has "^lesson: worker0's read\(\) returned 0 only once the workers holding copies of its write end had exited"
    every_task_once 8
    summary_is "8 tasks dispatched, 8 completed, 4 workers exited cleanly"
}

@test "procpool/pool --cloexec -f: the inherited write ends are gone after execv(); the shutdown just works" {
    run_t "$BIN/procpool/pool" --cloexec -f -w 3 -n 6
    [ "$status" -eq 0 ]
    for k in 1 2; do
        has "^\[worker$k [0-9]+\] the write ends of the other workers' pipes \(fds( [0-9]+){$k}\) are close-on-exec: execv\(\) will close them$" <<<"$output"
    done
    for k in 0 1 2; do
        # 0-2 and its results pipe: none of the other workers' write ends
        [ "$(fds_of "worker$k" | wc -l)" -eq 4 ]
    done
    [ "$(grep -c 'still has' <<<"$output")" -eq 0 ]
    summary_is "6 tasks dispatched, 6 completed, 3 workers exited cleanly"
}

@test "procpool/pool: a worker killed from outside mid-run is replaced and its tasks sent again" {
    # A run that never ends by itself: the test stops it once it has seen enough.
    start_bg pool "$BIN/procpool/pool" -w 3 -n 100000 -d 50
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] started worker1 '
    pool=$(bg_child pool)
    output=$(cat "$OUT/pool.out")
    victim=$(started 1)
    # Stopped, it completes nothing more: what it is sent from now on is
    # unfinished when it dies.
    kill -STOP "$victim"
    wait_until "worker1 to stop" stopped "$victim"
    before=$(count_in "$OUT/pool.out" "-> worker1 (pid $victim)")
    wait_until "a task sent to the stopped worker1" eval '(($(count_in "$OUT/pool.out" "-> worker1 (pid $victim)") > before))'
    kill -KILL "$victim"
    wait_for_line "$OUT/pool.out" "worker1 \(pid $victim\) was killed by signal 9 \(SIGKILL\)$"
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] re-dispatching task [0-9]+ '
    # Reaped at once: no zombie under the pool while it goes on.
    [ -z "$(zombies_of "$pool")" ]
    # Each task sent again is completed, by the new worker1.
    output=$(cat "$OUT/pool.out")
    new=$(started 1)
    [ "$new" != "$victim" ]
    again=$(sed -nE "s/^\[pool [0-9]+\] re-dispatching task ([0-9]+) \([a-z-]+\) -> worker1 \(pid $new\)$/\1/p" "$OUT/pool.out")
    [ -n "$again" ]
    for t in $again; do
        wait_for_line "$OUT/pool.out" "^\[pool [0-9]+\] task $t done by worker1 \(pid $new\): "
    done
    kill -TERM "$pool"
    wait_bg pool
    [ "$status" -eq 1 ]
    output=$(cat "$OUT/pool.out")
    # No task completed twice; the summary counts the death.
    [ -z "$(completed_tasks | sort -n | uniq -d)" ]
    pool_lines | has -x "deaths during the run: 1; tasks re-dispatched: $(wc -w <<<"$again")"
    pool_lines | tail -n 1 | has '^[0-9]+ tasks dispatched, [0-9]+ completed, 3 workers exited cleanly$'
}

@test "procpool/pool: the worker is the one next to it; workers that keep dying make it give up, not spin" {
    mkdir -p "$OUT/elsewhere"
    cd "$OUT/elsewhere"
    run_t env PATH=/nonexistent "$BIN/procpool/pool" -n 2 -w 2
    [ "$status" -eq 0 ]
    mkdir -p "$OUT/bin"
    cp "$BIN/procpool/pool" "$OUT/bin/pool"
    run_t "$OUT/bin/pool"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "procpool/pool: $OUT/bin/worker: No such file or directory (the worker must sit next to the pool: run make)" ]
    fake_pool 'exit 3'
    run_t "$OUT/bin/pool" -w 2 -n 5
    [ "$status" -eq 1 ]
    pool_lines | has '^worker[01] died 3 times in a row before completing a task: giving up$'
    [ "$(pool_lines | grep -cE '^worker[01] \(pid [0-9]+\) exited with status 3$')" -le 6 ]
    [[ $stderr == *"procpool/pool: workers kept dying before completing a task: gave up"* ]]
}

@test "procpool/pool: a result record that completes no task sent is refused" {
    # A worker that answers its first code with a record for code 7, then dies.
    fake_pool 'while getopts i:r:vf o; do [[ $o == r ]] && fd=$OPTARG; done
head -c 4 >/dev/null; printf "\007\000\000\000\001\000\000\000" >&"$fd"'
    run_t "$OUT/bin/pool" -w 1 -n 1
    [ "$status" -eq 1 ]
    pool_lines | has -xF "worker0 sent 8 bytes that complete no task it was sent: ignored"
    [ -z "$(completed_tasks)" ]
}

@test "procpool/pool: SIGTERM mid-run: every write end closed, every worker reaped, exit 1" {
    start_bg pool "$BIN/procpool/pool" -n 1000 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 5 \('
    kill -TERM "$(bg_child pool)"
    wait_bg pool
    [ "$status" -eq 1 ]
    output=$(cat "$OUT/pool.out")
    pool_lines | has -xF "stopped by SIGTERM: every write end closed, waiting for 5 workers to exit"
    for k in 0 1 2 3 4; do
        pid=$(started "$k")
        pool_lines | has "^worker$k \(pid $pid\) exited with status 0$"
        exited "$pid"
    done
    [ "$(pool_lines | grep -c '^started worker')" -eq 5 ]
    has -xF "procpool/pool: stopped by SIGTERM before every task was completed" "$OUT/pool.err"
    pool_lines | tail -n 1 | has '^[0-9]+ tasks dispatched, [0-9]+ completed, 5 workers exited cleanly$'
}

@test "procpool/pool: Ctrl-C (SIGINT to the pool and its workers): all reaped, none replaced" {
    start_bg pool "$BIN/procpool/pool" -w 3 -n 1000 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 4 \('
    output=$(cat "$OUT/pool.out")
    # The pool first, as the terminal does (one signal to the whole group).
    kill -INT "$(bg_child pool)" "$(started 0)" "$(started 1)" "$(started 2)" 2>/dev/null || true
    wait_bg pool
    [ "$status" -eq 1 ]
    has -xF "procpool/pool: stopped by SIGINT before every task was completed" "$OUT/pool.err"
    output=$(cat "$OUT/pool.out")
    [ "$(pool_lines | grep -cE '^started worker')" -eq 3 ]
    [ "$(pool_lines | grep -cE '^worker[0-2] \(pid [0-9]+\) (exited|was killed)')" -eq 3 ]
    [ "$(grep -c 're-dispatching' <<<"$output")" -eq 0 ]
}

@test "procpool/pool: the pool killed (also --leaky): no worker is left waiting" {
    for leaky in "" --leaky; do
        start_bg pool "$BIN/procpool/pool" $leaky -w 4 -n 1000 -d 20
        wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 6 \('
        output=$(cat "$OUT/pool.out")
        kill -KILL "$(bg_child pool)"
        wait_bg pool
        # Their pipes lost their last writer: each worker reads end of file and exits.
        for k in 0 1 2 3; do
            wait_until "worker$k to exit" exited "$(started "$k")"
        done
        # Each saw end of file, or first ran a task still queued and found nobody
        # to report it to (EPIPE).
        eof=$(grep -cE '^\[worker[0-3] [0-9]+\] read\(\) returned 0' "$OUT/pool.out" || true)
        epipe=$(grep -cF 'procpool/worker: write to the results pipe (is the pool gone?): Broken pipe' "$OUT/pool.err" || true)
        [ $((eof + epipe)) -eq 4 ]
    done
}

@test "procpool/pool -v -d: the system calls on stderr, stdout unchanged; the dispatches paced" {
    start=$(date +%s%N)
    run_t "$BIN/procpool/pool" -v -d 100 -w 2 -n 5
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 500 ]
    has '^\[pool [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr"
    has '^\[pool [0-9]+\] fcntl\([0-9]+, F_SETFD, FD_CLOEXEC\) = 0$' <<<"$stderr"
    has '^\[pool [0-9]+\] fork\(\) = [0-9]+$' <<<"$stderr"
    has '^\[worker1 [0-9]+\] close\([0-9]+\) = 0$' <<<"$stderr"
    has '^\[worker[01] [0-9]+\] dup2\([0-9]+, 0\) = 0$' <<<"$stderr"
    has '^\[worker[01] [0-9]+\] execv\(".*/worker"\)$' <<<"$stderr"
    [ "$(grep -cE '^\[pool [0-9]+\] write\([0-9]+, 4\) = 4$' <<<"$stderr")" -eq 5 ]
    [ "$(grep -cE '^\[worker[01] [0-9]+\] read\(0, 4\) = 4$' <<<"$stderr")" -eq 5 ]
    [ "$(grep -cE '^\[worker[01] [0-9]+\] write\([0-9]+, 8\) = 8$' <<<"$stderr")" -eq 5 ]
    [ "$(grep -cE '^\[pool [0-9]+\] read\([0-9]+, 8\) = 8$' <<<"$stderr")" -eq 5 ]
    [ "$(grep -cE '^\[pool [0-9]+\] waitpid\([0-9]+\) = [0-9]+$' <<<"$stderr")" -eq 2 ]
    [ "$(grep -cE '\) = ' <<<"$output")" -eq 0 ]
}

@test "procpool/pool: bad -w, -s, -d, --leaky=x and --leaky with --cloexec are usage errors" {
    for args in "-w 0" "-w 257" "-s fifo" "-d 60001" "--leaky=x" "--leaky --cloexec"; do
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

@test "procpool/worker: valid codes run their tasks, whose results sum(1) confirms" {
    codes 0 1 2 1 >"$OUT/in"
    run_t "$BIN/procpool/worker" <"$OUT/in"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    sed -nE 's/^\[worker [0-9]+\] //p' <<<"$output" >"$OUT/got"
    cat >"$OUT/want" <<EOF
ready: waiting for task codes on stdin
running task 0: download: fetched $(seq 1000 | wc -c) bytes, sum $DOWNLOAD_SUM
running task 1: print-log: tasks run so far: 2
running task 2: push-video-stream: pushed 24576 bytes, sum $VIDEO_SUM
running task 1: print-log: tasks run so far: 4
read() returned 0: end of file on stdin; ran 4 tasks, exiting
EOF
    diff "$OUT/want" "$OUT/got"
}

@test "procpool/worker: whole codes however they come: the documented printf, a byte at a time, none" {
    if [[ $(printf '\001\000' | od -An -tu2 | tr -d ' ') == 1 ]]; then   # little-endian
        run_t bash -c "printf '\\001\\000\\000\\000' | '$BIN/procpool/worker'"
        [ "$status" -eq 0 ]
        [[ $output == *"] running task 1: print-log: tasks run so far: 1"* ]]
    fi
    codes 0 1 2 0 1 2 0 1 2 0 >"$OUT/in"
    run_t bash -c "dd bs=1 status=none <'$OUT/in' | '$BIN/procpool/worker' -i 3"
    [ "$status" -eq 0 ]
    [ "$(grep -cE '^\[worker3 [0-9]+\] running task [0-2]: ' <<<"$output")" -eq 10 ]
    [ "$(grep -cE 'unknown|truncated' <<<"$output")" -eq 0 ]
    run_t "$BIN/procpool/worker" </dev/null
    [ "$status" -eq 0 ]
    [ "$(wc -l <<<"$output")" -eq 2 ]
    [[ $output == *"] read() returned 0: end of file on stdin; ran 0 tasks, exiting" ]]
}

@test "procpool/worker: an unknown code is skipped, 1 to 3 bytes before end of file are a truncated code; exit 1" {
    codes 7 0 4294967295 >"$OUT/in"
    run_t "$BIN/procpool/worker" <"$OUT/in"
    [ "$status" -eq 1 ]
    has '^\[worker [0-9]+\] unknown task code 7: skipped$' <<<"$output"
    has '^\[worker [0-9]+\] unknown task code 4294967295: skipped$' <<<"$output"
    [ "$(grep -cE 'running task' <<<"$output")" -eq 1 ]
    has '^\[worker [0-9]+\] 2 bad task codes received$' <<<"$output"
    for n in 1 2 3; do
        { codes 0; head -c "$n" /dev/zero; } >"$OUT/in"
        run_t "$BIN/procpool/worker" <"$OUT/in"
        [ "$status" -eq 1 ]
        has "^\[worker [0-9]+\] truncated task code: $n of 4 bytes, then end of file$" <<<"$output"
        [ "$(grep -cE 'running task 0' <<<"$output")" -eq 1 ]
        has '^\[worker [0-9]+\] read\(\) returned 0: ' <<<"$output"
    done
}

@test "procpool/worker -r FD: one 8-byte result record per task" {
    codes 2 0 1 >"$OUT/in"
    KEEP_FDS=7 run_t "$BIN/procpool/worker" -i 5 -r 7 <"$OUT/in" 7>"$OUT/records"
    [ "$status" -eq 0 ]
    # code value, as uint32_t
    od -An -tu4 -w8 -v "$OUT/records" | awk '{ $1 = $1; print }' >"$OUT/got"
    printf '%s\n' "2 $VIDEO_SUM" "0 $DOWNLOAD_SUM" "1 3" | diff - "$OUT/got"
}

@test "procpool/worker: a results pipe nobody reads (the pool gone) is reported, exit 1" {
    exec {fd}> >(exec true)
    reader=$!
    wait_until "the results reader to exit" exited "$reader"
    codes 0 >"$OUT/in"
    KEEP_FDS=$fd run_t "$BIN/procpool/worker" -i 1 -r "$fd" <"$OUT/in"
    exec {fd}>&-
    [ "$status" -eq 1 ]
    [ "$stderr" = "procpool/worker: write to the results pipe (is the pool gone?): Broken pipe" ]
}
