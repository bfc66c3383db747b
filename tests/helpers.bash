# tests/helpers.bash - shared by every Bats file: load 'helpers' in each.
#
# Each test gets its own IPC_DEMO_DIR, so suites can run side by side.  Programs
# that could block run under `timeout`; background programs are started with
# start_bg and killed in teardown; waiting is polling with a deadline, never a
# bare sleep.  teardown fails the test if a FIFO, socket file or IPC object is left.

bats_require_minimum_version 1.5.0

# A test never depends on how make was called (make -s test, make -j8 test):
# the makes a test runs start from nothing of the caller's.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# make check points this at the sanitized build.
BIN="${IPC_DEMOS_BIN:-$ROOT}"
# Seconds any single command may take before it counts as hung.
T="${T:-20}"

BG_PIDS=()

setup() {
    export IPC_DEMO_DIR="$BATS_TEST_TMPDIR/ipc"
    OUT="$BATS_TEST_TMPDIR"
    BG_PIDS=()
}

teardown() {
    stop_all_bg
    check_leftovers
}

# bare: close every fd above 2 of this shell but those named in $KEEP_FDS;
# called in the subshell that then execs a program, so that the program holds
# 0, 1 and 2 only, as from a terminal: the fd numbers it prints are the ones a
# student sees, and no pipe of Bats' stays open in a program.  A test that
# hands a program an fd says so: KEEP_FDS=7 run_t prog -r 7 7>file.
bare() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        ((fd > 2)) && [[ " ${KEEP_FDS-} " != *" $fd "* ]] && eval "exec $fd>&-"
    done
    return 0
}

# run_t CMD...: what Bats' run --separate-stderr does (status; output without
# its trailing newlines, and its lines; stderr trimmed), bounded by $T seconds,
# CMD holding fds 0-2 only (standard input: the caller's).  Bats' own run costs
# some 30 ms of CPU a call; this, the command and no more.
run_t() {
    status=0
    (bare; exec timeout "$T" "$@") >"$OUT/.run.out" 2>"$OUT/.run.err" || status=$?
    IFS= read -r -d '' output <"$OUT/.run.out" || true
    while [[ $output == *$'\n' ]]; do output=${output%$'\n'}; done
    IFS=$'\n' read -r -d '' -a lines <<<"$output" || true
    read -r -d '' stderr <"$OUT/.run.err" || true
}

# nap SECONDS: sleep without forking a sleep(1) (a poll runs it hundreds of
# times a test): read(1) with a timeout on a FIFO nobody writes to, opened
# read-write so the open does not wait.
NAP_FIFO=${BATS_RUN_TMPDIR:+$BATS_RUN_TMPDIR/nap}
[[ -z $NAP_FIFO || -p $NAP_FIFO ]] || mkfifo "$NAP_FIFO" 2>/dev/null || [[ -p $NAP_FIFO ]] || NAP_FIFO=
nap() {
    if [[ -n $NAP_FIFO ]]; then
        read -r -t "$1" _ <>"$NAP_FIFO" || true
    else
        sleep "$1"
    fi
}

# backoff VAR: a poll's pause: nap VAR milliseconds (a variable of the caller,
# 0 or unset at first: 5), then twice as long next time, up to 100.  Quick for
# what happens at once, and a long wait costs a few looks, not hundreds.
backoff() {
    local -n ms=$1
    local seconds
    ((ms >= 5)) || ms=5
    printf -v seconds '%d.%03d' $((ms / 1000)) $((ms % 1000))
    nap "$seconds"
    ((ms = ms * 2 > 100 ? 100 : ms * 2))
}

# start_bg NAME CMD...: start CMD in the background with stdout in $OUT/NAME.out
# and stderr in $OUT/NAME.err (emptied here first, so that no wait can match the
# lines of an earlier NAME before the new one writes), fds 0-2 only;
# start_bg_in NAME FILE CMD...: the same with standard input from FILE (else
# /dev/null).  The pid of its `timeout` wrapper is in NAME_pid (a variable); the
# program's own pid: bg_child NAME.
start_bg() {
    start_bg_in "$1" /dev/null "${@:2}"
}

start_bg_in() {
    local name=$1 input=$2
    shift 2
    : >"$OUT/$name.out"
    : >"$OUT/$name.err"
    (bare; exec timeout "$T" "$@") <"$input" >"$OUT/$name.out" 2>"$OUT/$name.err" &
    printf -v "${name}_pid" '%s' "$!"
    BG_PIDS+=("$!")
}

# bg_child NAME: print the pid of the program started by start_bg NAME (the
# child of its timeout wrapper: /proc/PID/task/PID/children names it).
bg_child() {
    local parent_var="${1}_pid" deadline=$((SECONDS + T)) kids pause=0
    local parent=${!parent_var}
    while ((SECONDS < deadline)); do
        read -r kids _ <"/proc/$parent/task/$parent/children" 2>/dev/null
        if [[ -n $kids ]]; then
            echo "$kids"
            return 0
        fi
        backoff pause
    done
    echo "no child of $parent appeared within ${T}s" >&2
    return 1
}

# first_pid ROLE FILE: the pid in the first "[ROLE PID] " line of FILE (ROLE
# may be a regular expression); fails when there is none.
first_pid() {
    local line re="^\[$1 ([0-9]+)\] "
    local -a text
    [[ -r $2 ]] && mapfile -t text <"$2"
    for line in "${text[@]}"; do
        [[ $line =~ $re ]] && { echo "${BASH_REMATCH[1]}"; return 0; }
    done
    return 1
}

# pid_of NAME ROLE: the pid a program started as NAME prints in its first
# "[ROLE PID] " line, once it has printed one.
pid_of() {
    wait_for_line "$OUT/$1.out" "^\[$2 [0-9]+\] " || return 1
    first_pid "$2" "$OUT/$1.out"
}

# wait_bg NAME: wait (bounded by the start_bg timeout) and set $status.
wait_bg() {
    local var="${1}_pid"
    status=0
    wait "${!var}" || status=$?
}

# stop_all_bg: TERM, then KILL, whatever start_bg started and is still running.
stop_all_bg() {
    local pid deadline pause
    for pid in "${BG_PIDS[@]}"; do
        # Even when the timeout wrapper is gone, its process group may not be.
        kill -TERM "$pid" 2>/dev/null
        deadline=$((SECONDS + 3))
        pause=0
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do backoff pause; done
        kill -KILL -- "-$pid" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    BG_PIDS=()
}

# has [-x] [-F] PATTERN [FILE...]: what grep -q -E (-x: the whole line; -F: a
# fixed string) answers for the FILEs, or standard input, in bash: tests ask it
# hundreds of times, and a grep is a process each time.  A file of more than
# HAS_LINES lines goes to grep: bash compiles the expression for every line.
HAS_LINES=500
has() {
    local whole=0 fixed=0 pat f rc
    local -a text flags=(-q)
    while [[ $1 == -* ]]; do
        [[ $1 == -- ]] && { shift; break; }
        [[ $1 == *x* ]] && whole=1 flags+=(-x)
        [[ $1 == *F* ]] && fixed=1
        shift
    done
    if ((fixed)); then flags+=(-F); else flags+=(-E); fi
    pat=$1
    shift
    (($#)) || set -- /dev/stdin
    for f; do
        mapfile -t text <"$f" || return 2
        rc=0
        if ((${#text[@]} > HAS_LINES)); then
            printf '%s\n' "${text[@]}" | grep "${flags[@]}" -- "$pat" || rc=$?
        else
            has_in_lines "$whole" "$fixed" "$pat" "${text[@]}" || rc=$?
        fi
        ((rc == 1)) || return "$rc"
    done
    return 1
}

# has_in_lines WHOLE FIXED PATTERN LINE...: one of the LINEs matches.
has_in_lines() {
    local whole=$1 fixed=$2 pat=$3 line valid=0
    shift 3
    ((whole && !fixed)) && pat="^($pat)\$"
    ((fixed)) || [[ '' =~ $pat ]] || valid=$?
    ((valid != 2)) || { echo "not a regular expression: $pat" >&2; return 2; }
    for line; do
        if ((fixed && whole)); then
            [[ $line == "$pat" ]] && return 0
        elif ((fixed)); then
            [[ $line == *"$pat"* ]] && return 0
        else
            [[ $line =~ $pat ]] && return 0
        fi
    done
    return 1
}

# wait_for_line FILE REGEX [SECONDS]: poll until a line of FILE matches, each
# line looked at once (a last line still without its newline, again next time).
wait_for_line() {
    local file=$1 regex=$2 deadline=$((SECONDS + ${3:-$T})) pause=0 seen=0 n rc
    local -a text
    while :; do
        text=()
        [[ -r $file ]] && mapfile -s "$seen" text <"$file"
        n=${#text[@]}
        ((n == 0)) || [[ ${text[n - 1]} == *$'\n' ]] || n=$((n - 1))
        if ((${#text[@]} > HAS_LINES)); then
            grep -qE -- "$regex" "$file" && return 0
        else
            rc=0
            has_in_lines 0 0 "$regex" "${text[@]%$'\n'}" || rc=$?
            ((rc == 1)) || return "$rc"
        fi
        seen=$((seen + n))
        if ((SECONDS >= deadline)); then
            echo "timed out waiting for /$regex/ in $file; it has:" >&2
            cat "$file" >&2 2>/dev/null
            return 1
        fi
        backoff pause
    done
}

# wait_until WHAT CMD...: poll until CMD succeeds, at most $T seconds; on timeout
# fail, saying what was awaited.
wait_until() {
    local what=$1 deadline=$((SECONDS + T)) pause=0
    shift
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "timed out waiting for $what" >&2
            return 1
        fi
        backoff pause
    done
}

# wait_for_fifo PATH
wait_for_fifo() {
    wait_until "FIFO $1" test -p "$1"
}

# absent PATH: nothing at PATH, not even a dangling symlink.
absent() {
    [[ ! -e $1 && ! -L $1 ]]
}

# wait_for_gone PATH: poll until PATH no longer exists.
wait_for_gone() {
    wait_until "$1 to go" absent "$1"
}

# proc_state PID: the one-letter state of PID (R, S: asleep in a system call,
# T: stopped, Z: zombie).
proc_state() {
    local rest
    read -r rest <"/proc/$1/stat" || return 1
    rest=${rest##*) }
    echo "${rest%% *}"
}

# in_state PID STATE: PID is in STATE.
in_state() {
    [[ $(proc_state "$1" 2>/dev/null) == "$2" ]]
}

# stopped PID: PID is stopped (its SIGSTOP has taken effect).
stopped() {
    in_state "$1" T
}

# exited PID: PID has exited (gone, or a zombie nobody has reaped yet).
exited() {
    [[ ! -e /proc/$1 ]] || in_state "$1" Z
}

# ipc_key PROJ: the key ftok(3) gives for $IPC_DEMO_DIR/key and project id PROJ
# (a character), as ipcs prints it: glibc's ftok takes the low 16 bits of the
# inode, the low 8 of the device and the 8 of PROJ.
ipc_key() {
    local file="$IPC_DEMO_DIR/key" dev ino key
    [[ -e $file ]] || return 1
    read -r dev ino < <(stat -c '%d %i' "$file")
    ftok_key key "$dev" "$ino" "$1"
    echo "$key"
}

# ftok_key VAR DEV INO PROJ: VAR set to ftok(3)'s key for that file and PROJ.
ftok_key() {
    local proj
    printf -v proj '%d' "'$4"
    printf -v "$1" '0x%08x' $(( ($3 & 0xffff) | (($2 & 0xff) << 16) | ((proj & 0xff) << 24) ))
}

# ipc_objects_for PROJ: the ipcs lines (segments, queues, semaphore sets) whose key
# is this test's key for PROJ.
ipc_objects_for() {
    local key
    key=$(ipc_key "$1") || return 0
    ipcs -a 2>/dev/null | grep -i -- "^$key " || true
}

# The project ids of common/objects.h: shm, msgq, sem, holder, bench.
IPC_PROJS=(s q m h b)

# check_leftovers: no FIFO or socket file under this test's directories, no POSIX object named
# after its IPC_DEMO_DIR, no System V object with one of its keys.  It runs
# after every test, so in bash: a stat(1) only when there is something to judge.
check_leftovers() {
    local f left=() posix=() sysv=() dev ino kdev='' kino='' prefix proj kind key id
    local -A ours=()
    [[ -d ${BATS_TEST_TMPDIR-} && $BATS_TEST_TMPDIR != / ]] ||
        { echo "check_leftovers: no test directory to look in" >&2; return 2; }
    shopt -s globstar dotglob nullglob
    for f in "$BATS_TEST_TMPDIR"/**; do
        [[ -p $f || -S $f ]] && left+=("$f")
    done
    posix=(/dev/shm/ipc-demos-* /dev/shm/sem.ipc-demos-* /dev/mqueue/ipc-demos-*)
    shopt -u globstar dotglob nullglob
    if ((${#left[@]})); then
        echo "FIFOs or socket files left behind:" >&2
        printf '%s\n' "${left[@]}" >&2
        rm -f -- "${left[@]}"
        return 1
    fi
    for kind in shm msg sem; do      # "key id ...", keys in decimal, after a heading
        while read -r key id _; do
            [[ $key == key || $key == 0 ]] || sysv+=("$kind $key $id")
        done <"/proc/sysvipc/$kind"
    done
    [[ -d $IPC_DEMO_DIR ]] && ((${#posix[@]} + ${#sysv[@]})) || return 0
    stat -c '%d %i' -- "$IPC_DEMO_DIR" "$IPC_DEMO_DIR/key" >"$OUT/.stat" 2>/dev/null
    { read -r dev ino; read -r kdev kino; } <"$OUT/.stat"
    # POSIX objects are named after the directory's device and inode (posix_name).
    printf -v prefix 'ipc-demos-%x-%x-' "$dev" "$ino"
    left=()
    for f in "${posix[@]}"; do
        [[ ${f##*/} == "$prefix"* || ${f##*/} == sem."$prefix"* ]] && left+=("$f")
    done
    if ((${#left[@]})); then
        echo "POSIX objects left behind: ${left[*]}" >&2
        rm -f -- "${left[@]}"
        return 1
    fi
    # No key file, no key: nothing System V can be ours.
    [[ -n $kino ]] || return 0
    for proj in "${IPC_PROJS[@]}"; do
        ftok_key key "$kdev" "$kino" "$proj"
        ours[$((key))]=1
    done
    left=()
    for f in "${sysv[@]}"; do
        read -r kind key id <<<"$f"
        [[ -n ${ours[$key]:-} ]] && left+=("$f")
    done
    if ((${#left[@]})); then
        echo "System V objects left behind (kind, key, id):" >&2
        printf '%s\n' "${left[@]}" >&2
        for f in "${left[@]}"; do
            read -r kind key id <<<"$f"
            case $kind in shm) kind=-m ;; msg) kind=-q ;; sem) kind=-s ;; esac
            ipcrm "$kind" "$id" 2>/dev/null || true
        done
        return 1
    fi
}

# ipcrm_lines IPCS_LINES: remove the listed objects so one failure does not cascade.
ipcrm_lines() {
    local key
    while read -r key _; do
        ipcrm -M "$key" 2>/dev/null || ipcrm -Q "$key" 2>/dev/null || ipcrm -S "$key" 2>/dev/null || true
    done <<<"$1"
}

# strip_pids: "[parent 4242] text" -> "[parent] text", for comparing runs.
strip_pids() {
    sed -E 's/^\[([a-z]+[0-9]*) [0-9]+\] /[\1] /'
}

# Bats runs a DEBUG trap before every command of a test, and, as it sets -T,
# of every function the test calls: some 100-300 us a command, which made a
# helper's loop over a file's lines cost more than the programs it checks.
# These helpers run with functrace off (the trap then skips them); the test's
# own lines stay traced, so a failure is still reported at the line that
# called the helper.  untraced_functions NAME...: wrap each NAME so.
untraced_functions() {
    local f
    for f; do
        eval "untraced_$(declare -f "$f")"
        eval "$f() { local -; set +T; untraced_$f \"\$@\"; }"
    done
}
untraced_functions bare run_t nap backoff start_bg start_bg_in bg_child first_pid pid_of \
    wait_bg stop_all_bg has has_in_lines wait_for_line wait_until wait_for_fifo absent \
    wait_for_gone proc_state in_state stopped exited ipc_key ftok_key ipc_objects_for \
    check_leftovers ipcrm_lines strip_pids
