#!/usr/bin/env bats
# fifo/: the named-pipe server and client.  The long cases (thousands of lines
# from concurrent clients, a stop signal at every moment) are in
# tests/stress/fifo.bats.

load helpers

# helpers' setup (its own IPC_DEMO_DIR for each test), then the FIFO's default path.
eval "helpers_$(declare -f setup)"
setup() {
    helpers_setup
    FIFO="$IPC_DEMO_DIR/fifo"
    # fifo/ makes no System V object: teardown looks for FIFOs left behind,
    # and spends no time on keys that cannot exist.
    IPC_PROJS=()
}

# run_client ARGS...: fifo/client, bounded, its fds 0-2 only.
run_client() {
    run_t "$BIN/fifo/client" "$@"
}

# start_server [ARGS...]: fifo/server in the background, up to its blocking open().
# The previous server's output goes first: start_bg truncates it only once the
# new process runs, and its "waiting" line must not be mistaken for this one's.
# (Once that line is out, the FIFO has a reader -- the server's lock -- so a
# client may come at once.)
start_server() {
    start_bg server "$BIN/fifo/server" "$@"
    wait_for_line "$OUT/server.out" '^\[server [0-9]+\] waiting for a client on '
}

# lacks GREP-ARGS...: grep finds nothing.  (A bare `! grep` in the middle of a
# test cannot fail it: Bats' errexit ignores a negated command.)
lacks() {
    ! grep "$@"
}

# said FILE: the TEXT of every "[server PID] client says: TEXT" line of FILE.
said() {
    sed -n 's/^\[server [0-9]*\] client says: //p' "$1"
}

# wait_blocked_in_open PID: poll until PID sleeps inside open() of a FIFO, waiting
# for a writer (Linux shows wait_for_partner in /proc/PID/wchan).  Where the kernel
# hides wchan, go on: the "waiting" line was printed just before the open().
wait_blocked_in_open() {
    local deadline=$((SECONDS + T)) wchan pause=0
    while ((SECONDS < deadline)); do
        wchan=; read -r wchan <"/proc/$1/wchan" 2>/dev/null || [[ -e /proc/$1 ]] || return 1
        [[ $wchan == wait_for_partner || $wchan == 0 || -z $wchan ]] && return 0
        backoff pause
    done
    echo "process $1 never blocked in open(); wchan: $wchan" >&2
    return 1
}

# wait_for_count FILE REGEX N: poll until N lines of FILE match REGEX.
wait_for_count() {
    local deadline=$((SECONDS + T)) n=0 pause=0
    while ((SECONDS < deadline)); do
        n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
        ((n >= $3)) && return 0
        backoff pause
    done
    echo "timed out: $n of $3 lines match /$2/ in $1" >&2
    return 1
}

# ---- the conversation ----

@test "fifo: server and client talk, the server quits with the client and removes the FIFO" {
    start_server
    [ -p "$FIFO" ]
    [ "$(stat -c %a "$FIFO")" = 600 ]
    run_client "hello" "second message" "third and last"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    strip_pids <<<"$output" >"$OUT/got"
    diff - "$OUT/got" <<EXPECTED
[client] connected to $FIFO (fd 3): a server has it open for reading
[client] sent: hello
[client] sent: second message
[client] sent: third and last
[client] closed the FIFO: 3 lines sent
EXPECTED
    wait_bg server
    [ "$status" -eq 0 ]
    [ ! -e "$FIFO" ]
    strip_pids <"$OUT/server.out" >"$OUT/got"
    diff - "$OUT/got" <<EXPECTED
[server] created the FIFO $FIFO (mode 0600): a name in the file system, no data on disk
[server] waiting for a client on $FIFO
[server] a client opened the FIFO: open() returned fd 4
[server] client says: hello
[server] client says: second message
[server] client says: third and last
[server] read() returned 0: the client quit (every writer closed), so the server quits too
[server] removed $FIFO
EXPECTED
    [ ! -s "$OUT/server.err" ]
}

@test "fifo: the client sends the lines of its standard input, without a prompt off a terminal" {
    start_server
    run_t bash -c 'printf "from stdin\n\nno newline at the end" | "$1"' _ "$BIN/fifo/client"
    [ "$status" -eq 0 ]
    # Every stdout line is a [client PID] line: no prompt.
    lacks -vE '^\[client [0-9]+\] ' <<<"$output"
    wait_bg server
    [ "$status" -eq 0 ]
    diff <(printf 'from stdin\n\nno newline at the end\n') <(said "$OUT/server.out")
}

@test "fifo: the client prompts only when its standard input is a terminal" {
    command -v script >/dev/null || skip "script(1) is not installed (apt-get install bsdutils)"
    start_server
    printf 'typed\n' | timeout "$T" script -qec "$BIN/fifo/client" /dev/null >"$OUT/tty"
    grep -q 'Please enter# ' "$OUT/tty"
    wait_bg server
    [ "$status" -eq 0 ]
    [ "$(said "$OUT/server.out")" = typed ]
}

@test "fifo: read() returns 0 only when the last writer closes" {
    start_server
    # This shell holds a write end (O_RDWR: never blocks) while a client comes and goes.
    [ -p "$FIFO" ]
    exec {w}<>"$FIFO"
    run_t "$BIN/fifo/client" "from the client" {w}>&-
    [ "$status" -eq 0 ]
    wait_for_line "$OUT/server.out" 'client says: from the client$'
    printf 'from the shell\n' >&"$w"
    wait_for_line "$OUT/server.out" 'client says: from the shell$'
    lacks -q 'client quit' "$OUT/server.out"
    kill -0 "$(bg_child server)"
    exec {w}>&-
    wait_bg server
    [ "$status" -eq 0 ]
    has '^\[server [0-9]+\] read\(\) returned 0: the client quit' "$OUT/server.out"
    [ ! -e "$FIFO" ]
}

# ---- framing: a byte stream has no message boundaries ----

@test "fifo: lines split across read()s and merged within one are framed exactly" {
    start_server -v
    [ -p "$FIFO" ]
    exec {w}<>"$FIFO"
    # Each piece goes in one write() (cat of a file; bash's printf would flush at
    # each newline) and only once the server has read the previous one (its -v
    # trace shows every read()), so the read() sizes are exactly the pieces.
    local pieces=('hel' $'lo\nwor' $'ld\nthree\nfour\n' 'five') i=0
    for i in "${!pieces[@]}"; do
        printf '%s' "${pieces[i]}" >"$OUT/piece"
        cat "$OUT/piece" >&"$w"
        wait_for_count "$OUT/server.err" '\] read\([0-9]+, [0-9]+\) = [1-9]' "$((i + 1))"
    done
    exec {w}>&-
    wait_bg server
    [ "$status" -eq 0 ]
    sed -nE 's/.*\] read\([0-9]+, [0-9]+\) = ([0-9]+)$/\1/p' "$OUT/server.err" >"$OUT/sizes"
    # (The second 0: after removing the name, the server reads once more for a
    # client that might have opened the FIFO just before.)
    diff <(printf '3\n6\n14\n4\n0\n0\n') "$OUT/sizes"
    diff <(printf 'hello\nworld\nthree\nfour\nfive\n') <(said "$OUT/server.out")
    has '^\[server [0-9]+\] \(that last line had no newline: it ended at end of file\)$' \
        "$OUT/server.out"
}

@test "fifo: 20,000 lines at once, cut anywhere by read(), give 20,000 lines in order" {
    start_server
    # One writer, big writes: every read() returns a full buffer that ends mid-line.
    run_t bash -c 'seq 20000 >"$1"' _ "$FIFO"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    diff <(seq 20000) <(said "$OUT/server.out")
}

@test "fifo: the server escapes bytes that are not printable and cuts over-long lines, never merging" {
    start_server
    {
        printf 'bell\a esc\033[31m cr\r back\\slash tab\t del\177 high\351\n'
        head -c 5000 /dev/zero | tr '\0' A; printf '\n'
        head -c 2000 /dev/zero | tr '\0' '\001'; printf '\n'
        printf 'the next line is intact\n'
    } >"$OUT/input"
    run_t bash -c 'cat "$2" >"$1"' _ "$FIFO" "$OUT/input"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    mapfile -t got < <(sed -E 's/^\[server [0-9]+\] //' "$OUT/server.out" | sed -n '/^client says\|^that line/p')
    [ "${#got[@]}" -eq 6 ]
    [ "${got[0]}" = 'client says: bell\x07 esc\x1b[31m cr\x0d back\\slash tab\x09 del\x7f high\xe9' ]
    # 5000 printable bytes: the first 4095 are shown, the rest is counted.
    [ "${got[1]}" = "client says: $(head -c 4095 /dev/zero | tr '\0' A)" ]
    [ "${got[2]}" = 'that line was too long: 905 of its 5000 bytes are not shown' ]
    # \x01 takes 4 characters: 1023 bytes fit in 4095 characters.
    [ "${got[3]}" = "client says: $(for i in $(seq 1023); do printf '\\x01'; done)" ]
    [ "${got[4]}" = 'that line was too long: 977 of its 2000 bytes are not shown' ]
    [ "${got[5]}" = 'client says: the next line is intact' ]
}

# ---- -k: many clients, whole lines ----

@test "fifo -k: 3 concurrent clients x 300 lines of up to 1,500 bytes: 900 whole lines, each client's in order" {
    start_server -k
    for k in 1 2 3; do
        awk -v k="$k" 'BEGIN {
            pad = sprintf("%1500s", ""); gsub(/ /, substr("abc", k, 1), pad)
            for (i = 1; i <= 300; i++) printf "client%d line %d %s\n", k, i, substr(pad, 1, (i * 37) % 1500)
        }' >"$OUT/in$k"
    done
    for k in 1 2 3; do
        start_bg_in "client$k" "$OUT/in$k" "$BIN/fifo/client"
    done
    for k in 1 2 3; do
        wait_bg "client$k"
        [ "$status" -eq 0 ] || { cat "$OUT/client$k.err"; false; }
    done
    wait_for_count "$OUT/server.out" '^\[server [0-9]+\] client says: ' 900
    server=$(bg_child server)
    kill -TERM "$server"
    wait_bg server
    [ "$status" -eq 0 ]
    [ ! -e "$FIFO" ]
    has "^\[server $server\] SIGTERM: removed $FIFO and exiting$" "$OUT/server.out"
    said "$OUT/server.out" >"$OUT/got"
    # Every line of every client exactly once, nothing torn or merged ...
    diff <(sort "$OUT"/in[1-3]) <(sort "$OUT/got")
    # ... and each client's lines in the order it sent them.
    for k in 1 2 3; do
        diff "$OUT/in$k" <(grep "^client$k " "$OUT/got")
    done
}

@test "fifo -k: the server stays for successive clients, its own write end keeps read() from returning 0" {
    start_server -k -v
    run_client "first client"
    [ "$status" -eq 0 ]
    wait_for_line "$OUT/server.out" 'client says: first client$'
    run_client "second client"
    [ "$status" -eq 0 ]
    wait_for_line "$OUT/server.out" 'client says: second client$'
    server=$(bg_child server)
    kill -0 "$server"
    has "^\[server [0-9]+\] open\(\"$FIFO\", O_WRONLY\|O_NONBLOCK\|O_NOFOLLOW\) = 5$" "$OUT/server.err"
    lacks -qE '\] read\([0-9]+, [0-9]+\) = 0$' "$OUT/server.err"
    kill -INT "$server"
    wait_bg server
    [ "$status" -eq 0 ]
    [ ! -e "$FIFO" ]
    has "^\[server $server\] SIGINT: removed $FIFO and exiting$" "$OUT/server.out"
}

# ---- the client's failures ----

@test "fifo/client: no FIFO means no server: exit 1 with a hint, nothing created" {
    run_t "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/client: $FIFO: No such file or directory (start fifo/server first)" ]
    [ ! -e "$FIFO" ]
}

@test "fifo/client: a FIFO nobody reads fails at once (O_NONBLOCK), never hangs" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    mkfifo -m 600 "$FIFO"
    run --separate-stderr timeout 5 "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/client: open $FIFO: No such device or address (nobody reads this FIFO: its server is gone; start fifo/server)" ]
    rm "$FIFO"
}

@test "fifo/client: the server gone mid-stream is reported as EPIPE, not a silent SIGPIPE death" {
    start_server
    server=$(bg_child server)
    # The client's input: one line, then -- once the server has exited, its fds
    # closed (its FIFO's name goes a moment before) -- another.
    start_bg client bash -c 'wait_exited() { while [ -e "/proc/$1/fd/1" ]; do sleep 0.02; done; }
        { echo before; wait_exited "$1"; echo after; } | "$2"' _ "$server" "$BIN/fifo/client"
    wait_for_line "$OUT/server.out" 'client says: before$'
    kill -TERM "$server"
    wait_bg server
    [ "$status" -eq 0 ]
    wait_bg client
    [ "$status" -eq 1 ]
    [ "$(cat "$OUT/client.err")" = "fifo/client: write $FIFO: Broken pipe (the server quit)" ]
    lacks -q 'sent: after' "$OUT/client.out"
}

@test "fifo/client: a line must fit in PIPE_BUF with its newline: 4095 bytes pass, longer is refused" {
    start_server
    head -c 4095 /dev/zero | tr '\0' x >"$OUT/max"
    { echo short; cat "$OUT/max"; echo; head -c 4096 /dev/zero | tr '\0' y; echo; echo last; } >"$OUT/input"
    run_t "$BIN/fifo/client" <"$OUT/input"
    [ "$status" -eq 1 ]
    [[ $stderr == "fifo/client: line 3 of standard input is 4096 bytes long: not sent"* ]]
    has '^\[client [0-9]+\] closed the FIFO: 3 lines sent, 1 refused$' <<<"$output"
    wait_bg server
    diff <(echo short; cat "$OUT/max"; echo; echo last) <(said "$OUT/server.out")
    # As an operand, the same line is a usage error, checked before anything is opened.
    run_t "$BIN/fifo/client" "$(head -c 4096 /dev/zero | tr '\0' y)"
    [ "$status" -eq 2 ]
    [[ $stderr == "fifo/client: MESSAGE 1 is 4096 bytes long: at most 4095 fit in one atomic write()"* ]]
}

# ---- what the server refuses ----

@test "fifo/server: a regular file at PATH is refused, not clobbered; the client refuses it too" {
    mkdir -m 700 "$IPC_DEMO_DIR"
    echo "precious data" >"$FIFO"
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/server: $FIFO is a regular file, not a FIFO: left as it is (remove it, or choose another path)" ]
    run_t "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/client: $FIFO is a regular file, not a FIFO: left as it is (remove it, or choose another path)" ]
    [ -f "$FIFO" ] && [ "$(cat "$FIFO")" = "precious data" ]
}

@test "fifo/server: a symlink at PATH is neither followed nor removed" {
    mkdir -m 700 "$IPC_DEMO_DIR" "$OUT/elsewhere"
    # A symlink to a FIFO of ours: following it would serve through another name.
    mkfifo -m 600 "$OUT/elsewhere/target"
    ln -s "$OUT/elsewhere/target" "$FIFO"
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/server: $FIFO is a symbolic link (never followed), not a FIFO: left as it is (remove it, or choose another path)" ]
    [ -L "$FIFO" ] && [ -p "$OUT/elsewhere/target" ]
    run_t "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/client: $FIFO is a symbolic link (never followed), not a FIFO: left as it is (remove it, or choose another path)" ]
    rm "$FIFO" "$OUT/elsewhere/target"
    # A dangling symlink: mkfifo must not create its target.
    ln -s "$OUT/elsewhere/new" "$FIFO"
    run_t "$BIN/fifo/server" -p "$FIFO"
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/server: $FIFO is a symbolic link (never followed), not a FIFO: left as it is (remove it, or choose another path)" ]
    [ -L "$FIFO" ] && absent "$OUT/elsewhere/new"
}

@test "fifo/server: a directory, or another user's FIFO, at PATH is refused and left alone" {
    mkdir -m 700 "$IPC_DEMO_DIR" "$FIFO"
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/server: $FIFO is a directory, not a FIFO: left as it is (remove it, or choose another path)" ]
    [ -d "$FIFO" ]
    rmdir "$FIFO"
    [ "$(id -u)" -eq 0 ] || skip "making another user's FIFO needs root"
    mkfifo -m 600 "$FIFO"
    chown 65534 "$FIFO"
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/server: $FIFO is a FIFO of user 65534, not yours: left as it is" ]
    run_t "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/client: $FIFO is a FIFO of user 65534, not yours: left as it is" ]
    [ -p "$FIFO" ]
    rm "$FIFO"
}

@test "fifo/server: a FIFO of yours with a mode other than 0600 is refused and left alone" {
    # A directory of ours that others cannot write to, and a FIFO in it anyone
    # may open: another user could inject lines.  Neither program uses it.
    mkdir -m 755 "$IPC_DEMO_DIR"
    mkfifo -m 666 "$FIFO"
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/server: $FIFO is a FIFO of yours with mode 0666, not 0600: others could write into it. Left as it is: remove it (rm $FIFO) and run again" ]
    run_t "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "fifo/client: $FIFO is a FIFO of yours with mode 0666, not 0600: others could write into it. Left as it is: remove it (rm $FIFO) and run again" ]
    [ -p "$FIFO" ] && [ "$(stat -c %a "$FIFO")" = 666 ]
    rm "$FIFO"
}

@test "fifo/server: a second server on the same path is refused, without waking the first" {
    start_server
    run_t "$BIN/fifo/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "fifo/server: $FIFO is in use: another fifo/server serves it (fuser -v $FIFO shows its pid).  Stop that one first, or give this one another path with -p" ]
    [ -p "$FIFO" ]
    run_client "still served"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    # The first server met exactly one client: the second server's open() did
    # not wake it.
    strip_pids <"$OUT/server.out" | sed -n '3,4p' >"$OUT/got"
    diff - "$OUT/got" <<EXPECTED
[server] a client opened the FIFO: open() returned fd 4
[server] client says: still served
EXPECTED
    [ ! -e "$FIFO" ]
}

# ---- signals and leftovers ----

@test "fifo/server: SIGINT, SIGTERM, SIGHUP while blocked in open() remove the FIFO, exit 0" {
    for sig in INT TERM HUP; do
        start_server
        server=$(bg_child server)
        wait_blocked_in_open "$server"
        kill "-$sig" "$server"
        wait_bg server
        [ "$status" -eq 0 ]
        [ ! -e "$FIFO" ]
        has "^\[server $server\] SIG$sig: removed $FIFO and exiting$" "$OUT/server.out"
    done
}

@test "fifo/server: SIGINT, SIGTERM, SIGHUP while serving remove the FIFO, exit 0" {
    for sig in INT TERM HUP; do
        start_server
        [ -p "$FIFO" ]
        exec {w}<>"$FIFO"
        printf 'hello\n' >&"$w"
        wait_for_line "$OUT/server.out" 'client says: hello$'
        server=$(bg_child server)
        kill "-$sig" "$server"
        wait_bg server
        exec {w}>&-
        [ "$status" -eq 0 ]
        [ ! -e "$FIFO" ]
        has "^\[server $server\] SIG$sig: removed $FIFO and exiting$" "$OUT/server.out"
    done
}

@test "fifo/server: after kill -9 the leftover FIFO is refused by clients, then reused by the next server" {
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    [ -p "$FIFO" ]
    # The dead server's FIFO: the client must not hang on it.
    run --separate-stderr timeout 5 "$BIN/fifo/client" hello
    [ "$status" -eq 1 ]
    [[ $stderr == *"No such device or address"* ]]
    start_server
    has "^\[server [0-9]+\] reusing the FIFO $FIFO \(mode 0600\) that was there: no other server holds it$" \
        "$OUT/server.out"
    run_t "$BIN/fifo/client" "after the crash"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    [ "$(said "$OUT/server.out")" = "after the crash" ]
    [ ! -e "$FIFO" ]
}

@test "fifo/server: its standard output closed (SIGPIPE) still removes the FIFO, exit 1" {
    # The reader of the server's stdout takes one line, then closes the pipe
    # for good and says so.
    start_bg server bash -c '"$1" | { head -n 1 >/dev/null; exec <&-; echo closed >"$2"; }
        exit "${PIPESTATUS[0]}"' _ "$BIN/fifo/server" "$OUT/closed"
    wait_for_line "$OUT/closed" '^closed$'
    # The server's next line raises SIGPIPE: "waiting for a client" if it comes
    # late enough, else "a client opened the FIFO" once this client arrives (or
    # the client finds no FIFO: the server is gone already).
    timeout "$T" "$BIN/fifo/client" hello >/dev/null 2>&1 || true
    wait_bg server
    [ "$status" -eq 1 ]
    has '^fifo/server: got SIGPIPE \(standard output is closed\): removed .* and exiting$' "$OUT/server.err"
    [ ! -e "$FIFO" ]
}

# ---- options ----

@test "fifo: -p PATH puts the FIFO elsewhere, for both programs" {
    mkdir -p "$OUT/other"
    start_bg server "$BIN/fifo/server" -p "$OUT/other/my.fifo"
    wait_for_line "$OUT/server.out" "waiting for a client on $OUT/other/my.fifo\$"
    [ -p "$OUT/other/my.fifo" ] && [ ! -e "$FIFO" ]
    run_t "$BIN/fifo/client" -p "$OUT/other/my.fifo" "over there"
    [ "$status" -eq 0 ]
    wait_bg server
    [ "$status" -eq 0 ]
    [ "$(said "$OUT/server.out")" = "over there" ]
    [ ! -e "$OUT/other/my.fifo" ]
}

@test "fifo: -v traces the calls on stderr, each once, stdout unchanged" {
    start_server -v
    run_client -v "abc"
    [ "$status" -eq 0 ]
    has "^\[client [0-9]+\] open\(\"$FIFO\", O_WRONLY\|O_NONBLOCK\|O_NOFOLLOW\) = 3$" <<<"$stderr"
    # The line's one write(), shown once.
    [ "$(grep -cE '\] write\(' <<<"$stderr")" -eq 1 ]
    has '^\[client [0-9]+\] write\(3, 4\) = 4$' <<<"$stderr"
    has '^\[client [0-9]+\] close\(3\) = 0$' <<<"$stderr"
    lacks -q ') = ' <<<"$output"
    wait_bg server
    has "^\[server [0-9]+\] mkfifo\(\"$FIFO\", 0600\) = 0$" "$OUT/server.err"
    has "^\[server [0-9]+\] open\(\"$FIFO\", O_RDONLY\|O_NOFOLLOW\) = 4$" "$OUT/server.err"
    has '^\[server [0-9]+\] read\(4, 4096\) = 4$' "$OUT/server.err"
    has "^\[server [0-9]+\] unlink\(\"$FIFO\"\) = 0$" "$OUT/server.err"
    lacks -q ') = ' "$OUT/server.out"
}

@test "fifo: -d paces the client's lines and the server's" {
    start_server -d 100
    start=$(date +%s%N)
    run_t "$BIN/fifo/client" -d 100 one two three
    [ "$status" -eq 0 ]
    [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 300 ]
    wait_bg server
    [ "$status" -eq 0 ]
    [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 400 ]
}
