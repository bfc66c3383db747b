#!/usr/bin/env bats
# pipe/: the anonymous-pipe lessons.

load helpers

# ---- pipe/demo ----

@test "pipe/demo: the child's messages arrive in order, then EOF, then the reap" {
    run_t "$BIN/pipe/demo"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    mapfile -t got < <(grep -E '^\[parent [0-9]+\] received: ' <<<"$output" | strip_pids)
    [ "${#got[@]}" -eq 5 ]
    for i in 1 2 3 4 5; do
        [ "${got[i-1]}" = "[parent] received: message $i of 5" ]
    done
    # The parent's EOF comes after the last message, the reap after EOF, and
    # names the child; the child said it was done before it was reaped.
    child=$(grep -oE '^\[child [0-9]+\]' <<<"$output" | head -1 | tr -dc 0-9)
    [ -n "$child" ]
    grep -E '^\[parent ' <<<"$output" | tail -n 2 | strip_pids >"$OUT/tail"
    diff - "$OUT/tail" <<EXPECTED
[parent] read() returned 0: end of file, every write end is closed
[parent] child $child exited with status 0
EXPECTED
    done_at=$(grep -nE '^\[child [0-9]+\] done: closed the write end; exiting$' <<<"$output" | cut -d: -f1)
    reaped_at=$(grep -nE '^\[parent [0-9]+\] child [0-9]+ exited' <<<"$output" | cut -d: -f1)
    [ -n "$done_at" ] && [ -n "$reaped_at" ] && ((done_at < reaped_at))
}

@test "pipe/demo -n 0: no message, still EOF and the reap" {
    run_t "$BIN/pipe/demo" -n 0
    [ "$status" -eq 0 ]
    [ "$(grep -c 'received:' <<<"$output")" -eq 0 ]
    has '^\[parent [0-9]+\] read\(\) returned 0: end of file' <<<"$output"
    has '^\[parent [0-9]+\] child [0-9]+ exited with status 0$' <<<"$output"
}

@test "pipe/demo -n 500: every message once, in order, however read() splits them" {
    timeout "$T" "$BIN/pipe/demo" -n 500 >"$OUT/out"
    grep -E '^\[parent [0-9]+\] received: ' "$OUT/out" | sed 's/.*received: //' >"$OUT/got"
    seq 500 | awk '{ print "message " $1 " of 500" }' >"$OUT/want"
    diff "$OUT/want" "$OUT/got"
}

@test "pipe/demo: no line is duplicated through a pipe or on a terminal" {
    command -v script >/dev/null || skip "script(1) is not installed (apt-get install bsdutils)"
    timeout "$T" "$BIN/pipe/demo" | cat >"$OUT/piped"
    timeout "$T" script -qec "$BIN/pipe/demo" /dev/null </dev/null | tr -d '\r' >"$OUT/tty"
    # Parent and child interleave freely, and pids differ: compare the multiset
    # of lines with every number masked.
    sed -E 's/[0-9]+/N/g' "$OUT/piped" | sort >"$OUT/a"
    sed -E 's/[0-9]+/N/g' "$OUT/tty" | sort >"$OUT/b"
    diff "$OUT/a" "$OUT/b"
    [ "$(wc -l <"$OUT/a")" -eq 17 ]
    [ -z "$(sort "$OUT/piped" | uniq -d)" ]
}

@test "pipe/demo -f: each side closes the end it does not use" {
    run_t "$BIN/pipe/demo" -f -n 1
    [ "$status" -eq 0 ]
    read -r r w < <(sed -nE 's/.*pipe\(\) gave fd ([0-9]+) \(read end\) and fd ([0-9]+) .*/\1 \2/p' <<<"$output")
    [ -n "$r" ] && [ -n "$w" ]
    # After fork() both processes hold both ends of the same pipe ...
    for role in parent child; do
        for fd in "$r" "$w"; do
            has "^\[$role [0-9]+\] after fork\(\): fd $fd -> pipe:\[[0-9]+\]$" <<<"$output"
        done
    done
    # ... after close() the child keeps only the write end, the parent only the read end.
    has "^\[child [0-9]+\] after close\(\): fd $w -> pipe:" <<<"$output"
    [ "$(grep -cE "^\[child [0-9]+\] after close\(\): fd $r " <<<"$output")" -eq 0 ]
    has "^\[parent [0-9]+\] after close\(\): fd $r -> pipe:" <<<"$output"
    [ "$(grep -cE "^\[parent [0-9]+\] after close\(\): fd $w " <<<"$output")" -eq 0 ]
}

@test "pipe/demo -v: every system call traced on stderr, stdout unchanged" {
    run_t "$BIN/pipe/demo" -v -n 2
    [ "$status" -eq 0 ]
    has '^\[parent [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr"
    has '^\[parent [0-9]+\] fork\(\) = [0-9]+$' <<<"$stderr"
    has '^\[child [0-9]+\] close\([0-9]+\) = 0$' <<<"$stderr"
    [ "$(grep -cE '^\[child [0-9]+\] write\([0-9]+, 15\) = 15$' <<<"$stderr")" -eq 2 ]
    has '^\[parent [0-9]+\] read\([0-9]+, [0-9]+\) = 0$' <<<"$stderr"
    has '^\[parent [0-9]+\] waitpid\([0-9]+\) = [0-9]+$' <<<"$stderr"
    [ "$(grep -cE '\) = ' <<<"$output")" -eq 0 ]
}

@test "pipe/demo -d: paces the steps" {
    start=$(date +%s%N)
    run_t "$BIN/pipe/demo" -d 100 -n 3
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 300 ]
}

@test "pipe/demo: a parent that is gone is reported by the child, not a silent death" {
    # 1000 messages, one every 100 ms: the child is still writing, whatever the
    # load, when the parent is killed; its next write() fails with EPIPE.
    start_bg demo "$BIN/pipe/demo" -d 100 -n 1000
    wait_for_line "$OUT/demo.out" '^\[child [0-9]+\] closed fd'
    parent=$(sed -nE 's/^\[parent ([0-9]+)\] forked child .*/\1/p' "$OUT/demo.out")
    [ -n "$parent" ]
    kill -KILL "$parent"
    wait_bg demo
    wait_for_line "$OUT/demo.err" '^pipe/demo: write to the pipe \(is the parent gone\?\): Broken pipe$'
}

# ---- pipe/cases ----

# in_wchan PID REGEX: PID sleeps in a kernel function matching REGEX
# ("anon_pipe_read", "pipe_write"...).
in_wchan() {
    [[ $(cat "/proc/$1/wchan" 2>/dev/null) =~ $2 ]]
}

# can_see_wchan: the kernel shows where a sleeping process waits (Bats, our
# parent, is asleep waiting for this test).
can_see_wchan() {
    local w
    w=$(cat "/proc/$PPID/wchan" 2>/dev/null)
    [[ -n $w && $w != 0 ]]
}

@test "pipe/cases empty: the reader's read() blocks until the writer writes" {
    start=$(date +%s%N)
    run_t "$BIN/pipe/cases" -d 150 empty
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    # The pipe was empty when the reader came (the writer waits for its word) ...
    has '^\[reader [0-9]+\] the pipe is empty: a non-blocking read\(\) fails with EAGAIN$' <<<"$output"
    # ... the blocking read() got the writer's 32-byte note, and says how long it waited ...
    has '^\[reader [0-9]+\] read\(\) returned 32 bytes after blocking [0-9]+\.[0-9] ms: "hello"$' <<<"$output"
    has '^\[writer [0-9]+\] wrote a 32-byte note' <<<"$output"
    has '^\[reader [0-9]+\] writer [0-9]+ exited with status 0$' <<<"$output"
    has '^\[reader [0-9]+\] empty: as the lesson says: ' <<<"$output"
    # ... and the writer's pacing is a floor for the whole run.
    [ "$elapsed_ms" -ge 150 ]
}

@test "pipe/cases empty: seen from /proc, the reader sleeps in the pipe's read while the writer waits" {
    can_see_wchan || skip "this kernel does not show /proc/PID/wchan"
    # The writer waits a minute before it writes: nothing ends the reader's
    # wait but the test, which looks, then stops both.
    start_bg cases "$BIN/pipe/cases" -d 60000 empty
    wait_for_line "$OUT/cases.out" '^\[writer [0-9]+\] the reader is waiting'
    wait_for_line "$OUT/cases.out" '^\[reader [0-9]+\] calling read\(\) on the empty pipe'
    reader=$(first_pid reader "$OUT/cases.out") writer=$(first_pid writer "$OUT/cases.out")
    wait_until "the reader asleep in the pipe's read" in_wchan "$reader" 'pipe_read|pipe_wait'
    ! grep -q 'wrote a' "$OUT/cases.out"
    kill -TERM "$writer" "$reader"
    wait_bg cases
}

@test "pipe/cases full: capacity by non-blocking writes until EAGAIN, then a blocking write waits" {
    run_t "$BIN/pipe/cases" -d 100 full
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    capacity=$(sed -nE 's/^\[writer [0-9]+\] pipe capacity: ([0-9]+) bytes \([0-9]+ non-blocking writes of 4096 bytes and [0-9]+ of 1 byte, then EAGAIN\)$/\1/p' <<<"$output")
    [ -n "$capacity" ]
    page=$(getconf PAGESIZE)
    [ "$capacity" -ge "$page" ]
    [ $((capacity % page)) -eq 0 ]
    has "^\[writer [0-9]+\] F_GETPIPE_SZ \(Linux-only\) says $capacity bytes: the same$" <<<"$output"
    has '^\[writer [0-9]+\] write\(\) returned 4096 after blocking [0-9]+\.[0-9] ms: the reader made room$' <<<"$output"
    # The reader got every byte, the 4096 of the blocked write included, all correct.
    has "^\[reader [0-9]+\] drained $((capacity + 4096)) bytes in [0-9.]+ ms \(0 wrong\), then read\(\) returned 0$" <<<"$output"
    has '^\[writer [0-9]+\] reader [0-9]+ exited with status 0$' <<<"$output"
    has '^\[writer [0-9]+\] full: as the lesson says: ' <<<"$output"
}

@test "pipe/cases full: seen from /proc, the writer sleeps in the pipe's write until the reader drains" {
    can_see_wchan || skip "this kernel does not show /proc/PID/wchan"
    # The reader waits a minute before it drains: nothing ends the writer's
    # wait but the test, which looks, then stops both.
    start_bg cases "$BIN/pipe/cases" -d 60000 full
    wait_for_line "$OUT/cases.out" '^\[reader [0-9]+\] I will start draining'
    wait_for_line "$OUT/cases.out" '^\[writer [0-9]+\] the pipe is full: a blocking write\(\) of 4096 more bytes waits'
    reader=$(first_pid reader "$OUT/cases.out") writer=$(first_pid writer "$OUT/cases.out")
    wait_until "the writer asleep in the pipe's write" in_wchan "$writer" 'pipe_write|pipe_wait'
    ! grep -q 'write() returned' "$OUT/cases.out"
    kill -TERM "$reader" "$writer"
    wait_bg cases
}

# expected_pipe_size BYTES: what F_SETPIPE_SZ makes of BYTES (pipe(7)): rounded up
# to a power-of-two number of pages.
expected_pipe_size() {
    local page pages=1
    page=$(getconf PAGESIZE)
    while ((pages * page < $1)); do pages=$((pages * 2)); done
    echo $((pages * page))
}

@test "pipe/cases -s: F_SETPIPE_SZ resizes the pipe, rounded up to a power-of-two number of pages" {
    for ask in 1 16384 100000 $(( $(cat /proc/sys/fs/pipe-max-size) )); do
        want=$(expected_pipe_size "$ask")
        run_t "$BIN/pipe/cases" -d 0 -s "$ask" full
        [ "$status" -eq 0 ]
        has "^\[writer [0-9]+\] asked for $ask bytes with F_SETPIPE_SZ \(Linux-only\): the kernel made it $want$" <<<"$output"
        has "^\[writer [0-9]+\] pipe capacity: $want bytes " <<<"$output"
        has "^\[reader [0-9]+\] drained $((want + 4096)) bytes .*\(0 wrong\)" <<<"$output"
    done
}

@test "pipe/cases -s above pipe-max-size: done with CAP_SYS_RESOURCE, refused with EPERM without" {
    max=$(cat /proc/sys/fs/pipe-max-size)
    ask=$((max * 2))
    ((ask <= 16777216)) || skip "pipe-max-size is $max: twice that is beyond -s"
    # CAP_SYS_RESOURCE is capability 24.
    capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
    run_t "$BIN/pipe/cases" -d 0 -s "$ask" full
    if (( (0x$capeff >> 24) & 1 )); then
        [ "$status" -eq 0 ]
        has "^\[writer [0-9]+\] pipe capacity: $(expected_pipe_size "$ask") bytes " <<<"$output"
    else
        [ "$status" -eq 1 ]
        [[ $stderr == "pipe/cases: F_SETPIPE_SZ $ask: above /proc/sys/fs/pipe-max-size, only a process with CAP_SYS_RESOURCE may: Operation not permitted" ]]
        has '^\[writer [0-9]+\] full: could not resize the pipe' <<<"$output"
    fi
}

@test "pipe/cases eof: the reader drains the data, EAGAIN while it holds a write end, then 0" {
    run_t "$BIN/pipe/cases" eof
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    strip_pids <<<"$output" >"$OUT/got"
    # The writer is reaped first: what it wrote outlives it in the pipe.
    grep -n '' "$OUT/got" >"$OUT/numbered"
    line_of() { grep -F -- "$1" "$OUT/numbered" | head -1 | cut -d: -f1; }
    reaped=$(line_of '[reader] writer ')
    eagain=$(line_of '[reader] drained: now read() fails with EAGAIN, not 0')
    closed=$(line_of '[reader] closed my copy of the write end')
    eof=$(line_of '[reader] read() returned 0 at once: end of file')
    [ -n "$reaped" ] && [ -n "$eagain" ] && [ -n "$closed" ] && [ -n "$eof" ]
    ((reaped < eagain && eagain < closed && closed < eof))
    has '^\[reader\] writer [0-9]+ exited with status 0$' "$OUT/got"
    # Every byte of the three lines came back, however read() split them.
    sed -nE 's/^\[reader\] read\(\) returned [0-9]+ bytes: "(.*)"$/\1/p' "$OUT/got" | tr -d '\n' >"$OUT/bytes"
    [ "$(cat "$OUT/bytes")" = 'one\x0atwo\x0athree\x0a' ]
    has -xF '[reader] received 14 bytes, exactly what the writer wrote' "$OUT/got"
    has -F '[reader] eof: as the lesson says: ' "$OUT/got"
}

@test "pipe/cases sigpipe: the writer is killed by SIGPIPE, then with SIGPIPE ignored gets EPIPE" {
    run_t "$BIN/pipe/cases" sigpipe
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    mapfile -t writers < <(grep -oE '^\[writer [0-9]+\]' <<<"$output" | tr -dc '0-9\n' | uniq)
    [ "${#writers[@]}" -eq 2 ]
    # The first writer wrote once the reader had closed, and died of it.
    has "^\[writer ${writers[0]}\] SIGPIPE is at its default action: terminate$" <<<"$output"
    has "^\[reader [0-9]+\] writer ${writers[0]} was killed by signal 13 \(SIGPIPE\)$" <<<"$output"
    [ "$(grep -cE "^\[writer ${writers[0]}\] write\(\)" <<<"$output")" -eq 0 ]
    # The second, SIGPIPE ignored, saw write() fail with EPIPE and exited normally.
    has "^\[writer ${writers[1]}\] SIGPIPE is ignored$" <<<"$output"
    has "^\[writer ${writers[1]}\] write\(\) failed with EPIPE \(Broken pipe\)" <<<"$output"
    has "^\[reader [0-9]+\] writer ${writers[1]} exited with status 0$" <<<"$output"
    has '^\[reader [0-9]+\] sigpipe: as the lesson says: ' <<<"$output"
}

@test "pipe/cases sigpipe: SIGPIPE ignored by whoever started it does not change the lesson" {
    # SIG_IGN is inherited across fork() and exec(): the writer must reset it.
    run --separate-stderr timeout "$T" bash -c 'trap "" PIPE; exec "$@"' _ "$BIN/pipe/cases" sigpipe
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] writer [0-9]+ was killed by signal 13 \(SIGPIPE\)$' <<<"$output"
}

@test "pipe/cases all: the four cases in order, each as the lesson says" {
    run_t "$BIN/pipe/cases" -d 20 all
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    sed -nE 's/^\[[a-z]+ [0-9]+\] (empty|full|eof|sigpipe): as the lesson says: .*/\1/p' <<<"$output" >"$OUT/order"
    printf '%s\n' empty full eof sigpipe | diff - "$OUT/order"
    [ "$(tail -n 1 <<<"$output" | strip_pids)" = "[parent] 4 of 4 cases behaved as the lesson says" ]
}

@test "pipe/cases -v: system calls on stderr, stdout unchanged" {
    run_t "$BIN/pipe/cases" -v eof
    [ "$status" -eq 0 ]
    has '^\[reader [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr"
    has '^\[writer [0-9]+\] write\([0-9]+, 4\) = 4$' <<<"$stderr"
    has '^\[reader [0-9]+\] fcntl\([0-9]+, F_SETFL, O_NONBLOCK\) = 0$' <<<"$stderr"
    has '^\[reader [0-9]+\] read\([0-9]+, [0-9]+\) = -1 EAGAIN$' <<<"$stderr"
    has '^\[reader [0-9]+\] read\([0-9]+, [0-9]+\) = 0$' <<<"$stderr"
    [ "$(grep -cE '\) = ' <<<"$output")" -eq 0 ]
}

@test "pipe/cases: a missing or unknown case is a usage error" {
    run_t "$BIN/pipe/cases"
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == "pipe/cases: which case? empty, full, eof, sigpipe or all"* ]]
    run_t "$BIN/pipe/cases" -d 0 nosuch
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == "pipe/cases: unknown case 'nosuch' (empty, full, eof, sigpipe or all)"$'\n'"usage: pipe/cases "* ]]
}

# ---- pipe/atomic ----

@test "pipe/atomic: PIPE_BUF, the record count and torn: 0 with the defaults" {
    run_t "$BIN/pipe/atomic"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    pipe_buf=$(getconf PIPE_BUF /)
    has -x "\[reader [0-9]+\] PIPE_BUF is $pipe_buf bytes" <<<"$output"
    # Defaults: 4 writers x 1000 records of PIPE_BUF bytes.
    [ "$(grep -cE '^\[writer[0-3] [0-9]+\] wrote 1000 records of '"$pipe_buf"' bytes$' <<<"$output")" -eq 4 ]
    has -x "\[reader [0-9]+\] records: 4000 expected, 4000 read \($((4000 * pipe_buf)) bytes\), 4000 whole" <<<"$output"
    has -x '\[reader [0-9]+\] torn: 0' <<<"$output"
    has -x '\[reader [0-9]+\] 4 of 4 writers exited with status 0' <<<"$output"
}

@test "pipe/atomic: 8 writers, records of 100 bytes: none torn (tests/stress repeats it)" {
    run_t "$BIN/pipe/atomic" -w 8 -s 100 -n 300
    [ "$status" -eq 0 ]
    has -x '\[reader [0-9]+\] torn: 0' <<<"$output"
    has "records: 2400 expected, 2400 read \(240000 bytes\), 2400 whole$" <<<"$output"
}

@test "pipe/atomic: above PIPE_BUF every byte still arrives; tearing is reported and explained" {
    pipe_buf=$(getconf PIPE_BUF /)
    size=$((pipe_buf + 1))
    run_t "$BIN/pipe/atomic" -w 8 -s "$size" -n 300
    [ "$status" -eq 0 ]
    has "records: 2400 expected, 2400 read \($((2400 * size)) bytes\), [0-9]+ whole$" <<<"$output"
    torn=$(sed -nE 's/^\[reader [0-9]+\] torn: ([0-9]+)$/\1/p' <<<"$output")
    [ -n "$torn" ]
    if ((torn > 0)); then
        has "^\[reader [0-9]+\] $torn reads of $size bytes held pieces of more than one record: a write\(\) larger than PIPE_BUF may be copied in pieces" <<<"$output"
    else
        has '^\[reader [0-9]+\] no record was torn this time, but above PIPE_BUF nothing guarantees it' <<<"$output"
    fi
    echo "# records of $size bytes, 8 writers: torn $torn of 2400 (reported, not asserted)" >&3
}

@test "pipe/atomic: too much data in all is a usage error" {
    run_t "$BIN/pipe/atomic" -w 64 -n 100000 -s 1048576
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ $stderr == "pipe/atomic: 64 writers x 100000 records x 1048576 bytes is more than 268435456 bytes"$'\n'"usage: pipe/atomic "* ]]
    run_t "$BIN/pipe/atomic" -s 15
    [ "$status" -eq 2 ]
    [[ $stderr == "pipe/atomic: -s: '15' is out of range (16 to 1048576)"* ]]
}

# ---- pipe/pipeline ----

@test "pipe/pipeline 'seq 100000' 'wc -l' prints 100000 and ends" {
    run_t "$BIN/pipe/pipeline" 'seq 100000' 'wc -l'
    [ "$status" -eq 0 ]
    [ "$output" = 100000 ]
    [ -z "$stderr" ]
}

@test "pipe/pipeline: three commands give what the shell gives" {
    want=$(seq 100000 | grep 7 | sort -r | head -n 3)
    run_t "$BIN/pipe/pipeline" 'seq 100000' 'grep 7' 'sort -r' 'head -n 3'
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
}

@test "pipe/pipeline: the exit status is the last command's, as in the shell" {
    printf '#!/bin/sh\nexit 3\n' >"$OUT/three"
    chmod +x "$OUT/three"
    for pair in "true false" "false true" "true $OUT/three" "$OUT/three true"; do
        read -r first last <<<"$pair"
        bash -c "$first | $last" && want=0 || want=$?
        run_t "$BIN/pipe/pipeline" "$first" "$last"
        [ "$status" -eq "$want" ] || { echo "$pair: $status, the shell says $want"; return 1; }
    done
}

@test "pipe/pipeline: a command that does not exist gives 127, like the shell" {
    run -127 --separate-stderr timeout "$T" "$BIN/pipe/pipeline" 'seq 3' 'no-such-command-xyz'
    [ -z "$output" ]
    [ "$stderr" = "pipe/pipeline: no-such-command-xyz: No such file or directory" ]
    # Not the last: the pipeline goes on and the last command's status counts.
    run_t "$BIN/pipe/pipeline" 'no-such-command-xyz -a' 'wc -l'
    [ "$status" -eq 0 ]
    [ "$output" = 0 ]
    [ "$stderr" = "pipe/pipeline: no-such-command-xyz: No such file or directory" ]
}

@test "pipe/pipeline: a command that cannot be executed gives 126, like the shell" {
    printf '#!/bin/sh\necho never\n' >"$OUT/not-executable"
    chmod 644 "$OUT/not-executable"
    run_t "$BIN/pipe/pipeline" 'seq 3' "$OUT/not-executable"
    [ "$status" -eq 126 ]
    [ "$stderr" = "pipe/pipeline: $OUT/not-executable: Permission denied" ]
}

@test "pipe/pipeline: the last command killed by a signal gives 128 + the signal, like the shell" {
    printf '#!/bin/sh\nkill -KILL $$\n' >"$OUT/killed"
    chmod +x "$OUT/killed"
    bash -c "seq 3 | $OUT/killed" && want=0 || want=$?
    [ "$want" -eq 137 ]
    run_t "$BIN/pipe/pipeline" -v 'seq 3' "$OUT/killed"
    [ "$status" -eq 137 ]
    has "^\[pipeline [0-9]+\] cmd2 \($OUT/killed, pid [0-9]+\) was killed by signal 9 \(SIGKILL\)$" <<<"$stderr"
}

@test "pipe/pipeline -v: the plan, and each command's status, on stderr" {
    run_t "$BIN/pipe/pipeline" -v 'seq 10' 'grep 1' 'wc -l'
    [ "$status" -eq 0 ]
    [ "$output" = 2 ]
    has -x '\[pipeline [0-9]+\] plan: 3 processes, 2 pipes: seq 10 \| grep 1 \| wc -l' <<<"$stderr"
    [ "$(grep -cE '^\[pipeline [0-9]+\] pipe\(\[[0-9]+, [0-9]+\]\) = 0$' <<<"$stderr")" -eq 2 ]
    for i in 1 2 3; do
        has "^\[pipeline [0-9]+\] cmd$i \([a-z]+, pid [0-9]+\) exited with status 0$" <<<"$stderr"
    done
}

@test "pipe/pipeline: yes | head -n 1 ends; yes dies of SIGPIPE, the status is head's" {
    run --separate-stderr timeout "$T" bash -c 'trap "" PIPE; exec "$@"' _ "$BIN/pipe/pipeline" -v yes 'head -n 1'
    [ "$status" -eq 0 ]
    [ "$output" = y ]
    has '^\[pipeline [0-9]+\] cmd1 \(yes, pid [0-9]+\) was killed by signal 13 \(SIGPIPE\)$' <<<"$stderr"
}

# fds_of_ls OUTPUT: the fds an `ls -ln /proc/self/fd` listed, but for the one ls
# opened on the directory itself.
fds_of_ls() {
    awk '$NF ~ /^\/proc\/[0-9]+\/fd$/ { next } $(NF-1) == "->" { print $(NF-2) }' <<<"$1" | sort -n | tr '\n' ' '
}

@test "pipe/pipeline: no pipe fd leaks into a command: each holds only 0, 1 and 2" {
    # Started with nothing but 0-2 open, as from a terminal, so any other fd is ours.
    only_std() {
        run --separate-stderr timeout "$T" bash -c \
            'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done; exec "$@"' \
            _ "$BIN/pipe/pipeline" "$@"
        [ "$status" -eq 0 ]
    }
    only_std 'ls -ln /proc/self/fd' 'cat'                        # the first
    [ "$(fds_of_ls "$output")" = "0 1 2 " ]
    has ' 1 -> pipe:\[[0-9]+\]$' <<<"$output"
    only_std 'seq 3' 'ls -ln /proc/self/fd' 'cat' 'cat'           # one in the middle
    [ "$(fds_of_ls "$output")" = "0 1 2 " ]
    has ' 0 -> pipe:\[[0-9]+\]$' <<<"$output"
    has ' 1 -> pipe:\[[0-9]+\]$' <<<"$output"
    only_std 'seq 3' 'cat' 'ls -ln /proc/self/fd'                 # the last
    [ "$(fds_of_ls "$output")" = "0 1 2 " ]
    has ' 0 -> pipe:\[[0-9]+\]$' <<<"$output"
}

# children_of PID: "pid state" for each child of PID.
children_of() {
    local parent=$1 stat pid rest
    for stat in /proc/[0-9]*/stat; do
        { read -r pid rest <"$stat"; } 2>/dev/null || continue
        rest=${rest##*) }                    # skip "(comm) "
        set -- $rest
        [[ $2 == "$parent" ]] || continue
        echo "$pid $1"
    done
}

# wait_for_children PID REGEX: poll until the children of PID, one "pid state"
# line each, match REGEX as a whole; leaves them in $kids.
wait_for_children() {
    local deadline=$((SECONDS + T)) pause=0
    until kids=$(children_of "$1"); [[ $kids =~ ^$2$ ]]; do
        if ((SECONDS >= deadline)); then
            echo "children of $1: '$kids'" >&2
            return 1
        fi
        backoff pause
    done
}

@test "pipe/pipeline: a command that ends first is reaped at once, not left a zombie" {
    # The last command ends at once, the first runs on: a pipeline that waited
    # for its children in order would leave 'true' a zombie behind 'sleep'.
    start_bg pl "$BIN/pipe/pipeline" 'sleep 60' 'true'
    pipeline=$(bg_child pl)
    wait_for_children "$pipeline" '[0-9]+ S'
    sleeper=${kids%% *}
    [ "$(cat "/proc/$sleeper/comm")" = sleep ]
    kill -TERM "$sleeper"
    wait_bg pl
    [ "$status" -eq 0 ]                  # true's status, not sleep's
}

@test "pipe/pipeline: SIGTERM to the pipeline is passed on to every command, none is left running" {
    start_bg pl "$BIN/pipe/pipeline" 'sleep 60' 'sleep 61'
    pipeline=$(bg_child pl)
    wait_for_children "$pipeline" '[0-9]+ S'$'\n''[0-9]+ S'
    kill -TERM "$pipeline"
    wait_bg pl
    [ "$status" -eq 143 ]                # the last command, killed by SIGTERM
    for pid in $(cut -d' ' -f1 <<<"$kids"); do
        wait_for_gone "/proc/$pid"
    done
}

@test "pipe/pipeline: closed stdin is not handed out as a pipe fd" {
    run --separate-stderr timeout "$T" "$BIN/pipe/pipeline" 'echo hello' 'cat' <&-
    [ "$status" -eq 0 ]
    [ "$output" = hello ]
}

@test "pipe/pipeline: fewer than two commands, or an empty one, is a usage error" {
    for args in "'seq 3'" "'seq 3' ''" "'' 'seq 3'" "'seq 3' '  '"; do
        eval "set -- $args"
        run_t "$BIN/pipe/pipeline" "$@"
        [ "$status" -eq 2 ] || { echo "$args: status $status"; return 1; }
        [ -z "$output" ]
        [[ $stderr == pipe/pipeline:\ *$'\n'"usage: pipe/pipeline "* ]]
    done
    run_t "$BIN/pipe/pipeline" 'seq 3' ' '
    [[ $stderr == "pipe/pipeline: command 2 is empty"* ]]
}
