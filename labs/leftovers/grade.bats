#!/usr/bin/env bats
# labs/leftovers: the board's segment is there (found by its key) while the
# program runs, and gone after every exit it can catch: end of input, a bad
# line, SIGINT (Ctrl-C), SIGTERM, SIGHUP.
# make grade LAB=leftovers [FILE=path]

load ../lib

# segment_left WHEN: fail if the program left a segment (what labs/isolate saw
# in its IPC namespace when it ended).
segment_left() {
    [[ ! -s $OUT/left ]] ||
        fail "$1, the program left its segment behind (ipcs -m would show it): $(awk '{ printf "%s key 0x%08x id %s; ", $1, $2, $3 }' "$OUT/left")"
}

# stopped_by SIGNAL: while the program waits for input, with its segment there
# to be found by its key, SIGNAL comes: it must end, and remove the segment.
stopped_by() {
    local sig=SIG$1 main seg key
    hold_stdin
    start_prog <"$OUT/in"
    printf '5\n' >&7
    wait_until "the program to store 5 and wait for more" waits_for_input ||
        fail "the program did not store 5 ('count 1, sum 5') and wait for more input within ${T}s"
    main=$(main_pid)
    seg=$(ns_segments "$main")
    [[ -n $seg ]] || fail "while the program runs, no segment is there: it must exist until the program ends"
    read -r key _ <<<"$seg"
    ((key != 0)) ||
        fail "while the program runs, its segment has no key any more (removed too early, IPC_RMID before the end): other programs cannot find it with shmget(key)"
    kill -s "$sig" "$main"
    watch_prog
    ((STUCK == 0)) || fail "$sig did not stop the program: it still waits for input"
    ((status != 124)) || fail "the program did not end within ${T}s of $sig"
    if ((status == 128 + $(kill -l "$1"))); then
        [[ ! -s $OUT/left ]] ||
            fail "$sig killed the program (its default action) and the segment stayed: catch $sig, remove the segment, then exit"
    fi
    segment_left "after $sig"
}

waits_for_input() {
    local main
    grep -qE 'count 1, sum 5$' "$OUT/out" && main=$(main_pid) && asleep_in "$main" 'pipe|select|poll'
}

@test "leftovers: Ctrl-C (SIGINT) while it waits for input: it ends, and the segment is gone" {
    stopped_by INT
}

@test "leftovers: SIGTERM (kill PID), SIGHUP (the terminal closed): it ends, and the segment is gone" {
    stopped_by TERM
    stop_prog
    release_stdin
    rm "$OUT/in"
    stopped_by HUP
}

@test "leftovers: end of input, or a bad line: the segment removed, status 0 or 1" {
    printf '1\n2\n3\n' >"$OUT/input"
    start_prog <"$OUT/input"
    watch_prog
    ((status != 124 && STUCK == 0)) || fail "the program did not end at the end of its input"
    ((status == 0)) || fail "at the end of its input the program exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    grep -qE 'count 3, sum 6$' "$OUT/out" || fail "no 'count 3, sum 6' after 1, 2, 3 (keep the starter's 'stored' lines)"
    segment_left "at the end of its input"
    bad_line
}

# bad_line: a line that is not a number: exit status 1 with a message, the
# segment removed.
bad_line() {
    printf '1\nbanana\n3\n' >"$OUT/input"
    start_prog <"$OUT/input"
    watch_prog
    ((status != 124 && STUCK == 0)) || fail "the program did not end after a bad line"
    ((status == 1)) || fail "after a bad line the program exited with status $status (expected 1)"
    [[ -s $OUT/err ]] || fail "after a bad line the program exited 1 without a word on stderr"
    segment_left "after a bad line (an error exit)"
}
