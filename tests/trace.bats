#!/usr/bin/env bats
# -v tells the truth: each program runs with -v under strace -f, and
# tests/tracecheck.awk holds its trace lines against the real calls, per process
# and in order -- same call, same first argument, same result, none left out.
# One test per program (both sides of a pair, a stop-signal exit included).
#
#   trace_run NAME CMD...    CMD under strace in the foreground (bounded)
#   trace_bg NAME CMD...     the same in the background (start_bg)
#   traced_pid NAME          the pid of the program trace_bg started
#   check_trace NAME SET [PATHS] [FDS]
#                            the calls of SET (our names: pipe fork waitpid ...)
#                            that the program makes on its own objects (fds it
#                            got from such calls, or FDS; paths under
#                            $IPC_DEMO_DIR or PATHS) are exactly its trace lines

load helpers

setup() {
    export IPC_DEMO_DIR="$BATS_TEST_TMPDIR/ipc"
    OUT="$BATS_TEST_TMPDIR"
    BG_PIDS=()
    command -v strace >/dev/null || skip "strace is not installed (apt-get install strace)"
    if ! strace -f -qq -o /dev/null true 2>"$OUT/strace-probe"; then
        skip "strace cannot trace here (no ptrace?): $(head -1 "$OUT/strace-probe")"
    fi
    # make check's sanitized build: LeakSanitizer refuses to run under ptrace.
    # Leaks are the other tests' and valgrind's business.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}

STRACE=(strace -f -qq -s 4 -e signal=none)

trace_run() {
    local name=$1
    shift
    timeout "$T" "${STRACE[@]}" -o "$OUT/$name.strace" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" 3>&-
}

trace_bg() {
    local name=$1
    shift
    start_bg "$name" "${STRACE[@]}" -o "$OUT/$name.strace" "$@"
}

# traced_pid NAME: the program under strace under timeout.
traced_pid() {
    local strace_pid pid stat rest deadline=$((SECONDS + T)) pause=0
    strace_pid=$(bg_child "$1") || return 1
    while ((SECONDS < deadline)); do
        for stat in /proc/[0-9]*/stat; do
            { read -r pid rest <"$stat"; } 2>/dev/null || continue
            rest=${rest##*) }
            set -- $rest
            [[ $2 == "$strace_pid" ]] && { echo "$pid"; return 0; }
        done
        backoff pause
    done
    echo "strace $strace_pid started no program within ${T}s" >&2
    return 1
}

check_trace() {
    local name=$1
    awk -f "$ROOT/tests/tracecheck.awk" -v set="$2" -v paths="${3:-}" -v fds="${4:-}" \
        -v dir="$IPC_DEMO_DIR" -v root="$ROOT" -v bin="$BIN" \
        "$OUT/$name.strace" "$OUT/$name.err" ||
        { echo "the strace log's last lines (no getpid or write):"
          grep -vE '^[0-9]+ +(getpid|write)\(' "$OUT/$name.strace" | tail -n 40; false; }
}

@test "trace: pipe/demo, parent and child" {
    trace_run demo "$BIN/pipe/demo" -v -n 3
    check_trace demo "pipe fork close read write waitpid"
}

@test "trace: sem/race -m sem, the parent and its workers" {
    trace_run race "$BIN/sem/race" -v -m sem -n 3
    check_trace race "pipe fork waitpid kill open fstat read write close unlink shmget shmat shmdt shmctl semget semop semctl"
}

@test "trace: sem/race -m mutex and -m posix, every close too" {
    trace_run race "$BIN/sem/race" -v -m mutex -n 3
    check_trace race "pipe fork waitpid kill read close shmget shmat shmdt shmctl"
    trace_run race "$BIN/sem/race" -v -m posix -n 3
    check_trace race "pipe fork waitpid kill read close shmget shmat shmdt shmctl"
}

@test "trace: sem/race stopped by SIGTERM mid-run" {
    trace_bg race "$BIN/sem/race" -v -m posix -n 1000000000
    wait_for_line "$OUT/race.out" '^\[parent [0-9]+\] started 2 workers'
    kill -TERM "$(traced_pid race)"
    wait_bg race
    [ "$status" -eq 1 ]
    has '^\[parent [0-9]+\] kill\([0-9]+, SIGTERM\) = 0$' "$OUT/race.err"
    check_trace race "pipe fork waitpid kill read close shmget shmat shmdt shmctl"
}

# Not read or write: the holder is killed in its read() (strace shows "= ?",
# which tracecheck.awk takes for a result), and its write()'s trace line may
# not be out yet when the parent, woken by that write, kills it.  Not semop:
# tracecheck.awk maps semtimedop(..., NULL) to semop only in theory (it looks
# for ", NULL)" in arguments whose ")" it has already cut off).
@test "trace: sem/holder-dies, the parent and the holder it kills" {
    trace_run hd "$BIN/sem/holder-dies" -v -m mutex
    check_trace hd "pipe fork waitpid kill close"
    trace_run hd "$BIN/sem/holder-dies" -v -m sem -t 100
    check_trace hd "pipe fork waitpid kill semget semctl"
}

@test "trace: sem/holder-dies stopped by SIGTERM while it waits" {
    trace_bg hd "$BIN/sem/holder-dies" -v -m posix -t 20000
    wait_for_line "$OUT/hd.out" '^\[parent [0-9]+\] the semaphore.s value is 0$'
    kill -TERM "$(traced_pid hd)"
    wait_bg hd
    [ "$status" -eq 1 ]
    has -xF "sem/holder-dies: caught SIGTERM: stopped" "$OUT/hd.err"
    check_trace hd "pipe fork waitpid kill"
}

@test "trace: fifo/server, to the end of its client" {
    trace_bg server "$BIN/fifo/server" -v
    wait_for_line "$OUT/server.out" 'waiting for a client'
    run_t "$BIN/fifo/client" hello "second line"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    check_trace server "mkfifo lstat open fstat flock read close unlink"
}

@test "trace: fifo/server -k, stopped by SIGINT in read()" {
    trace_bg server "$BIN/fifo/server" -k -v
    wait_for_line "$OUT/server.out" 'waiting for a client'
    run_t "$BIN/fifo/client" one two
    [ "$status" -eq 0 ]
    wait_for_line "$OUT/server.out" 'client says: two$'
    server=$(traced_pid server)
    # Blocked in read() (where the kernel shows it: [anon_]pipe_read), so that
    # the signal interrupts the call and -v must show it returning EINTR.
    wait_until "the server to block in read()" \
        has -x '(anon_)?pipe_read|0|' "/proc/$server/wchan"
    wchan=$(cat "/proc/$server/wchan")
    kill -INT "$server"
    wait_bg server
    [ "$status" -eq 0 ]
    has '^\[server [0-9]+\] SIGINT: removed .* and exiting$' "$OUT/server.out"
    [[ $wchan != *pipe_read ]] || has '^\[server [0-9]+\] read\([0-9]+, 4096\) = -1 EINTR$' "$OUT/server.err"
    check_trace server "mkfifo lstat open fstat flock read close unlink"
}

@test "trace: fifo/client, lines from its standard input" {
    trace_bg server "$BIN/fifo/server"
    wait_for_line "$OUT/server.out" 'waiting for a client'
    printf 'one\ntwo\n' >"$OUT/input"
    trace_run client "$BIN/fifo/client" -v <"$OUT/input"
    wait_bg server
    [ "$status" -eq 0 ]
    check_trace client "lstat open fstat fcntl read write close" "" 0
}

# msgq/: a timer interrupts msgrcv()/msgsnd() five times a second (msgq/tick.c),
# and -v leaves those EINTRs out, as both programs' -h says.  strace shows
# each such call, then SIGALRM: msgq_drop_ticks NAME takes them out of the
# strace log (a call a stop signal interrupted stays: -v shows it).
msgq_drop_ticks() {
    local log="$OUT/$1.strace"
    awk '
        function settle(p,    ix, i, n) {
            if (p in cand && alrm[p] && !other[p]) {
                n = split(cand[p], ix, " ")
                for (i = 1; i <= n; i++) drop[ix[i]] = 1
            }
            delete cand[p]; delete alrm[p]; delete other[p]
        }
        FNR == NR {
            p = $1; line = $0; sub(/^[0-9]+ +/, "", line)
            if (line ~ /^--- SIGALRM /) { alrm[p] = 1; next }
            if (line ~ /^--- SIG/) { other[p] = 1; next }
            if (line ~ /^(---|\+\+\+)/ || line ~ /^rt_sigreturn\(/) next
            if (line ~ /^<\.\.\. (msgrcv|msgsnd) resumed>.*= \? ERESTART/ && (p in unf)) {
                cand[p] = unf[p] " " FNR; delete unf[p]; next
            }
            if (line ~ /^<\.\.\./) { delete unf[p]; next }
            settle(p)
            if (line ~ /^(msgrcv|msgsnd)\(.*<unfinished \.\.\.>$/) unf[p] = FNR
            else if (line ~ /^(msgrcv|msgsnd)\(.*= \? ERESTART/) cand[p] = FNR
            next
        }
        FNR == 1 { for (p in cand) settle(p) }
        !(FNR in drop)
    ' "$log" "$log" >"$log.kept"
    echo "msgq_drop_ticks: $(($(wc -l <"$log") - $(wc -l <"$log.kept"))) lines of the tick taken out"
    mv "$log.kept" "$log"
}

@test "trace: msgq/server, a conversation and a shutdown request" {
    STRACE=(strace -f -qq -s 4)                 # signals shown: msgq_drop_ticks
    trace_bg server "$BIN/msgq/server" -v
    wait_for_line "$OUT/server.out" 'waiting for requests'
    timeout "$T" "$BIN/msgq/client" hello world >/dev/null
    printf 'one\ntwo\n' | timeout "$T" "$BIN/msgq/client" >/dev/null
    timeout "$T" "$BIN/msgq/client" -q >/dev/null
    wait_bg server
    [ "$status" -eq 0 ]
    msgq_drop_ticks server
    check_trace server "msgget msgsnd msgrcv msgctl"
}

@test "trace: msgq/server removing a killed server's queue, then stopped by SIGTERM" {
    start_bg killed "$BIN/msgq/server"
    wait_for_line "$OUT/killed.out" 'waiting for requests'
    kill -KILL "$(bg_child killed)"
    wait_bg killed
    STRACE=(strace -f -qq -s 4)
    trace_bg server "$BIN/msgq/server" -v
    wait_for_line "$OUT/server.out" 'waiting for requests'
    kill -TERM "$(traced_pid server)"
    wait_bg server
    [ "$status" -eq 0 ]
    grep -q 'was left by a killed run' "$OUT/server.out"
    grep -q 'caught SIGTERM' "$OUT/server.out"
    msgq_drop_ticks server
    check_trace server "msgget msgsnd msgrcv msgctl"
}

@test "trace: msgq/client, messages and a shutdown request" {
    start_bg server "$BIN/msgq/server"
    wait_for_line "$OUT/server.out" 'waiting for requests'
    STRACE=(strace -f -qq -s 4)
    trace_run client "$BIN/msgq/client" -v -q hello world
    wait_bg server
    [ "$status" -eq 0 ]
    msgq_drop_ticks client
    check_trace client "msgget msgsnd msgrcv msgctl"
}

@test "trace: pipe/cases, all four cases (O_NONBLOCK by fcntl, SIGPIPE, EPIPE)" {
    trace_run cases "$BIN/pipe/cases" -v -d 0 all
    # The write() that SIGPIPE kills returns -1 EPIPE in the kernel, and the
    # signal ends the writer before it can print that line (pipe/cases -h says
    # so): that one call, and only it, is taken out of what strace saw.
    killed=$(sed -nE 's/^\[reader [0-9]+\] writer ([0-9]+) was killed by signal 13 \(SIGPIPE\)$/\1/p' "$OUT/cases.out")
    [ -n "$killed" ]
    # (Cut in two when another process's line came between: "write(... <unfinished
    # ...>" then "<... write resumed>) = -1 EPIPE": both halves go.)
    last=$(grep -n "^$killed " "$OUT/cases.strace" | tail -n 1)
    [[ $last == *" write("*"= -1 EPIPE"* || $last == *"<... write resumed>"*"= -1 EPIPE"* ]]
    sed -i "${last%%:*}d" "$OUT/cases.strace"
    if [[ $last == *"resumed>"* ]]; then
        last=$(grep -n "^$killed " "$OUT/cases.strace" | tail -n 1)
        [[ $last == *" write("*"<unfinished ...>" ]]
        sed -i "${last%%:*}d" "$OUT/cases.strace"
    fi
    check_trace cases "pipe fork close read write fcntl waitpid"
}

@test "trace: pipe/cases full -s, F_SETPIPE_SZ" {
    trace_run cases "$BIN/pipe/cases" -v -d 0 -s 16384 full
    check_trace cases "pipe fork close read write fcntl waitpid"
}

@test "trace: pipe/atomic, the reader and three writers" {
    trace_run atomic "$BIN/pipe/atomic" -v -w 3 -n 20
    check_trace atomic "pipe fork close read write waitpid"
}

@test "trace: pipe/pipeline, up to each command's exec (not followed further)" {
    trace_run pipeline "$BIN/pipe/pipeline" -v 'seq 1000' 'grep 7' 'wc -l'
    check_trace pipeline "pipe fork close dup2 waitpid kill"
    trace_run failed "$BIN/pipe/pipeline" -v 'seq 3' no-such-command-here || [ $? -eq 127 ]
    check_trace failed "pipe fork close dup2 waitpid kill"
}

@test "trace: pipe/pipeline stopped by SIGTERM passes it on to each command" {
    trace_bg pipeline "$BIN/pipe/pipeline" -v 'sleep 60' 'sleep 61'
    pid=$(traced_pid pipeline)
    # Both commands run sleep (exec'd) and the pipeline waits in waitpid()
    # when the signal comes.
    wait_until "two sleeps" two_sleeps "$pid"
    wait_until "the pipeline in waitpid()" waiting "$pid"
    kill -TERM "$pid"
    wait_bg pipeline
    [ "$status" -eq 143 ]
    [ "$(grep -cE '^\[pipeline [0-9]+\] kill\([0-9]+, SIGTERM\) = 0$' "$OUT/pipeline.err")" -eq 2 ]
    check_trace pipeline "pipe fork close dup2 waitpid kill"
}

# waiting PID: PID sleeps in the kernel's wait (wait4).
waiting() {
    [[ $(cat "/proc/$1/wchan" 2>/dev/null) == *wait* ]]
}

# two_sleeps PID: PID has two children, both already running sleep (exec'd).
two_sleeps() {
    local parent=$1 stat pid rest n=0
    for stat in /proc/[0-9]*/stat; do
        { read -r pid rest <"$stat"; } 2>/dev/null || continue
        [[ $rest == "(sleep) "* ]] || continue
        rest=${rest##*) }
        set -- $rest
        [[ $2 == "$parent" ]] && n=$((n + 1))
    done
    ((n == 2))
}

@test "trace: intro/isolation, parent and child" {
    trace_run isolation "$BIN/intro/isolation" -v
    check_trace isolation "pipe fork close read write waitpid"
}

# procpool/: the workers are exec'd from procpool/worker under ROOT, so the
# check follows them; each keeps its stdin and results fd across execv().
PROCPOOL_CALLS="pipe fork close read write dup2 fcntl fstat waitpid"

@test "trace: procpool/pool and its workers (also --cloexec)" {
    trace_run pool "$BIN/procpool/pool" -v -w 3 -n 6
    check_trace pool "$PROCPOOL_CALLS"
    trace_run cloexec "$BIN/procpool/pool" -v --cloexec -w 3 -n 3
    check_trace cloexec "$PROCPOOL_CALLS"
}

@test "trace: procpool/pool --leaky, its stuck shutdown and the recovery" {
    trace_run leaky "$BIN/procpool/pool" -v --leaky -w 3 -n 3
    grep -q 'recovering: ' "$OUT/leaky.out"
    check_trace leaky "$PROCPOOL_CALLS"
}

@test "trace: procpool/pool stopped by SIGTERM" {
    trace_bg pool "$BIN/procpool/pool" -v -n 1000 -d 20
    wait_for_line "$OUT/pool.out" '^\[pool [0-9]+\] task 5 \('
    kill -TERM "$(traced_pid pool)"
    wait_bg pool
    [ "$status" -eq 1 ]
    grep -q 'stopped by SIGTERM' "$OUT/pool.out"
    check_trace pool "$PROCPOOL_CALLS"
}

@test "trace: procpool/worker alone, its stdin and a results fd" {
    # codes 0 and 1, then 2 bytes of a truncated one: exit 1
    printf '\000\000\000\000\001\000\000\000\002\000' >"$OUT/codes"
    trace_run worker "$BIN/procpool/worker" -v -r 5 <"$OUT/codes" 5>"$OUT/records" || [ $? -eq 1 ]
    grep -q 'truncated task code: 2 of 4 bytes' "$OUT/worker.out"
    check_trace worker "read write" "" "0 5"
}

@test "trace: socket/server, a leftover socket file replaced, clients, then SIGTERM" {
    start_bg first "$BIN/socket/server"
    wait_for_line "$OUT/first.out" 'listening on'
    kill -KILL "$(bg_child first)"
    wait_bg first
    trace_bg server "$BIN/socket/server" -v
    wait_for_line "$OUT/server.out" 'listening on'
    timeout "$T" "$BIN/socket/client" hello world >/dev/null
    printf 'from\nstdin\n' | timeout "$T" "$BIN/socket/client" >/dev/null
    kill -TERM "$(traced_pid server)"
    wait_bg server
    grep -q 'removed ' "$OUT/server.out"
    check_trace server "socket bind listen accept getsockopt ppoll read write close unlink lstat connect"
}

@test "trace: socket/client, arguments, standard input, no server" {
    start_bg server "$BIN/socket/server"
    wait_for_line "$OUT/server.out" 'listening on'
    trace_run client "$BIN/socket/client" -v one two
    check_trace client "socket connect read write shutdown close"
    printf 'a\nb\n' >"$OUT/in"
    trace_run stdin "$BIN/socket/client" -v <"$OUT/in"
    check_trace stdin "socket connect read write shutdown close" "" 0
    trace_run none "$BIN/socket/client" -v -p "$OUT/nobody" x || true
    check_trace none "socket connect read write shutdown close" "$OUT/"
}

@test "trace: socket/pass recv, given a file, a pipe, a memfd" {
    local kind n=0
    printf 'abcdefghijklmnopqrstuvwxyz0123456789\n' >"$OUT/alpha"
    for kind in "file $OUT/alpha" pipe memfd; do
        n=$((n + 1))
        trace_bg recv$n "$BIN/socket/pass" -v recv
        wait_for_line "$OUT/recv$n.out" 'waiting for a sender'
        timeout "$T" "$BIN/socket/pass" send $kind >/dev/null
        wait_bg recv$n
        check_trace recv$n "socket bind listen accept getsockopt recvmsg read write close unlink lstat fstat fcntl mmap lseek connect"
    done
}

@test "trace: socket/pass send, a file, a pipe, a memfd" {
    local kind n=0
    printf 'abcdefghijklmnopqrstuvwxyz0123456789\n' >"$OUT/alpha"
    for kind in "file $OUT/alpha" pipe memfd; do
        n=$((n + 1))
        start_bg recv$n "$BIN/socket/pass" recv
        wait_for_line "$OUT/recv$n.out" 'waiting for a sender'
        trace_run send$n "$BIN/socket/pass" -v send $kind
        wait_bg recv$n
        check_trace send$n "socket connect sendmsg read write open pipe close memfd_create ftruncate mmap fcntl lseek" "$OUT/"
    done
}

# posix-mq/: glibc's mq_send() and mq_receive() are mq_timedsend() and
# mq_timedreceive() with no timeout, mq_getattr() is mq_getsetattr(),
# mq_close() is close(), signalfd() is signalfd4(): tracecheck.awk maps them.
PMQ_CALLS="mq_open mq_unlink mq_send mq_receive mq_timedsend mq_timedreceive mq_getattr signalfd poll open fstat read write close unlink"

@test "trace: posix-mq/server replacing a killed server's queue, two clients, then SIGTERM" {
    start_bg killed "$BIN/posix-mq/server"
    wait_for_line "$OUT/killed.out" 'waiting for requests'
    kill -KILL "$(bg_child killed)"
    wait_bg killed
    trace_bg server "$BIN/posix-mq/server" -v
    wait_for_line "$OUT/server.out" 'waiting for requests'
    timeout "$T" "$BIN/posix-mq/client" hello world >/dev/null
    printf 'one\ntwo\n' | timeout "$T" "$BIN/posix-mq/client" -P 3 >/dev/null
    kill -TERM "$(traced_pid server)"
    wait_bg server
    [ "$status" -eq 0 ]
    grep -q 'was left by a killed run' "$OUT/server.out"
    grep -q 'caught SIGTERM' "$OUT/server.out"
    check_trace server "$PMQ_CALLS"
}

@test "trace: posix-mq/server -d, a client's request, a shutdown request" {
    trace_bg server "$BIN/posix-mq/server" -v -d 50
    wait_for_line "$OUT/server.out" 'waiting for requests'
    timeout "$T" "$BIN/posix-mq/client" -q hi >/dev/null
    wait_bg server
    [ "$status" -eq 0 ]
    has '^\[server [0-9]+\] poll\([^)]*, 1, 50\) = 0$' "$OUT/server.err"
    check_trace server "$PMQ_CALLS"
}

@test "trace: posix-mq/client, messages and -q; then one whose server is killed while it waits" {
    start_bg server "$BIN/posix-mq/server"
    wait_for_line "$OUT/server.out" 'waiting for requests'
    trace_run client "$BIN/posix-mq/client" -v -P 2 -q hello world
    wait_bg server
    [ "$status" -eq 0 ]
    check_trace client "$PMQ_CALLS"
    start_bg server2 "$BIN/posix-mq/server" -d 20000
    wait_for_line "$OUT/server2.out" 'waiting for requests'
    trace_bg waiting "$BIN/posix-mq/client" -v hi
    wait_for_line "$OUT/waiting.out" 'sent: hi'
    kill -KILL "$(bg_child server2)"
    wait_bg server2
    wait_bg waiting
    [ "$status" -eq 1 ]
    grep -q 'is gone (killed?)' "$OUT/waiting.err"
    has '^\[client [0-9]+\] mq_timedreceive\([0-9]+, 1036, 1 s\) = -1 ETIMEDOUT$' "$OUT/waiting.err"
    check_trace waiting "$PMQ_CALLS"
    "$BIN/posix-mq/server" --cleanup >/dev/null
}

# posix-shm/: shm_open() is open() of /dev/shm/NAME to strace, shm_unlink() its
# unlink() (tracecheck.awk maps them: both names in the set); the sem_* lines
# of -v are library calls, not system calls, and so in no set.
POSIX_SHM_CALLS="shm_open open fstat lstat ftruncate mmap munmap close shm_unlink unlink"

@test "trace: posix-shm/reader and posix-shm/writer, a conversation" {
    trace_bg reader "$BIN/posix-shm/reader" -v -S 2
    wait_for_line "$OUT/reader.out" 'waiting for posix-shm/writer'
    trace_run writer "$BIN/posix-shm/writer" -v one two three
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] shm_open\("/ipc-demos-[0-9a-f]+-[0-9a-f]+-ring", O_CREAT\|O_EXCL\|O_RDWR, 0600\) = [0-9]+$' "$OUT/reader.err"
    check_trace reader "$POSIX_SHM_CALLS" /dev/shm/
    check_trace writer "$POSIX_SHM_CALLS" /dev/shm/
}

@test "trace: posix-shm/reader replacing a killed reader's object, then stopped by SIGTERM" {
    start_bg killed "$BIN/posix-shm/reader"
    wait_for_line "$OUT/killed.out" 'waiting for posix-shm/writer'
    kill -KILL "$(bg_child killed)"
    wait_bg killed
    trace_bg reader "$BIN/posix-shm/reader" -v
    wait_for_line "$OUT/reader.out" 'waiting for posix-shm/writer'
    kill -TERM "$(traced_pid reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -q 'was left by a killed run' "$OUT/reader.out"
    grep -q 'caught SIGTERM' "$OUT/reader.out"
    check_trace reader "$POSIX_SHM_CALLS" /dev/shm/
}

# shm/: the segment's calls, the FIFOs' mkfifo, open, token read/write and
# unlink; a reused FIFO's mkfifo shows its real -1 EEXIST.
SHM_READER_CALLS="shmget shmat shmdt shmctl mkfifo lstat open fstat read write close unlink"
SHM_WRITER_CALLS="shmget shmat shmdt shmctl open fstat fcntl read write close"

@test "trace: shm/reader and shm/writer, to the end of the conversation" {
    trace_bg reader "$BIN/shm/reader" -v -S 2
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
    wait_until "the reader in its open()" in_state "$(traced_pid reader)" S
    trace_run writer "$BIN/shm/writer" -v one two three
    wait_bg reader
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] unlink\(".*/shm-free"\) = 0$' "$OUT/reader.err"
    check_trace reader "$SHM_READER_CALLS"
    check_trace writer "$SHM_WRITER_CALLS"
}

@test "trace: shm/reader stopped by SIGTERM while it waits (its FIFOs reused), shm/writer by SIGINT" {
    start_bg killed "$BIN/shm/reader"
    wait_for_line "$OUT/killed.out" 'waiting for shm/writer'
    kill -KILL "$(bg_child killed)"
    wait_bg killed
    trace_bg reader "$BIN/shm/reader" -v
    wait_for_line "$OUT/reader.out" 'waiting for shm/writer'
    kill -TERM "$(traced_pid reader)"
    wait_bg reader
    [ "$status" -eq 0 ]
    grep -q 'caught SIGTERM while waiting' "$OUT/reader.out"
    has '^\[reader [0-9]+\] mkfifo\(".*/shm-filled", 0600\) = -1 EEXIST$' "$OUT/reader.err"
    check_trace reader "$SHM_READER_CALLS"

    start_bg plain "$BIN/shm/reader"
    wait_for_line "$OUT/plain.out" 'waiting for shm/writer'
    wait_until "the reader in its open()" in_state "$(bg_child plain)" S
    trace_bg writer "$BIN/shm/writer" -v -d 20 $(seq 1000)
    wait_for_line "$OUT/plain.out" 'says: 3$'
    kill -INT "$(traced_pid writer)"
    wait_bg writer
    [ "$status" -eq 1 ]
    grep -q 'caught SIGINT' "$OUT/writer.err"
    check_trace writer "$SHM_WRITER_CALLS"
    wait_bg plain
}
