#!/usr/bin/env bats
# intro/: why IPC at all -- after fork(), one address, two values.

load helpers

# value_at ROLE NAME: what the ROLE's "&NAME = ADDR: ..." line says, "ADDR REST".
value_at() {
    sed -nE "s/^\[$1 [0-9]+\] &$2 += (0x[0-9a-f]+): (.*)$/\1 \2/p" "$OUT/out"
}

@test "intro/isolation: the child's values differ from the parent's at the same address" {
    timeout "$T" "$BIN/intro/isolation" >"$OUT/out" 2>"$OUT/err"
    [ -z "$(cat "$OUT/err")" ]
    # The parent prints each address twice (before fork, after the child is gone),
    # the child once: three lines each, one address.
    mapfile -t parent_counter < <(value_at parent counter)
    mapfile -t child_counter < <(value_at child counter)
    mapfile -t parent_buffer < <(value_at parent buffer)
    mapfile -t child_buffer < <(value_at child buffer)
    [ "${#parent_counter[@]}" -eq 2 ] && [ "${#child_counter[@]}" -eq 1 ]
    [ "${#parent_buffer[@]}" -eq 2 ] && [ "${#child_buffer[@]}" -eq 1 ]
    addr=${parent_counter[0]%% *}
    [ "${parent_counter[1]%% *}" = "$addr" ] && [ "${child_counter[0]%% *}" = "$addr" ]
    addr=${parent_buffer[0]%% *}
    [ "${parent_buffer[1]%% *}" = "$addr" ] && [ "${child_buffer[0]%% *}" = "$addr" ]
    # The child changed both; the parent, at the same addresses, still has its own.
    [ "${child_counter[0]#* }" = "0 -> 42" ]
    [ "${child_buffer[0]#* }" = "\"the parent's words\" -> \"the child's words\"" ]
    [ "${parent_counter[1]#* }" = "still 0 — the child changed its own copy" ]
    [ "${parent_buffer[1]#* }" = "still \"the parent's words\" — the child changed its own copy" ]
    # The parent looked only once the child had exited.
    grep -n '' "$OUT/out" >"$OUT/numbered"
    reaped=$(grep -E '^[0-9]+:\[parent [0-9]+\] child [0-9]+ exited with status 0$' "$OUT/numbered" | cut -d: -f1)
    still=$(grep -E '^[0-9]+:\[parent [0-9]+\] &counter = .*: still 0' "$OUT/numbered" | cut -d: -f1)
    [ -n "$reaped" ] && [ -n "$still" ] && ((reaped < still))
}

@test "intro/isolation: the pipe carries the child's value across" {
    run_t "$BIN/intro/isolation"
    [ "$status" -eq 0 ]
    has -x '\[child [0-9]+\] wrote counter \(42\) into the pipe and closed it; exiting' <<<"$output"
    [ "$(tail -n 1 <<<"$output" | strip_pids)" = "[parent] read 42 from the pipe: the child's value, carried across by the kernel" ]
}

@test "intro/isolation: /proc shows the copy: the child's page changes frame on its write, the parent's does not" {
    run_t "$BIN/intro/isolation"
    [ "$status" -eq 0 ]
    line=$(grep -E '^\[child [0-9]+\] page of &counter: ' <<<"$output")
    if [[ $line == *"frame numbers are shown only to root"* ]]; then
        [[ $line =~ Shared_Dirty\ ([0-9]+)\ -\>\ ([0-9]+)\ kB,\ Private_Dirty\ ([0-9]+)\ -\>\ ([0-9]+)\ kB ]]
        ((BASH_REMATCH[2] < BASH_REMATCH[1] && BASH_REMATCH[4] > BASH_REMATCH[3]))
        skip "frames are hidden here (no CAP_SYS_ADMIN): checked the smaps counts only"
    fi
    [[ $line =~ frame\ (0x[0-9a-f]+)\ before\ my\ write\ \(my\ parent\'s\ frame\),\ (0x[0-9a-f]+)\ after\ it:\ the\ kernel\ copied ]]
    before=${BASH_REMATCH[1]} after=${BASH_REMATCH[2]}
    [ "$before" != "$after" ]
    [ "$before" != 0x0 ] && [ "$after" != 0x0 ]
    has -x "\[parent [0-9]+\] page of &counter: still frame $before, the one it had before fork\(\)" <<<"$output"
}

@test "intro/isolation: without root, the copy is read from /proc/self/smaps, and frame 0 is never shown" {
    command -v setpriv >/dev/null || skip "setpriv(1) is not installed"
    [ "$(id -u)" -eq 0 ] || skip "needs root to become another user"
    cp "$BIN/intro/isolation" "$OUT/isolation"
    chmod 755 "$OUT" "$OUT/isolation"
    run --separate-stderr timeout "$T" setpriv --reuid=65534 --regid=65534 --clear-groups "$OUT/isolation"
    [ "$status" -eq 0 ]
    has '^\[child [0-9]+\] page of &counter: frame numbers are shown only to root \(CAP_SYS_ADMIN\); its mapping in /proc/self/smaps: Shared_Dirty [0-9]+ -> [0-9]+ kB, Private_Dirty [0-9]+ -> [0-9]+ kB: shared pages became my own copies' <<<"$output"
    ! grep -q 'frame 0x0\b' <<<"$output"
    ! grep -q 'still frame' <<<"$output"
}

@test "intro/isolation -v: fork, pipe, close, write, read, waitpid on stderr, stdout unchanged" {
    run_t "$BIN/intro/isolation" -v
    [ "$status" -eq 0 ]
    read -r r w < <(sed -nE 's/.*pipe\(\) gave fd ([0-9]+) \(read end\) and fd ([0-9]+) .*/\1 \2/p' <<<"$output")
    [ -n "$r" ] && [ -n "$w" ]
    strip_pids <<<"$stderr" | sed -E 's/[0-9]{3,}/N/g' >"$OUT/trace"
    diff - <(grep -F '[parent]' "$OUT/trace") <<EXPECTED
[parent] pipe([$r, $w]) = 0
[parent] fork() = N
[parent] close($w) = 0
[parent] waitpid(N) = N
[parent] read($r, 8) = 8
[parent] close($r) = 0
EXPECTED
    diff - <(grep -F '[child]' "$OUT/trace") <<EXPECTED
[child] close($r) = 0
[child] write($w, 8) = 8
[child] close($w) = 0
EXPECTED
    [ "$(wc -l <"$OUT/trace")" -eq 9 ]
    [ "$(grep -cE '\) = ' <<<"$output")" -eq 0 ]
}

@test "intro/isolation -f: the pipe's two fds, then each side keeps one" {
    run_t "$BIN/intro/isolation" -f
    [ "$status" -eq 0 ]
    read -r r w < <(sed -nE 's/.*pipe\(\) gave fd ([0-9]+) \(read end\) and fd ([0-9]+) .*/\1 \2/p' <<<"$output")
    [ -n "$r" ] && [ -n "$w" ]
    has "^\[parent [0-9]+\] after pipe\(\): fd $r -> pipe:\[[0-9]+\]$" <<<"$output"
    has "^\[parent [0-9]+\] after pipe\(\): fd $w -> pipe:\[[0-9]+\]$" <<<"$output"
    has "^\[parent [0-9]+\] after close\(\): fd $r -> pipe:" <<<"$output"
    ! has "^\[parent [0-9]+\] after close\(\): fd $w " <<<"$output"
    has "^\[child [0-9]+\] after close\(\): fd $w -> pipe:" <<<"$output"
    ! has "^\[child [0-9]+\] after close\(\): fd $r " <<<"$output"
}

@test "intro/isolation -d: paces the steps" {
    start=$(date +%s%N)
    run_t "$BIN/intro/isolation" -d 100
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq 0 ]
    [ "$elapsed_ms" -ge 300 ]
}
