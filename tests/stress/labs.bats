#!/usr/bin/env bats
# labs/: for every lab, the grader fails the starter for the lab's own reason
# and passes the solution; pool-fds' other fix passes too; a few plausible
# guesses (tests/labs/*.c) are refused by the check meant for them; and
# labs/grade-all says one line per submission.
#
# The graders are Bats files themselves.  They all run once, side by side,
# started by setup_file (the starters in one bats, the solutions in another, the
# rest one after the other in a third job); each test here waits for the job it
# needs and reads what the graders said.

load ../helpers

# The check each starter must fail first.
FIRST_FAILING='^(eof: 5 lines|pool-fds: seq 8|sigpipe: the reader quits|fifo-hang: no server|shm-race: 2000 messages|lost-update: 4 workers|leftovers: Ctrl-C)'

setup_file() {
    local labs=("$ROOT"/labs/*/grade.bats)
    cd "$ROOT" || return 1
    # A starter's run stops at the check that must fail (bats -f: the
    # check's name), the solutions' runs all of them.
    run_job starters graded starters env LAB_FILE=starter.c bats --tap -f "$FIRST_FAILING" "${labs[@]}"
    run_job solutions graded solutions env LAB_FILE=solution.c bats --tap "${labs[@]}"
    run_job extras extras
}

extras() {
    graded cloexec env FILE=labs/pool-fds/solution-cloexec.c bats --tap labs/pool-fds/grade.bats
    graded guess-pool env FILE=tests/labs/pool-fds-reverse-order.c \
        bats --tap -f 'no worker holds' labs/pool-fds/grade.bats
    graded guess-fifo env FILE=tests/labs/fifo-hang-still-nonblocking.c \
        bats --tap -f 'slow server' labs/fifo-hang/grade.bats
    graded guess-shm env FILE=tests/labs/shm-race-sleep.c \
        bats --tap -f 'held up' labs/shm-race/grade.bats
    graded guess-leftovers env FILE=tests/labs/leftovers-removed-at-once.c \
        bats --tap -f 'SIGINT' labs/leftovers/grade.bats
    # A file that does not compile fails fast: grade-all is shown at work on
    # two submissions for little more than the price of one.
    mkdir -p "$BATS_FILE_TMPDIR/subs/carol"
    printf 'int main(void) { return missing; }\n' >"$BATS_FILE_TMPDIR/subs/alice.c"
    cp labs/sigpipe/solution.c "$BATS_FILE_TMPDIR/subs/carol/writer.c"
    graded grade-all labs/grade-all sigpipe "$BATS_FILE_TMPDIR/subs"
}

# run_job JOB CMD...: CMD in the background, holding JOB.lock (flock) from
# before run_job returns until CMD and all it started have ended: results waits
# for that without polling.  (3>&-: Bats waits for whatever holds its fd 3.)
run_job() {
    local job=$1 fd
    shift
    exec {fd}>"$BATS_FILE_TMPDIR/$job.lock"
    flock -x "$fd"
    "$@" 3>&- &
    exec {fd}>&-    # the job's copy holds the lock now
}

# graded NAME CMD...: CMD's output in NAME.tap, then its exit status in NAME.rc;
# the pid of its timeout (the leader of its process group) in NAME.pid.
graded() {
    local name=$1 rc=0
    shift
    timeout 250 "$@" >"$BATS_FILE_TMPDIR/$name.tap" 2>&1 &
    echo "$!" >"$BATS_FILE_TMPDIR/$name.pid"
    wait "$!" || rc=$?
    echo "$rc" >"$BATS_FILE_TMPDIR/$name.rc"
}

# A run that has not ended (a test gave up waiting for it) is stopped.
teardown_file() {
    local pidfile
    for pidfile in "$BATS_FILE_TMPDIR"/*.pid; do
        [[ -e $pidfile && ! -e ${pidfile%.pid}.rc ]] || continue
        kill -TERM -- "-$(<"$pidfile")" 2>/dev/null || true
    done
}

# results NAME [JOB]: wait for the job that made NAME (default: the job NAME)
# to end; TAP is NAME's output.
results() {
    TAP=$BATS_FILE_TMPDIR/$1.tap
    flock -w 260 -s "$BATS_FILE_TMPDIR/${2:-$1}.lock" true && [[ -e $BATS_FILE_TMPDIR/$1.rc ]] ||
        { echo "the graders' run '$1' did not end"; cat "$TAP"; false; }
}

# first_failure LAB: the first failing check of LAB in $TAP, and the FAIL line
# it printed ("not ok N LAB: ..." then "# FAIL: ...").
first_failure() {
    awk -v lab="$1: " '
        /^(not )?ok [0-9]+ / { name = $0; sub(/^(not )?ok [0-9]+ /, "", name)
                               failing = /^not ok/ && index(name, lab) == 1 }
        failing && /^# FAIL: / { print; exit }' "$TAP"
}

# passed LAB: every check of LAB in $TAP passed, and there was at least one.
passed() {
    local ok bad
    ok=$(grep -cE "^ok [0-9]+ $1: " "$TAP") || true
    bad=$(grep -cE "^not ok [0-9]+ $1: " "$TAP") || true
    ((ok > 0 && bad == 0)) || { echo "$1: $ok passed, $bad failed:"; grep -A8 -E "^not ok [0-9]+ $1: " "$TAP"; false; }
}

# refused_by LAB REGEX: the starter fails LAB's grader, its first FAIL line
# matching REGEX; the solution passes it.
refused_by() {
    local lab=$1 regex=$2 line
    results starters
    line=$(first_failure "$lab")
    [[ -n $line ]] || { echo "the starter of $lab did not fail its grader:"; grep -E "^(not )?ok [0-9]+ $lab: " "$TAP"; false; }
    [[ $line =~ $regex ]] || { echo "the starter of $lab failed for another reason: $line"; false; }
    results solutions
    passed "$lab"
}

@test "labs/eof: the starter hangs in read() (a write end is left), the solution passes" {
    refused_by eof 'FAIL: read\(\) never returned 0.*holds a write end'
}

@test "labs/pool-fds: the starter's shutdown hangs, the solution passes, and so does the close-on-exec one" {
    refused_by pool-fds 'FAIL: the shutdown hangs'
    results cloexec extras
    passed pool-fds
}

@test "labs/sigpipe: the starter dies of SIGPIPE without a word, the solution passes" {
    refused_by sigpipe 'FAIL: the writer was killed by SIGPIPE'
}

@test "labs/fifo-hang: the starter waits in open() with no server, the solution passes" {
    refused_by fifo-hang 'FAIL: with no server, the client is blocked in open\(\)'
}

@test "labs/shm-race: the starter's reader misses messages, the solution passes" {
    refused_by shm-race 'FAIL: with 2000 messages, the reader did not print message 1 to message 2000'
}

@test "labs/lost-update: the starter loses updates, the solution passes" {
    refused_by lost-update 'FAIL: 4 workers x 10000 additions: the counter is [0-9]+, not 40000'
}

@test "labs/leftovers: the starter leaves its segment on SIGINT, the solution passes" {
    refused_by leftovers 'FAIL: SIGINT killed the program .* the segment stayed'
}

@test "labs: the graders refuse the guesses in tests/labs/, each by the check meant for it" {
    local guess lab regex
    while read -r guess lab regex; do
        results "$guess" extras
        line=$(first_failure "$lab")
        [[ $line =~ $regex ]] || { echo "$guess: expected /$regex/, got '$line':"; cat "$TAP"; false; }
    done <<'EOF_GUESSES'
guess-pool pool-fds FAIL: workers hold write ends of the workers' pipes
guess-fifo fifo-hang FAIL: with a server that reads late, the client exited with status 1.*Resource temporarily unavailable
guess-shm shm-race FAIL: with the reader held up, the reader did not print message 1 to message 8000,
guess-leftovers leftovers FAIL: while the program runs, its segment has no key any more
EOF_GUESSES
}

@test "labs/grade-all: one line per submission, pass or the first failing check" {
    results grade-all extras
    [[ $(<"$BATS_FILE_TMPDIR/grade-all.rc") == 1 ]]
    has "^alice +FAIL  sigpipe: .* - alice.c does not compile: .*error: .*missing" "$TAP"
    has '^carol +pass$' "$TAP"
    has '^# sigpipe: 1 passed, 1 failed$' "$TAP"
}

@test "make grade: a lab that does not exist is a usage error" {
    run_t make -s -C "$ROOT" grade LAB=no-such-lab
    [ "$status" -eq 2 ]
    [[ $stderr == *"usage: make grade LAB=NAME [FILE=path], NAME one of: eof pool-fds"* ]]
}
