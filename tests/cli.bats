#!/usr/bin/env bats
# The bad-input matrix: every program in the Makefile's PROGRAMS list, abused the
# same ways.  A usage error exits 2 with "PROG: what is wrong" and the usage line
# on stderr and nothing on stdout; -h exits 0 with the usage on stdout.

load helpers

# Hundreds of calls: tests/cli-check makes them, in a plain bash (Bats traces
# every command a test runs, which would be most of the time).  Under make check,
# LeakSanitizer's look at each exit would take most of the rest; the other files
# check leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# One row per program:
#   program        a number option   operands a valid call needs   extra operands refused
# ("-" for none).  A program missing here fails the first test.  A program with
# several options that take numbers may have a row for each (the first row is the
# one used for extra operands).
export ROWS='
pipe/demo        -n                -                             yes
pipe/cases       -d                empty                         yes
pipe/atomic      -n                -                             yes
pipe/pipeline    -                 -                             no
shm/reader       -s                -                             yes
shm/writer       -n                -                             no
procpool/pool    -n                -                             yes
procpool/worker  -i                -                             yes
procpool/pool    -w                -                             yes
procpool/pool    -d                -                             yes
procpool/worker  -r                -                             yes
fifo/server      -d                -                             yes
fifo/client      -d                -                             no
msgq/server      -d                -                             yes
msgq/client      -d                -                             no
sem/race         -n                -                             yes
sem/race         -p                -                             yes
sem/holder-dies  -t                -                             yes
sem/holder-dies  -d                -                             yes
bench/ipcbench   -r                -                             yes
bench/ipcbench   -s                -                             yes
intro/isolation  -d                -                             yes
socket/server    -d                -                             yes
socket/client    -d                -                             no
socket/pass      -d                recv                          yes
posix-mq/server  -d                -                             yes
posix-mq/server  -m                -                             yes
posix-mq/client  -d                -                             no
posix-mq/client  -P                -                             no
posix-shm/reader -S                -                             yes
posix-shm/writer -n                -                             no
posix-shm/writer -d                -                             no
'

# cli_check CHECK: tests/cli-check CHECK passes; its failures are shown.  A
# backstop bounds it (some 300 calls, each a few ms, or 50 under make check's
# sanitizers on a busy machine); past it, the call in progress is named.
cli_check() {
    local status=0 bound=$((T * 6))
    CALL_LOG="$OUT/call" IPC_DEMOS_BIN="$BIN" timeout "$bound" "$ROOT/tests/cli-check" "$1" || status=$?
    ((status != 124)) || echo "not over within ${bound}s; the call in progress: $(cat "$OUT/call")"
    return "$status"
}

@test "every program has a row in the matrix" { cli_check rows; }

@test "an unknown option is a usage error" { cli_check unknown; }

@test "a missing option argument is a usage error" { cli_check missing; }

# abc 12x "" -1 99999999999999999999, and what strtol() alone would take: the
# white space of $'\t3' ' 3' $'\n3' $'\r3' $'\v3', the '+' of +3, and '3 ' (on
# each program's first number option; abc -1 $'\t3' on its others).
@test "a number option refuses a non-number, a negative and an overflow" { cli_check number; }

@test "extra operands are a usage error" { cli_check extra; }

@test "-h prints the usage on stdout and exits 0" { cli_check help; }

@test "a long option given a value it does not take is a usage error" { cli_check long; }
