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
# in the background: wait_for_file PATH, wait_for_gone PATH, wait_for_open NAME
# (the block's process NAME blocked in a FIFO's open()) and
# wait_for_line FILE REGEX are there to wait for it (never a bare sleep).  What
# SETUP started is killed when the block ends, and the block must leave no FIFO
# and no System V object behind.

load ../helpers

# docs_check PAGE: tests/docs-check, in this test's directories.
docs_check() {
    BATS_TEST_TMPDIR="$BATS_TEST_TMPDIR" OUT="$OUT" T="$T" IPC_DEMOS_BIN="$BIN" \
        "$ROOT/tests/docs-check" "$1"
}

# One test per page that shows what a program prints.

@test "docs: sem.md" { docs_check docs/sem.md; }

@test "docs: fifo.md" { docs_check docs/fifo.md; }

@test "docs: msgq.md" { docs_check docs/msgq.md; }

@test "docs: pipe.md" { docs_check docs/pipe.md; }
@test "docs: intro.md" { docs_check docs/intro.md; }
@test "docs: procpool.md" { docs_check docs/procpool.md; }

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
    docs_check docs/socket.md
}

@test "docs: posix.md" { docs_check docs/posix.md; }
@test "docs: posix-shm.md" { docs_check docs/posix-shm.md; }
@test "docs: shm.md" { docs_check docs/shm.md; }
