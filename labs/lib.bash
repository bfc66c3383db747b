# labs/lib.bash - what every lab's grade.bats shares: build the student's file,
# run it bounded (timeout) and isolated (labs/isolate), watch its processes in
# /proc, and say what is wrong in words a student can act on.
#
# FILE=path is the file graded (default: the lab's starter.c, or the file named
# LAB_FILE in the lab's directory: LAB_FILE=solution.c bats labs/*/grade.bats).
# A failing check prints "FAIL: what is wrong" (labs/grade-all shows the first
# one).  T (seconds, default 10) bounds every run: a backstop, not how a bug is
# found; a program that is stuck is seen stuck in /proc long before.

bats_require_minimum_version 1.5.0

LAB_DIR=$(cd "$BATS_TEST_DIRNAME" && pwd)
LABS=$(dirname "$LAB_DIR")
LAB=$(basename "$LAB_DIR")
FILE=${FILE:-$LAB_DIR/${LAB_FILE:-starter.c}}
T=${T:-10}

# The student's file, built once per grader run into the file's temp dir.
setup_file() {
    local src
    if ! src=$(realpath -e -- "$FILE" 2>&1); then
        echo "no such file: $FILE" >"$BATS_FILE_TMPDIR/build.log"
        return 0
    fi
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -O2 -pthread \
        -o "$BATS_FILE_TMPDIR/prog" "$src" >"$BATS_FILE_TMPDIR/build.log" 2>&1 || true
}

setup() {
    export_functions
    PROG=$(realpath "$BATS_FILE_TMPDIR")/prog
    OUT=$BATS_TEST_TMPDIR
    WRAP=
    cd "$OUT" || return 1
    if [[ ! -x $PROG ]]; then
        cat "$BATS_FILE_TMPDIR/build.log" >&2
        fail "$(basename "$FILE") does not compile: $(grep -m 1 -E 'error|no such file' "$BATS_FILE_TMPDIR/build.log")"
    fi
}

teardown() {
    release_stdin
    stop_prog
}

# fail MESSAGE...: say what is wrong, and fail the check.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    return 1
}

# start_prog ARGS...: the student's program in the background, isolated and
# bounded; its stdin the caller's (start_prog <FILE), stdout in $OUT/out (or
# the file named by PROG_OUT),
# stderr in $OUT/err, what it left in $OUT/left.  Its timeout wrapper's pid is
# WRAP, also the program's process group.
start_prog() {
    : >"$OUT/left"
    timeout -k 1 "$T" "${ISOLATE[@]}" "$OUT/left" "$PROG" "$@" <&0 >"${PROG_OUT:-$OUT/out}" 2>"$OUT/err" 3>&- 7>&- 8>&- &
    WRAP=$!
}

# ISOLATE: labs/isolate, or (root) what it would exec, one bash fewer a run.
if ((EUID == 0)) && unshare --ipc true 2>/dev/null; then
    ISOLATE=(unshare --ipc "$LABS/isolate" --inside)
else
    ISOLATE=("$LABS/isolate")
fi

# hold_stdin: make $OUT/in a FIFO whose write end the test holds as fd 7, so
# that `start_prog <"$OUT/in"` reads what the test writes there (printf >&7),
# until release_stdin: end of file.
hold_stdin() {
    mkfifo "$OUT/in"
    exec 7<>"$OUT/in"   # read-write: opening it does not wait for a reader
}

release_stdin() {
    exec 7>&-
}

# stop_prog: kill whatever is left of the program; its namespace goes with it.
stop_prog() {
    [[ -n $WRAP ]] || return 0
    kill -KILL -- "-$WRAP" "$WRAP" 2>/dev/null
    wait "$WRAP" 2>/dev/null
    WRAP=
}

# find_pids: PIDS, the live processes running the student's program, found
# down the tree from WRAP (/proc/PID/task/TID/children); zombies have no exe.
# No command is forked: this runs many times a second.
find_pids() {
    local queue=("$WRAP") p t kids
    PIDS=()
    while ((${#queue[@]})); do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [[ /proc/$p/exe -ef $PROG ]] && PIDS+=("$p")
        for t in /proc/"$p"/task/*/children; do
            kids=()
            read -r -a kids 2>/dev/null <"$t" || :  # no newline at its end
            queue+=("${kids[@]}")
        done
    done
}

# prog_pids: PIDS, one a line.
prog_pids() {
    find_pids
    ((${#PIDS[@]} == 0)) || printf '%s\n' "${PIDS[@]}"
}

# read_proc PID: STATE (R, S: asleep, T: stopped, Z: zombie), PARENT and WCHAN
# (the kernel function PID sleeps in: "anon_pipe_read", "do_wait"...), or fail.
read_proc() {
    local rest
    STATE= PARENT= WCHAN=
    read -r rest 2>/dev/null <"/proc/$1/stat" || return 1
    rest=${rest##*) }
    STATE=${rest%% *}
    rest=${rest#* }
    PARENT=${rest%% *}
    read -r WCHAN 2>/dev/null <"/proc/$1/wchan" || : # no newline at its end
    return 0
}

# main_pid: the program's first process (its parent is not the program).
main_pid() {
    local p
    find_pids
    for p in "${PIDS[@]}"; do
        read_proc "$p" || continue
        [[ /proc/$PARENT/exe -ef $PROG ]] || { echo "$p"; return 0; }
    done
    return 1
}

state_of() {
    read_proc "$1" && echo "$STATE"
}

wchan_of() {
    read_proc "$1" && [[ -n $WCHAN ]] && echo "$WCHAN"
}

# asleep_in PID REGEX: PID sleeps in a kernel function matching REGEX.
asleep_in() {
    read_proc "$1" && [[ $STATE == S && $WCHAN =~ $2 ]]
}

# Where a process waits for nothing but another process of the same program:
# a pipe or FIFO (read, write, the open rendezvous), a child (waitpid), a lock
# or semaphore (futex, semop), a message queue.
WAITS_ON_PEER='pipe|fifo|wait_for_partner|do_wait|futex|semtimedop|msgrcv|msgsnd'

# all_stuck: every live process of the program sleeps where only another of them
# could wake it: none can run again (call it only while nothing outside the
# program holds a pipe it uses).
# RAN: "PID:NS ..." for each process seen, NS the CPU time it has had
# (/proc/PID/schedstat; else its context switches): a process that sleeps for
# good has the same NS at every look, one in a fast exchange with another never
# does, even when each look catches both asleep.
all_stuck() {
    local p any=1 ran line
    RAN=
    find_pids
    for p in "${PIDS[@]}"; do
        read_proc "$p" || continue
        [[ $STATE == Z ]] && continue
        [[ $STATE == S && $WCHAN =~ $WAITS_ON_PEER ]] || return 1
        ran=
        read -r ran _ 2>/dev/null <"/proc/$p/schedstat" ||
            while read -r line; do
                [[ $line == *ctxt_switches:* ]] && ran+=${line##*:}
            done 2>/dev/null <"/proc/$p/status"
        RAN+="$p:${ran// /} "
        any=0
    done
    return "$any"
}

# watch_prog: until the program ends ($status: its exit status, 124 when T ran
# out) or is stuck (STUCK=1: all_stuck three times over 0.1 s, none of its
# processes having run in between; the program still there to look at).
watch_prog() {
    STUCK=0
    if [[ $(outside watch_loop) == stuck ]]; then
        STUCK=1
        return 0
    fi
    status=0
    wait "$WRAP" || status=$?
    WRAP=
}

watch_loop() {
    local seen=0 deadline=$((SECONDS + T + 2)) first
    while ((SECONDS < deadline)); do
        read_proc "$WRAP" && [[ $STATE != Z ]] || { echo ended; return; }
        if all_stuck && { ((seen == 0)) || [[ $RAN == "$first" ]]; }; then
            ((seen++ == 0)) && first=$RAN
            ((seen < 3)) || { echo stuck; return; }
        else
            seen=0
        fi
        sleep 0.05
    done
    echo late
}

# wait_until WHAT CMD...: poll CMD until it succeeds, at most T seconds, and
# only while the program runs (once started).  CMD runs in another bash
# (outside): what it sets is not seen here.
wait_until() {
    outside wait_loop "$T" "$@"
}

# wait_within SECONDS WHAT CMD...: wait_until, at most SECONDS (0.5: half a second).
wait_within() {
    outside wait_loop "$@"
}

wait_loop() {
    local what=$2 deadline
    printf -v deadline '%.0f' "${1}e6"
    deadline=$((${EPOCHREALTIME/./} + deadline))
    shift 2
    until "$@" >/dev/null; do
        [[ -z $WRAP ]] || { read_proc "$WRAP" && [[ $STATE != Z ]]; } ||
            { echo "the program ended before $what" >&2; return 1; }
        ((${EPOCHREALTIME/./} < deadline)) || { echo "timed out waiting for $what" >&2; return 1; }
        sleep 0.02
    done
}

# outside FUNCTION ARGS...: run FUNCTION in a bash of its own.  Bats runs a
# DEBUG trap before every command of a test, which makes a polling loop many
# times slower; a new bash has none.  Every function defined here and in the
# grader goes with it (export -f), and the variables the functions read.
outside() {
    export WRAP PROG T OUT LABS
    bash -c '"$@"' outside "$@"
}

export_functions() {
    local funcs
    mapfile -t funcs < <(compgen -A function | grep -vE '^(bats_|_|run$|load$|skip$|setup|teardown)')
    export -f "${funcs[@]}"
}

# pipe_of PID FD: the pipe's inode ("pipe:[91827]" -> 91827), or fail.
pipe_of() {
    local link
    link=$(readlink "/proc/$1/fd/$2" 2>/dev/null) || return 1
    [[ $link =~ ^pipe:\[([0-9]+)\]$ ]] || return 1
    echo "${BASH_REMATCH[1]}"
}

# writes_to PID FD: FD is open for writing (O_WRONLY or O_RDWR).
writes_to() {
    local key value
    while read -r key value; do
        [[ $key == flags: ]] && { (((8#$value & 3) != 0)); return; }
    done 2>/dev/null <"/proc/$1/fdinfo/$2"
    return 1
}

# fd_table: FD_PID, FD_NUM, FD_LINK: every fd of the program's processes and
# what it points to ("pipe:[91827]"), read with one find(1) for them all.
fd_table() {
    local dir fd link p dirs=()
    FD_PID=() FD_NUM=() FD_LINK=()
    find_pids
    for p in "${PIDS[@]}"; do dirs+=("/proc/$p/fd"); done
    ((${#dirs[@]})) || return 0
    while read -r dir fd link; do
        dir=${dir#/proc/}
        FD_PID+=("${dir%/fd}") FD_NUM+=("$fd") FD_LINK+=("$link")
    done < <(find "${dirs[@]}" -mindepth 1 -maxdepth 1 -type l -printf '%h %f %l\n' 2>/dev/null)
}

# write_ends INODE: "PID FD" for every write end of pipe INODE the program holds.
write_ends() {
    local i
    fd_table
    for i in "${!FD_PID[@]}"; do
        [[ ${FD_LINK[$i]} == "pipe:[$1]" ]] && writes_to "${FD_PID[$i]}" "${FD_NUM[$i]}" &&
            echo "${FD_PID[$i]} ${FD_NUM[$i]}"
    done
    return 0
}

# args_of PID: ARGS, PID's command line.
args_of() {
    ARGS=()
    mapfile -t -d '' ARGS 2>/dev/null <"/proc/$1/cmdline"
}

# blocked_fd PID: the fd PID is blocked reading (read's first argument, from
# /proc/PID/syscall: "NR ARG1 ..."), or fail.
blocked_fd() {
    local nr arg
    read -r nr arg _ 2>/dev/null <"/proc/$1/syscall" || return 1
    [[ $nr =~ ^[0-9]+$ && $arg == 0x* ]] || return 1
    echo "$((arg))"
}

# numbers_in_order FILE REGEX FIRST LAST: the numbers in what REGEX (an ERE
# with one number in it, e.g. '^line [0-9]+$') are the numbers
# FIRST to LAST, each once, in order; else say the first thing wrong.
numbers_in_order() {
    local file=$1 regex=$2 first=$3 last=$4 got want
    got=$(grep -oE -- "$regex" "$file" | grep -oE '[0-9]+' | tr '\n' ' ')
    want=$( ((last < first)) || seq -s ' ' "$first" "$last")
    want=${want:+$want }
    [[ $got == "$want" ]] && return 0
    awk -v got="$got" -v first="$first" -v last="$last" 'BEGIN {
        n = split(got, g, " "); want = first
        for (i = 1; i <= n; i++) {
            if (g[i] == want) { want++; continue }
            if (g[i] + 0 < want) { printf "%d came again (or out of order) after %d\n", g[i], want - 1; exit }
            printf "%d is missing (next came %d)\n", want, g[i]; exit
        }
        if (want <= last) printf "%d is missing (and nothing came after %d)\n", want, want - 1
        else if (n > last - first + 1) printf "more than %d came\n", last - first + 1
    }'
    return 1
}

# ns_segments PID: the shared-memory segments of PID's IPC namespace, as
# /proc/sysvipc/shm has them (key shmid perms size cpid ...; no header).  Where
# the program has no namespace of its own (labs/isolate could make none), the
# machine's segments that PID created.
ns_segments() {
    local lines
    if lines=$(nsenter -t "$1" --ipc cat /proc/sysvipc/shm 2>/dev/null) ||
        lines=$(nsenter -t "$1" --user --ipc --preserve-credentials cat /proc/sysvipc/shm 2>/dev/null); then
        tail -n +2 <<<"$lines"
    else
        awk -v pid="$1" 'NR > 1 && $5 == pid' /proc/sysvipc/shm
    fi
}
