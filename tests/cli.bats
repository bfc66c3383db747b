#!/usr/bin/env bats
# The bad-input matrix: every program in the Makefile's PROGRAMS list, abused the
# same ways.  A usage error exits 2 with "PROG: what is wrong" and the usage line
# on stderr and nothing on stdout; -h exits 0 with the usage on stdout.

load helpers

# Hundreds of calls that end in a usage error: under make check, LeakSanitizer's
# look at each exit would take most of the time, and the other files check leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# One row per program:
#   program        a number option   operands a valid call needs   extra operands refused
# ("-" for none).  A program missing here fails the first test.  A program with
# several options that take numbers may have a row for each (the first row is the
# one used for extra operands).
ROWS='
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

row_of() {
    awk -v p="$1" '$1 == p { print; found = 1 } END { exit !found }' <<<"$ROWS"
}

programs() {
    make -s -C "$ROOT" print-programs
}

# expect_usage_error PROG WHAT ARGS...: exit 2, stdout empty, stderr names PROG,
# says WHAT (a string) and shows the usage line.  (Not Bats' run: hundreds of
# calls, each read back with read -d '', which forks nothing.)
failures=""
expect_usage_error() {
    local prog=$1 what=$2 status=0 output="" stderr=""
    shift 2
    timeout 5 "$BIN/$prog" "$@" >"$OUT/cli.out" 2>"$OUT/cli.err" </dev/null || status=$?
    IFS= read -r -d '' output <"$OUT/cli.out" || true
    IFS= read -r -d '' stderr <"$OUT/cli.err" || true
    stderr=${stderr%$'\n'}
    if [[ $status -ne 2 || -n $output || $stderr != "$prog: "* ||
          $stderr != *"$what"* || $stderr != *"usage: $prog"* ]]; then
        failures+="$prog $*: status $status, stdout '$output', stderr '$stderr'"$'\n'
    fi
}

report() {
    if [[ -n $failures ]]; then
        printf '%s' "$failures" >&2
        return 1
    fi
}

@test "every program has a row in the matrix" {
    local prog
    for prog in $(programs); do
        row_of "$prog" >/dev/null || failures+="no row for $prog in tests/cli.bats"$'\n'
    done
    [[ $(programs | wc -l) -ge 1 ]]
    report
}

@test "an unknown option is a usage error" {
    local prog
    for prog in $(programs); do
        expect_usage_error "$prog" "unknown option -Z" -Z
    done
    report
}

@test "a missing option argument is a usage error" {
    local prog num
    for prog in $(programs); do
        while read -r -u 4 _ num _; do
            [[ $num == - ]] && continue
            expect_usage_error "$prog" "option $num needs an argument" "$num"
        done 4< <(row_of "$prog")
    done
    report
}

@test "a number option refuses a non-number, a negative and an overflow" {
    local prog num ops bad
    for prog in $(programs); do
        while read -r -u 4 _ num ops _; do
            [[ $num == - ]] && continue
            [[ $ops == - ]] && ops=""
            # strtol() alone would take the white space and the '+' of these.
            for bad in abc 12x "" -1 99999999999999999999 $'\t3' ' 3' $'\n3' $'\r3' $'\v3' +3 3\ ; do
                expect_usage_error "$prog" "$num: '$bad' is" "$num" "$bad" $ops
            done
        done 4< <(row_of "$prog")
    done
    report
}

@test "extra operands are a usage error" {
    local prog ops extra
    for prog in $(programs); do
        read -r _ _ ops extra < <(row_of "$prog" | head -n 1)
        [[ $extra == yes ]] || continue
        [[ $ops == - ]] && ops=""
        expect_usage_error "$prog" "unexpected argument 'surplus'" $ops surplus
    done
    report
}

@test "-h prints the usage on stdout and exits 0" {
    local prog
    for prog in $(programs); do
        run --separate-stderr timeout 5 "$BIN/$prog" -h
        if [[ $status -ne 0 || $output != "usage: $prog"* || -n $stderr ]]; then
            failures+="$prog -h: status $status, stdout '$output', stderr '$stderr'"$'\n'
        fi
    done
    report
}

@test "a long option given a value it does not take is a usage error" {
    local prog opt seen=0
    for prog in $(programs); do
        for opt in $(timeout 5 "$BIN/$prog" -h | head -n 1 | grep -oE '\[--[a-z-]+\]' | tr -d '[]'); do
            seen=$((seen + 1))
            expect_usage_error "$prog" "$opt" "$opt=1"
        done
    done
    [ "$seen" -ge 1 ]
    report
}
