#!/usr/bin/env bats
# labs/sigpipe: all lines to a reader that reads them all; when the reader
# quits early, the writer says so (EPIPE, "Broken pipe") and exits 1 instead
# of dying silently of SIGPIPE.
# make grade LAB=sigpipe [FILE=path]

load ../lib

LINES=2000
# More than a pipe holds (64 KiB): the writer is still writing when head quits.
MANY=100000

@test "sigpipe: a reader that reads everything gets all 2000 lines; exit status 0" {
    start_prog "$LINES" </dev/null
    watch_prog
    ((status != 124)) || fail "the writer did not end within ${T}s"
    ((status == 0)) || fail "the writer exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    local wrong
    wrong=$(numbers_in_order "$OUT/out" '^line [0-9]+$' 1 "$LINES") ||
        fail "the lines on stdout are not 'line 1' to 'line $LINES', each once, in order: line $wrong"
}

@test "sigpipe: the reader quits after 3 lines: the writer reports it (EPIPE) and exits 1" {
    # A signal the grader's own shell ignores would be ignored by the writer
    # too: give SIGPIPE its default action back, as a terminal's shell has it.
    local dflt=(env --default-signal=PIPE)
    "${dflt[@]}" true 2>/dev/null || dflt=()
    : >"$OUT/left"
    timeout -k 1 "$T" "$LABS/isolate" "$OUT/left" "${dflt[@]}" "$PROG" "$MANY" </dev/null \
        2>"$OUT/err" 3>&- | head -n 3 >"$OUT/out"
    status=${PIPESTATUS[0]}
    ((status != 124)) || fail "the writer did not end within ${T}s of its reader quitting"
    ((status != 128 + 13)) ||
        fail "the writer was killed by SIGPIPE (status 141) when its reader quit: it died without a word. Make write() fail with EPIPE instead (ignore SIGPIPE), check it, and say what happened"
    ((status < 128)) || fail "the writer was killed by signal $((status - 128))"
    ((status != 0)) ||
        fail "the writer exited 0 although its reader quit after 3 lines: its write()s failed (EPIPE) and it said nothing - check what write() returns"
    ((status == 1)) || fail "the writer exited with status $status: a runtime failure is status 1"
    grep -qE 'Broken pipe|EPIPE' "$OUT/err" ||
        fail "the writer exited 1 but its stderr does not say why ('Broken pipe', what strerror(EPIPE) says): '$(head -c 200 "$OUT/err")'"
}
