#!/usr/bin/env bats
# The docs show what the programs print.  A code block right after the marker
#
#     <!-- docs-test -->            or   <!-- docs-test: SETUP -->
#
# is run: each "$ COMMAND" line of the block runs from the top of the tree (bash,
# stdout and stderr together, a fresh IPC_DEMO_DIR per block, bounded), and the
# lines shown under it must be what it prints now:
#   - per process (the "[ROLE PID]" prefix; lines without one are a group of
#     their own), the shown lines appear in the same order in the real output;
#   - a block with no "..." line shows every line (no more, no fewer); with one,
#     "..." stands for whatever the block leaves out;
#   - pids, and numbers that change from run to run (3 digits and more, hex,
#     decimals, "pipe:[...]" inodes, the number after pid, uid, gid, id, msqid,
#     shmid, semid...), are compared as N; the block's own IPC_DEMO_DIR reads as
#     /tmp/ipc-demos-N, as does any /tmp/ipc-demos-UID the doc shows.  A SETUP
#     that starts with "any-number" compares every number as N.
# Any other SETUP is shell run first, in the same shell, e.g. a server started
# in the background: wait_for_file PATH, wait_for_gone PATH and
# wait_for_line FILE REGEX are there to wait for it (never a bare sleep).  What
# SETUP started is killed when the block ends, and the block must leave no FIFO
# and no System V object behind.

load helpers

# blocks FILE: the marked blocks (fenced, or indented by 4 spaces; a blank line
# may come between marker and block) as "B SETUP", "C COMMAND", "E LINE" records.
blocks() {
    awk '
        function emit(line) {
            if (line ~ /^\$ /) print "C " substr(line, 3); else print "E " line
        }
        /^<!-- docs-test(: .*)? -->$/ {
            setup = $0; sub(/^<!-- docs-test:? ?/, "", setup); sub(/ ?-->$/, "", setup)
            marked = 1; next
        }
        fenced && /^```/ { fenced = 0; next }
        fenced { emit($0); next }
        indented && /^    / { for (; blanks > 0; blanks--) emit(""); emit(substr($0, 5)); next }
        indented && /^[ \t]*$/ { blanks++; next }
        indented { indented = 0; blanks = 0 }
        marked && /^```/ { print "B " setup; fenced = 1; marked = 0; next }
        marked && /^    / { print "B " setup; indented = 1; marked = 0; emit(substr($0, 5)); next }
        marked && /^[ \t]*$/ { next }
        { marked = 0 }
    ' "$1"
}

# The numbers that vary from run to run, as N: pids, ids, uids and keys, 3 digits
# and more, hex, decimals, inodes.  A block's own $IPC_DEMO_DIR reads as the
# default one the doc shows, /tmp/ipc-demos-$UID.
normalize() {
    local all=$1 dir=$2
    sed -E -e "s#${dir//#/\\#}#/tmp/ipc-demos-N#g" -e 's#/tmp/ipc-demos-[0-9]+#/tmp/ipc-demos-N#g' \
        -e 's/^\[([a-z]+[0-9]*) [0-9]+\]/[\1 N]/' \
        -e 's/\<(pid|uid|gid|cpid|lpid|cuid|id|msqid|shmid|semid|ID|queue|segment|set|child|process|worker|holder|creator|client|server)([ =])[0-9]+/\1\2N/g' \
        -e 's/\<(fork|waitpid|msgget|shmget|semget|kill)\(([^)]*)\) = [0-9]+/\1(\2) = N/g' \
        -e 's/\<(waitpid|kill|msgsnd|msgrcv|msgctl|shmat|shmctl|semop|semctl)\([0-9]+/\1(N/g' \
        -e 's/0x[0-9a-fA-F]+/0xN/g' -e 's/[0-9]+\.[0-9]+/N.N/g' \
        -e 's/(pipe|socket|anon_inode):\[[0-9]+\]/\1:[N]/g' \
        -e 's/[0-9]{3,}/N/g' |
        if [[ $all == any-number* ]]; then sed -E 's/[0-9]+/N/g'; else cat; fi
}

# compare EXPECTED ACTUAL ANY: per group, EXPECTED's lines in order in ACTUAL;
# without a "..." line, nothing else either.
compare() {
    awk -v gaps="$(grep -qx '\.\.\.' "$1" && echo 1 || echo 0)" '
        function group(line) { return match(line, /^\[[a-z]+[0-9]* N\]/) ? substr(line, 2, RLENGTH - 4) : "" }
        FNR == NR { if ($0 != "...") { g = group($0); want[g, ++nwant[g]] = $0; groups[g] = 1 } next }
        { g = group($0); got[g, ++ngot[g]] = $0; groups[g] = 1 }
        END {
            for (g in groups) {
                j = 1
                for (i = 1; i <= nwant[g]; i++) {
                    while (j <= ngot[g] && got[g, j] != want[g, i]) {
                        if (!gaps) { printf "not shown in the doc: %s\n", got[g, j]; bad = 1 }
                        j++
                    }
                    if (j > ngot[g]) { printf "shown in the doc, not printed: %s\n", want[g, i]; bad = 1; break }
                    j++
                }
                for (; !gaps && j <= ngot[g]; j++) { printf "not shown in the doc: %s\n", got[g, j]; bad = 1 }
            }
            exit bad
        }' "$1" "$2"
}

# run_block N SETUP COMMANDS_FILE: run one block's commands, output of command K
# in $OUT/block.N.K.
run_block() {
    local n=$1 setup=$2 script="$OUT/block.$1.sh" k=0 cmd
    {
        echo 'cd "$BIN_DIR" || exit 1'
        echo 'wait_for_file() { local d=$((SECONDS + T)); until [[ -e $1 ]]; do ((SECONDS < d)) || return 1; sleep 0.02; done; }'
        echo 'wait_for_gone() { local d=$((SECONDS + T)); while [[ -e $1 || -L $1 ]]; do ((SECONDS < d)) || return 1; sleep 0.02; done; }'
        echo 'wait_for_line() { local d=$((SECONDS + T)); until grep -qE -- "$2" "$1" 2>/dev/null; do ((SECONDS < d)) || return 1; sleep 0.02; done; }'
        setup=${setup#any-number}
        echo "${setup#;}"
        while IFS= read -r cmd; do
            k=$((k + 1))
            printf '{ %s\n} >"$OUT_DIR/block.%s.%s" 2>&1 </dev/null\n' "$cmd" "$n" "$k"
        done <"$3"
        echo 'kill $(jobs -p) 2>/dev/null; wait'
    } >"$script"
    mkdir -p "$OUT/ipc.$n"
    # As from a terminal: fds 0-2 only (Bats keeps others open), then the block.
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-"
        done 2>/dev/null
        BIN_DIR="$BIN" OUT_DIR="$OUT" T="$T" IPC_DEMO_DIR="$OUT/ipc.$n" \
            exec timeout "$T" bash "$script"
    ) || true
}

# check_page PAGE: every marked block of PAGE (at least one) as it is shown.
check_page() {
    local page="$ROOT/$1" n=0 kind text setup="" failures=0 k
    [[ -f $page ]] || { echo "$1 does not exist"; return 1; }
    blocks "$page" >"$OUT/records"
    grep -q '^B' "$OUT/records" || { echo "$1 has no <!-- docs-test --> block"; return 1; }
    echo "END" >>"$OUT/records"
    while IFS= read -r line; do
        kind=${line%% *} text=${line#? }
        if [[ $kind == B || $kind == END ]]; then
            if ((n > 0)); then
                run_block "$n" "$setup" "$OUT/cmds.$n"
                if ! IPC_DEMO_DIR="$OUT/ipc.$n" check_leftovers 2>"$OUT/left"; then
                    echo "$1, block $n left something behind:"
                    sed 's/^/    /' "$OUT/left"
                    failures=$((failures + 1))
                fi
                for ((k = 1; k <= $(wc -l <"$OUT/cmds.$n"); k++)); do
                    normalize "$setup" "$OUT/ipc.$n" <"$OUT/want.$n.$k" >"$OUT/want.$n.$k.norm"
                    normalize "$setup" "$OUT/ipc.$n" <"$OUT/block.$n.$k" >"$OUT/got.$n.$k.norm" 2>/dev/null
                    if ! compare "$OUT/want.$n.$k.norm" "$OUT/got.$n.$k.norm" >"$OUT/diff"; then
                        echo "$1, block $n, \$ $(sed -n "${k}p" "$OUT/cmds.$n"):"
                        sed 's/^/    /' "$OUT/diff"
                        failures=$((failures + 1))
                    fi
                done
            fi
            [[ $kind == END ]] && break
            n=$((n + 1)) setup=$text k=0
            : >"$OUT/cmds.$n"
        elif [[ $kind == C ]]; then
            echo "$text" >>"$OUT/cmds.$n"
            k=$(wc -l <"$OUT/cmds.$n")
            : >"$OUT/want.$n.$k"
        else
            echo "$text" >>"$OUT/want.$n.$k"
        fi
    done <"$OUT/records"
    ((failures == 0))
}

# One test per page that shows what a program prints.

@test "docs: sem.md" { check_page docs/sem.md; }

@test "docs: fifo.md" { check_page docs/fifo.md; }

@test "docs: msgq.md" { check_page docs/msgq.md; }

@test "docs: pipe.md" { check_page docs/pipe.md; }
@test "docs: intro.md" { check_page docs/intro.md; }
@test "docs: procpool.md" { check_page docs/procpool.md; }

@test "docs: socket.md" {
    # socket_demo_listening PATH: wait until a socket listens at PATH (Linux
    # lists it in /proc/net/unix with the flag __SO_ACCEPTCON, 00010000).
    socket_demo_listening() {
        local d=$((SECONDS + T))
        until grep -q " 00010000 .* $1\$" /proc/net/unix; do
            ((SECONDS < d)) || return 1
            sleep 0.02
        done
    }
    # socket_demo_then PATH PROG CMD...: in the background, once a socket
    # listens at PATH, run CMD (its output dropped), then stop the block's PROG
    # (- for none) with SIGINT: a second terminal, then Ctrl-C.
    socket_demo_then() {
        local path=$1 prog=$2
        shift 2
        (
            socket_demo_listening "$path" || exit 1
            "$@" >/dev/null 2>&1
            [[ $prog == - ]] || kill -INT $(pgrep -P $$ -x "$prog")
        ) &
    }
    export -f socket_demo_listening socket_demo_then
    check_page docs/socket.md
}

@test "docs: shm.md" { check_page docs/shm.md; }
