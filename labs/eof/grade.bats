#!/usr/bin/env bats
# labs/eof: the parent reads until end of file, for any number of lines.
# make grade LAB=eof [FILE=path]

load ../lib

# run_lines N: run the program with N lines; it must end, and end well.
run_lines() {
    local n=$1 main fd inode p wfd who
    start_prog "$n" </dev/null
    wait_until "the program to start" main_pid >/dev/null 2>&1 || true
    watch_prog
    if ((STUCK)); then
        main=$(main_pid)
        echo "the parent (pid $main) is asleep in $(wchan_of "$main"), the child has exited" >&2
        if fd=$(blocked_fd "$main") && inode=$(pipe_of "$main" "$fd"); then
            while read -r p wfd; do
                [[ -n $p ]] || continue
                [[ $p == "$main" ]] && who="the parent itself" || who="process $p"
                echo "  /proc/$p/fd/$wfd -> pipe:[$inode], open for writing: $who" >&2
            done < <(write_ends "$inode")
        fi
        fail "read() never returned 0: the child has exited, yet some process still holds a write end of the pipe - which one? (the lines above, from /proc, show it)"
    fi
    ((status != 124)) || fail "the program did not end within ${T}s"
    ((status == 0)) || fail "the program exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    local wrong
    wrong=$(numbers_in_order "$OUT/out" 'line [0-9]+ from the child$' 1 "$n") ||
        fail "with $n lines sent, the parent did not print each once, in order: line $wrong"
    grep -qE "read\(\) returned 0: end of file after $n lines$" "$OUT/out" ||
        fail "no line 'read() returned 0: end of file after $n lines' (keep the starter's output lines)"
    grep -qE 'child [0-9]+ exited with status 0$' "$OUT/out" ||
        fail "the parent did not say that it reaped the child ('child PID exited with status 0')"
}

@test "eof: 5 lines: the parent prints each, sees end of file, reaps the child" {
    run_lines 5
}

@test "eof: no line at all, then 2000 lines: end of file after the last, however many there are" {
    run_lines 0
    run_lines 2000
}
