#!/usr/bin/env bats
# bench/ipcbench: every mechanism measured with every byte verified.  The numbers
# themselves depend on the machine and its load: no test asserts a speed.

load helpers

MECHS=(pipe fifo shm shm1 msgq socketpair unix posix-mq posix-shm posix-shm1)

FIFOS=(bench-fifo bench-ping bench-pong bench-filled bench-free bench-back-filled bench-back-free)

# A run long enough to be caught mid-run, short in every trial: it is signalled
# as soon as its first trial is under way, never waited out.
LONG_RUN=(--quick -m fifo,msgq,shm -s 64 -r 100)

# posix_prefix: the start of this test's POSIX names, from the identity of
# $IPC_DEMO_DIR as common/objects.h's posix_name() makes them.
posix_prefix() {
    local dev ino
    read -r dev ino < <(stat -c '%d %i' "$IPC_DEMO_DIR")
    printf '/ipc-demos-%x-%x-' "$dev" "$ino"
}

# no_posix_left: neither queue nor the shared memory object of this test exists.
no_posix_left() {
    local prefix
    [[ -d $IPC_DEMO_DIR ]] || return 0
    prefix=$(posix_prefix)
    ! "$ROOT/tests/bench-mq" exists "${prefix}bench-mq" &&
        ! "$ROOT/tests/bench-mq" exists "${prefix}bench-mq-back" &&
        [[ ! -e /dev/shm${prefix}bench-shm ]]
}

eval "helpers_$(declare -f teardown)"
teardown() {
    helpers_teardown
    no_posix_left || { echo "a POSIX object left behind" >&2; return 1; }
}

# kids PID: the children of PID (a trial's writer, an echo child, dd or perf).
kids() {
    cat "/proc/$1/task/$1/children" 2>/dev/null
}

# trial_under_way PID: PID has a child, and its objects exist.
trial_under_way() {
    [[ -n $(kids "$1") && -e $IPC_DEMO_DIR/bench.owner ]]
}

# start_long NAME: start LONG_RUN in the background; wait until a trial is under
# way; its pid in $main, its children then in $children.
start_long() {
    T=60 start_bg "$1" "$BIN/bench/ipcbench" "${LONG_RUN[@]}"
    main=$(bg_child "$1")
    wait_until "a trial of bench/ipcbench $main" trial_under_way "$main"
    children=$(kids "$main")
}

# all_exited PID...: every one has exited (gone, or a zombie).
all_exited() {
    local pid
    for pid in "$@"; do exited "$pid" || return 1; done
}

# The data rows of the throughput table: "SIZE MECH GB/s ..." (SIZE only on the
# first row of each size), as "SIZE MECH" pairs.
table_rows() {
    strip_pids <<<"$output" | awk '
        /^\[bench\] +size +mechanism/ { on = 1; next }
        on && /^\[bench\] *$/ { exit }
        on && /^\[bench\] (posix-)?shm.s ring: / { next }
        on {
            sub(/^\[bench\] /, "")
            if ($0 ~ /^ +[0-9]+ (B|KiB|MiB) /) { size = $1 " " $2; mech = $3 }
            else mech = $1
            print size, mech
        }'
}

@test "ipcbench --quick at two sizes: every mechanism, the limits, the verification line" {
    # Every size of the default run: tests/stress/bench.bats.
    run_t "$BIN/bench/ipcbench" --quick -s 64,64K -r 1
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    table_rows >"$OUT/rows"
    for size in "64 B" "64 KiB"; do
        for mech in "${MECHS[@]}" memcpy; do
            grep -qx "$size $mech" "$OUT/rows" || { echo "no row for $mech at $size"; cat "$OUT/rows"; false; }
        done
    done
    grep -qx "64 KiB dd|dd" "$OUT/rows"
    [ "$(wc -l <"$OUT/rows")" -eq $((2 * (${#MECHS[@]} + 1) + 1)) ]
    has "^\[bench [0-9]+\] shm's ring: [0-9]+ slots of 64 B, [0-9]+ slots of 64 KiB; shm1's: 1 slot$" <<<"$output"
    has "^\[bench [0-9]+\] posix-shm's ring: 256 slots of 64 B, 32 slots of 64 KiB, a post per 64 messages; posix-shm1's: the same, a post per message$" <<<"$output"
    prefix=$(posix_prefix)
    grep -qx "\[bench [0-9]*\] POSIX names: ${prefix}bench-mq, ${prefix}bench-mq-back, ${prefix}bench-shm (each unlinked as soon as both processes hold it)" <<<"$output"
    has '^\[bench [0-9]+\] +posix-mq +n/a: above msgsize_max \([0-9]+ B\)$' <<<"$output"
    # Every line is a "[bench PID] " line; the header names the machine and settings.
    [ -z "$(grep -vE '^\[bench [0-9]+\] ' <<<"$output")" ]
    has '^\[bench [0-9]+\] pinning: same \(writer and reader on CPU [0-9]+\)$' <<<"$output"
    has '^\[bench [0-9]+\] pipe size [0-9]+ B \(pipe-max-size [0-9]+ B\), msgmax [0-9]+ B' <<<"$output"
    has '^\[bench [0-9]+\] verified: [0-9]+ messages, .* every byte compared .*: no mismatch$' <<<"$output"
    has '^\[bench [0-9]+\] crossover: shm ' <<<"$output"
    has '^\[bench [0-9]+\] crossover: posix-shm ' <<<"$output"
    has '^\[bench [0-9]+\] limits: pipe at 64 KiB moves x[0-9.]+ of dd bs=64k \| dd' <<<"$output"
    # The bar chart: one bar per mechanism per size.
    [ "$(grep -cE '^\[bench [0-9]+\]   ([a-z0-9-]+|dd\|dd) +\|[# ]{40}\|' <<<"$output")" -eq $((2 * (${#MECHS[@]} + 1) + 1)) ]
    # Nothing is left: not the FIFOs (teardown looks), not the record.
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

@test "ipcbench: a corrupted byte fails the run, naming the mechanism" {
    local mech
    for mech in "${MECHS[@]}"; do
        run_t env IPCBENCH_CORRUPT="$mech" "$BIN/bench/ipcbench" --quick -m "$mech" -s 4K -r 1
        [ "$status" -eq 1 ] || { echo "$mech: status $status"; false; }
        [[ $stderr == *"bench/ipcbench: $mech: VERIFICATION FAILED: message "*", byte 4095 is "* ]] ||
            { echo "$mech: stderr '$stderr'"; false; }
        [[ $output != *"verified:"* ]]
    done
    # (in a || list: the grep inside that finds nothing must not end the test)
    check_leftovers || false
}

@test "ipcbench: the corruption aid touches only the mechanism it names" {
    run_t env IPCBENCH_CORRUPT=shm "$BIN/bench/ipcbench" --quick -m pipe,msgq -s 64 -r 1
    [ "$status" -eq 0 ]
    has 'verified: .*no mismatch$' <<<"$output"
}

@test "ipcbench --csv: one well-formed row per trial and round" {
    run_t "$BIN/bench/ipcbench" --quick --csv -m pipe,msgq -s 64,64K -r 3
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    head -n 1 <<<"$output" >"$OUT/head"
    echo "kind,round,mechanism,size,messages,seconds,gb_per_s,msgs_per_s,mean_us,median_us,min_us,pinning,status" |
        diff - "$OUT/head"
    tail -n +2 <<<"$output" >"$OUT/rows"
    # pipe, msgq, memcpy at 64 B; pipe, msgq (n/a), memcpy at 64 KiB; dd: 7 trials x 3 rounds.
    [ "$(wc -l <"$OUT/rows")" -eq 21 ]
    awk -F, '
        NF != 13 { print "fields: " $0; bad = 1; next }
        $1 != "throughput" || $2 !~ /^[1-3]$/ || $12 != "same" { print "kind/round/pinning: " $0; bad = 1 }
        $13 == "ok" && !($5 ~ /^[0-9]+$/ && $5 > 0 && $6 > 0 && $7 > 0 && $8 > 0) { print "figures: " $0; bad = 1 }
        $13 == "n/a" && ($3 != "msgq" || $4 != 65536 || $5 != "") { print "n/a: " $0; bad = 1 }
        $13 != "ok" && $13 != "n/a" { print "status: " $0; bad = 1 }
        END { exit bad }' "$OUT/rows"
    for mech in pipe msgq memcpy; do
        for size in 64 65536; do
            [ "$(grep -c "^throughput,[123],$mech,$size," "$OUT/rows")" -eq 3 ]
        done
    done
    [ "$(grep -c '^throughput,[123],dd|dd,65536,[0-9]' "$OUT/rows")" -eq 3 ]
    # The report is not printed with --csv.
    [ -z "$(grep '^\[bench' <<<"$output")" ]
}

@test "ipcbench: msgq above msgmax is n/a, never clamped" {
    msgmax=$(cat /proc/sys/kernel/msgmax)
    above=$((msgmax + 1))
    run_t "$BIN/bench/ipcbench" --quick -m msgq -s "$msgmax,$above" -r 1
    [ "$status" -eq 0 ]
    has "^\[bench [0-9]+\] +$above B +msgq +n/a: above msgmax \($msgmax B\)$" <<<"$output"
    # At msgmax itself it is measured (the report writes 8192 as 8 KiB).
    label="$msgmax B"
    ((msgmax % 1024)) || label="$((msgmax / 1024)) KiB"
    has "^\[bench [0-9]+\] +$label +msgq +[0-9.]+ " <<<"$output"
}

@test "ipcbench --latency: round trips for pipe, fifo, shm, msgq, socketpair, unix, posix-mq, posix-shm, and perf or why not" {
    run_t "$BIN/bench/ipcbench" --quick --latency -m pipe,fifo,shm,msgq,socketpair,unix,posix-mq,posix-shm -s 64 -r 1
    [ "$status" -eq 0 ]
    # The table from its heading to the blank line after it.
    strip_pids <<<"$output" | sed -n '/^\[bench\] round trips/,/^\[bench\] *$/p' >"$OUT/trips"
    for size in "1 B" "4 KiB"; do
        for mech in pipe fifo shm msgq socketpair unix posix-mq posix-shm; do
            has "^\[bench\] +$size +$mech +[0-9.]+ +[0-9.]+ +[0-9.]+ " "$OUT/trips" ||
                { echo "no round trip row for $mech at $size"; cat "$OUT/trips"; false; }
        done
    done
    [ "$(grep -cE '^\[bench\] +[0-9]+ K?i?B +[a-z0-9-]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ ' "$OUT/trips")" -eq 16 ]
    if command -v perf >/dev/null && perf bench sched pipe -l 10 >/dev/null 2>&1; then
        has '^\[bench [0-9]+\] +4 B +perf +- +- +[0-9.]+ ' <<<"$output"
        has 'limits: a 1 B pipe round trip takes x[0-9.]+ of perf bench sched pipe' <<<"$output"
    else
        has '^\[bench [0-9]+\] +4 B +perf +skipped: ' <<<"$output"
    fi
}

@test "ipcbench --latency without perf: skipped with the reason" {
    # A PATH with dd and nothing else.
    mkdir "$OUT/bin"
    ln -s "$(command -v dd)" "$OUT/bin/dd"
    run_t env PATH="$OUT/bin" "$BIN/bench/ipcbench" --quick --latency -m pipe -s 64 -r 1
    [ "$status" -eq 0 ]
    has '^\[bench [0-9]+\] +4 B +perf +skipped: perf is not installed$' <<<"$output"
    has '^\[bench [0-9]+\] +1 B +pipe +[0-9.]+ +[0-9.]+ +[0-9.]+ +- *$' <<<"$output"
}

@test "ipcbench -c split: one CPU each, or a clear refusal on one CPU" {
    command -v taskset >/dev/null || skip "taskset is not installed (util-linux)"
    run_t taskset -c 0 "$BIN/bench/ipcbench" --quick -c split -m pipe -s 64 -r 1
    [ "$status" -eq 1 ]
    [[ $stderr == "bench/ipcbench: -c split needs two CPUs, but this process may only use CPU 0" ]]
    [ -z "$output" ]
    [ "$(nproc)" -ge 2 ] || skip "one CPU: split cannot run here"
    run_t "$BIN/bench/ipcbench" --quick -c split -m pipe -s 64 -r 1
    [ "$status" -eq 0 ]
    has '^\[bench [0-9]+\] pinning: split \(writer on CPU [0-9]+, reader on CPU [0-9]+\)$' <<<"$output"
}

@test "ipcbench: SIGTERM mid-run removes the queue, the FIFOs and the record, exit 1" {
    start_long bench
    [ -n "$(ipc_objects_for b)" ]
    [ -p "$IPC_DEMO_DIR/bench-fifo" ]
    kill -TERM "$main"
    wait_bg bench
    [ "$status" -eq 1 ]
    grep -qx 'bench/ipcbench: interrupted by SIGTERM' "$OUT/bench.err"
    # Its children were killed and reaped before it exited.
    for kid in $children; do [ ! -e "/proc/$kid" ]; done
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

@test "ipcbench: after kill -9 the next run removes the leftovers; so does --cleanup" {
    start_long bench
    kill -KILL "$main"
    wait_bg bench
    wait_until "the children of $main to die with it" all_exited $children
    [ -p "$IPC_DEMO_DIR/bench-fifo" ]
    [ -n "$(ipc_objects_for b)" ]
    run_t "$BIN/bench/ipcbench" --quick -m pipe -s 64 -r 1
    [ "$status" -eq 0 ]
    for name in "${FIFOS[@]}"; do
        grep -qx "\[bench [0-9]*\] FIFO $IPC_DEMO_DIR/$name was left by a killed run (its creator, pid $main, is gone; nobody uses it): removing it" <<<"$output"
    done
    has "^\[bench [0-9]+\] message queue [0-9]+ \(key 0x[0-9a-f]{8}\) was left by a killed run \(its creator, pid $main, is gone; nobody uses it\): removing it$" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]

    # Again, and this time --cleanup.
    start_long again
    kill -KILL "$main"
    wait_bg again
    wait_until "the children of $main to die with it" all_exited $children
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 0 ]
    [ "$(grep -c "^\[bench [0-9]*\] FIFO .* was left by a killed run (its creator, pid $main, is gone; nobody uses it): removing it$" <<<"$output")" -eq 7 ]
    has "^\[bench [0-9]+\] message queue [0-9]+ .* was left by a killed run .*: removing it$" <<<"$output"
    grep -qx "\[bench [0-9]*\] removed the record of bench/ipcbench pid $main, which is gone: $IPC_DEMO_DIR/bench.owner" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 0 ]
    has "^\[bench [0-9]+\] nothing to remove in $IPC_DEMO_DIR$" <<<"$output"
}

@test "ipcbench: a running one is never disturbed: a second run and --cleanup are refused" {
    start_long bench
    for args in "--quick -m pipe -s 64 -r 1" --cleanup; do
        run_t "$BIN/bench/ipcbench" $args
        [ "$status" -eq 1 ]
        [ "$stderr" = "bench/ipcbench: bench/ipcbench pid $main is running with $IPC_DEMO_DIR (see $IPC_DEMO_DIR/bench.owner): stop it first (kill $main), or set IPC_DEMO_DIR to another directory" ]
        [ -z "$output" ]
    done
    # Still running, its objects in place.
    ! exited "$main"
    [ -e "$IPC_DEMO_DIR/bench.owner" ]
    [ -p "$IPC_DEMO_DIR/bench-fifo" ]
    kill -TERM "$main"
    wait_bg bench
    [ "$status" -eq 1 ]
}

@test "ipcbench: whatever sits at a FIFO's path is left as it is, and the run refused" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    # Every path with a file on it; the other kinds on the path whose file a
    # refused run once took away with it.
    for plant in "${FIFOS[@]/%/:file}" bench-back-free:{symlink,fifo0644,fifo-unrecorded}; do
        name=${plant%:*} kind=${plant#*:}
        {
            case $kind in
            file) echo precious >"$IPC_DEMO_DIR/$name"; why="is a regular file, not a FIFO: left as it is" ;;
            symlink) ln -s /etc/passwd "$IPC_DEMO_DIR/$name"; why="is a symbolic link (never followed), not a FIFO: left as it is" ;;
            fifo0644) mkfifo -m 644 "$IPC_DEMO_DIR/$name"; why="is a FIFO of yours with mode 0644, not 0600" ;;
            fifo-unrecorded) mkfifo -m 600 "$IPC_DEMO_DIR/$name"; why="was made by no run on record in $IPC_DEMO_DIR/bench.owner: nothing proves it stale" ;;
            esac
            run_t "$BIN/bench/ipcbench" --quick -m fifo,shm -s 64 -r 1
            [ "$status" -eq 1 ] || { echo "$name ($kind): status $status"; false; }
            [[ $stderr == *"$IPC_DEMO_DIR/$name $why"* ]] || { echo "$name ($kind): $stderr"; false; }
            # Left as it was, and nothing else made or left.
            case $kind in
            file) [ "$(cat "$IPC_DEMO_DIR/$name")" = precious ] ;;
            symlink) [ "$(readlink "$IPC_DEMO_DIR/$name")" = /etc/passwd ] ;;
            fifo*) [ -p "$IPC_DEMO_DIR/$name" ] ;;
            esac
            [ "$(ls -A "$IPC_DEMO_DIR" | grep -vx key)" = "$name" ]
            rm "$IPC_DEMO_DIR/$name"
        }
    done
    # A run that does not need the path leaves it alone and runs.
    echo precious >"$IPC_DEMO_DIR/bench-fifo"
    run_t "$BIN/bench/ipcbench" --quick -m pipe -s 64 -r 1
    [ "$status" -eq 0 ]
    [ "$(cat "$IPC_DEMO_DIR/bench-fifo")" = precious ]
}

@test "ipcbench: a record that is not ours is not touched, and the run refused" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    echo "not a record" >"$IPC_DEMO_DIR/bench.owner"
    for args in "--quick -m pipe -s 64 -r 1" --cleanup; do
        run_t "$BIN/bench/ipcbench" $args
        [ "$status" -eq 1 ]
        [ "$stderr" = "bench/ipcbench: $IPC_DEMO_DIR/bench.owner is not a record of ours: not touched (remove it, or set IPC_DEMO_DIR)" ]
    done
    [ "$(cat "$IPC_DEMO_DIR/bench.owner")" = "not a record" ]
}

# dead_record: a record of a run that is gone (a pid that has exited).
dead_record() {
    local pid
    true &
    pid=$!
    wait "$pid"
    mkdir -p -m 700 "$IPC_DEMO_DIR"
    echo "$pid 12345 0" >"$IPC_DEMO_DIR/bench.owner"
    echo "$pid"
}

@test "ipcbench: POSIX objects a killed run left are removed when stale, refused when not provably" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    prefix=$(posix_prefix)
    # Unrecorded: refused with the command, left as they are.
    "$ROOT/tests/bench-mq" plant "${prefix}bench-mq"
    run_t "$BIN/bench/ipcbench" --quick -m posix-mq -s 64 -r 1
    [ "$status" -eq 1 ]
    [[ $stderr == "bench/ipcbench: POSIX message queue ${prefix}bench-mq was made by no run on record in $IPC_DEMO_DIR/bench.owner: nothing proves it stale"* ]]
    "$ROOT/tests/bench-mq" exists "${prefix}bench-mq"
    # Not ours (another mode): refused, whatever the record.
    "$ROOT/tests/bench-mq" unlink "${prefix}bench-mq"
    "$ROOT/tests/bench-mq" plant "${prefix}bench-mq" 644
    dead=$(dead_record)
    run_t "$BIN/bench/ipcbench" --quick -m posix-mq -s 64 -r 1
    [ "$status" -eq 1 ]
    [[ $stderr == "bench/ipcbench: POSIX message queue ${prefix}bench-mq is not ours"* ]]
    "$ROOT/tests/bench-mq" unlink "${prefix}bench-mq"
    # Stale (a record whose pid is gone): removed, and the run goes on.
    "$ROOT/tests/bench-mq" plant "${prefix}bench-mq-back"
    install -m 600 /dev/null "/dev/shm${prefix}bench-shm"
    run_t "$BIN/bench/ipcbench" --quick -m posix-mq,posix-shm -s 64 -r 1
    [ "$status" -eq 0 ]
    grep -qx "\[bench [0-9]*\] POSIX message queue ${prefix}bench-mq-back was left by a killed run (its creator, pid $dead, is gone; nobody uses it): removing it" <<<"$output"
    grep -qx "\[bench [0-9]*\] POSIX shared memory object ${prefix}bench-shm was left by a killed run (its creator, pid $dead, is gone; nobody uses it): removing it" <<<"$output"
    # --cleanup too.
    dead=$(dead_record)
    install -m 600 /dev/null "/dev/shm${prefix}bench-shm"
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 0 ]
    grep -q "POSIX shared memory object ${prefix}bench-shm was left by a killed run (its creator, pid $dead, is gone" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

@test "ipcbench unix: whatever sits at bench-socket is left as it is, and the run refused" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    sock=$IPC_DEMO_DIR/bench-socket
    for kind in file symlink; do
        case $kind in
        file) echo precious >"$sock"; why="is a regular file, not a socket: left as it is" ;;
        symlink) ln -s /etc/passwd "$sock"; why="is a symbolic link (never followed), not a socket: left as it is" ;;
        esac
        for args in "--quick -m unix -s 64 -r 1" --cleanup; do
            run_t "$BIN/bench/ipcbench" $args
            [ "$status" -eq 1 ] || { echo "$kind, $args: status $status"; false; }
            [[ $stderr == "bench/ipcbench: $sock $why"* ]] || { echo "$kind, $args: $stderr"; false; }
            case $kind in
            file) [ "$(cat "$sock")" = precious ] ;;
            symlink) [ "$(readlink "$sock")" = /etc/passwd ] ;;
            esac
            [ "$(ls -A "$IPC_DEMO_DIR" | grep -vx key)" = bench-socket ]
        done
        rm "$sock"
    done
    # A run that does not need the path leaves it alone and runs.
    echo precious >"$sock"
    run_t "$BIN/bench/ipcbench" --quick -m socketpair -s 64 -r 1
    [ "$status" -eq 0 ]
    [ "$(cat "$sock")" = precious ]
}

# listener_killed: a socket file of ours (0600) at bench-socket whose listener
# was killed with SIGKILL: nobody accepts on it any more.
listener_killed() {
    T=30 start_bg listener "$BIN/socket/server" -p "$IPC_DEMO_DIR/bench-socket"
    wait_until "socket/server's socket file" test -S "$IPC_DEMO_DIR/bench-socket"
    kill -KILL "$(bg_child listener)"
    wait_bg listener
    [ -S "$IPC_DEMO_DIR/bench-socket" ]
}

@test "ipcbench unix: a socket file a killed run left is removed when stale, refused when not provably" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    sock=$IPC_DEMO_DIR/bench-socket
    # Somebody accepts on it: in use, whatever the record says.
    T=30 start_bg listener "$BIN/socket/server" -p "$sock"
    wait_until "socket/server's socket file" test -S "$sock"
    dead=$(dead_record)
    run_t "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 1
    [ "$status" -eq 1 ]
    [ "$stderr" = "bench/ipcbench: socket file $sock is in use: 1 process is still using it.
If it is a leftover, remove it with: rm $sock" ]
    [ -S "$sock" ]
    kill -TERM "$(bg_child listener)"
    wait_bg listener
    rm -f "$IPC_DEMO_DIR/bench.owner"

    # Nobody accepts, but no run on record made it: refused, with the command.
    listener_killed
    run_t "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 1
    [ "$status" -eq 1 ]
    [ "$stderr" = "bench/ipcbench: socket file $sock was made by no run on record in $IPC_DEMO_DIR/bench.owner: nothing proves it stale, so it is not touched.
If no bench/ipcbench is running, remove it with: rm $sock" ]
    [ -S "$sock" ]
    # Not ours (another mode): refused, whatever the record.
    chmod 644 "$sock"
    dead=$(dead_record)
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 1 ]
    [[ $stderr == "bench/ipcbench: socket file $sock is not ours (another user, or another mode than 0600): not touched."* ]]
    [ -S "$sock" ]
    chmod 600 "$sock"

    # Stale (a record whose pid is gone): removed, and the run goes on.
    run_t "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 1
    [ "$status" -eq 0 ]
    grep -qx "\[bench [0-9]*\] socket file $sock was left by a killed run (its creator, pid $dead, is gone; nobody uses it): removing it" <<<"$output"
    has '^\[bench [0-9]+\] +64 B +unix +[0-9.]+ ' <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]

    # --cleanup too.
    listener_killed
    dead=$(dead_record)
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 0 ]
    grep -qx "\[bench [0-9]*\] socket file $sock was left by a killed run (its creator, pid $dead, is gone; nobody uses it): removing it" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

# killed_in_the_window NAME: a unix run killed with SIGKILL between its bind()
# and its accept(): strace holds the writer's connect() back for a minute,
# the reader waits in accept() with the socket file there, and both are killed.
# Its pid in $main.
killed_in_the_window() {
    T=60 start_bg "$1" strace -f -o /dev/null -e inject=connect:delay_enter=60000000 \
        "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 1
    wait_until "the socket file" test -S "$IPC_DEMO_DIR/bench-socket"
    local tracer
    tracer=$(bg_child "$1")
    main=$(cat "/proc/$tracer/task/$tracer/children")
    main=${main%% *}
    [[ $main =~ ^[0-9]+$ ]]
    # strace itself too: it would sit out its delay before it noticed.
    wait_until "the writer of $main" trial_under_way "$main"
    local victims=("$main" $(kids "$main") "$tracer") p
    kill -KILL "${victims[@]}"
    wait_bg "$1"
    # A killed process closes its fds only after it has unmapped its memory
    # (long for a sanitized one): until then the listening socket still takes
    # a connect(), and the next run rightly calls the file in use.
    for p in "${victims[@]}"; do
        wait_until "killed pid $p to exit" exited "$p"
    done
    [ -S "$IPC_DEMO_DIR/bench-socket" ]
}

@test "ipcbench unix: killed between bind() and accept(), its socket file is removed by the next run, and by --cleanup" {
    command -v strace >/dev/null || skip "strace is not installed"
    killed_in_the_window bench
    run_t "$BIN/bench/ipcbench" --quick -m unix -s 64 -r 1
    [ "$status" -eq 0 ] || { printf '%s\n' "$output" "$stderr"; false; }
    grep -qx "\[bench [0-9]*\] socket file $IPC_DEMO_DIR/bench-socket was left by a killed run (its creator, pid $main, is gone; nobody uses it): removing it" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
    killed_in_the_window again
    run_t "$BIN/bench/ipcbench" --cleanup
    [ "$status" -eq 0 ] || { printf '%s\n' "$output" "$stderr"; false; }
    grep -qx "\[bench [0-9]*\] socket file $IPC_DEMO_DIR/bench-socket was left by a killed run (its creator, pid $main, is gone; nobody uses it): removing it" <<<"$output"
    [ "$(ls -A "$IPC_DEMO_DIR")" = key ]
}

@test "ipcbench: posix-mq above msgsize_max is n/a, never clamped" {
    most=$(cat /proc/sys/fs/mqueue/msgsize_max)
    run_t "$BIN/bench/ipcbench" --quick -m posix-mq -s "$most,$((most + 1))" -r 1
    [ "$status" -eq 0 ]
    has "^\[bench [0-9]+\] +$((most + 1)) B +posix-mq +n/a: above msgsize_max \($most B\)$" <<<"$output"
}

@test "ipcbench: bad input is a usage error that creates nothing" {
    local args
    while IFS='|' read -r args what; do
        read -ra argv <<<"$args"
        run --separate-stderr timeout 5 "$BIN/bench/ipcbench" "${argv[@]}"
        [ "$status" -eq 2 ] || { echo "$args: status $status"; false; }
        [ -z "$output" ]
        [[ $stderr == "bench/ipcbench: $what"*"usage: bench/ipcbench "* ]] ||
            { echo "$args: stderr '$stderr'"; false; }
    done <<'CASES'
-s 0|-s: '0' is out of range (1 to 16M)
-s 17M|-s: '17M' is out of range (1 to 16M)
-s 1x|-s: '1x' is not a size
-s 64,,1K|-s: '' is not a size
-s 4K,-1|-s: '-1' is not a size
-s 1G|-s: '1G' is not a size
-m pipe,carrier-pigeon|-m: 'carrier-pigeon' is not a mechanism
-m|option -m needs an argument
-c both|-c: 'both' is not one of same, split, any
-r 0|-r: '0' is out of range
-r 101|-r: '101' is out of range
--csv=yes|option '--csv=yes' takes no argument
--bogus|unknown option --bogus
--quick extra|unexpected argument 'extra'
CASES
    [ ! -e "$IPC_DEMO_DIR" ]
}

@test "ipcbench -h: the usage, the mechanisms, the test aid" {
    run_t "$BIN/bench/ipcbench" -h
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "usage: bench/ipcbench [-m MECHS] [-s SIZES] [-r ROUNDS] [-c same|split|any] [--latency] [--csv] [--quick] [--cleanup]" ]]
    [[ $output == *"pipe,fifo,shm,shm1,msgq,socketpair,"* ]]
    [[ $output == *"unix,posix-mq,posix-shm,posix-shm1 (default: all)"* ]]
    [[ $output == *"IPCBENCH_CORRUPT=MECH"* ]]
}
