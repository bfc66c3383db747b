#!/usr/bin/env bats
# socket/: the Unix domain socket server and client, and fd passing (socket/pass).

load helpers
load socket-helpers

# ---- the conversation ----

@test "socket: a conversation both ways: each line's reply comes back on the same connection" {
    start_server
    [ -S "$SOCK" ]
    [ "$(stat -c %a "$SOCK")" = 600 ]
    run_t "$BIN/socket/client" hello "how are you?"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$(strip_pids <<<"$output")" = "[client] connected to $SOCK (fd 3)
[client] sent: hello
[client] reply: HELLO
[client] sent: how are you?
[client] reply: HOW ARE YOU?
[client] sent end of file (shutdown), and the server closed its side: 2 lines sent, 2 replies" ]
    wait_for_line "$OUT/server.out" 'client 1 finished'
    [ "$(strip_pids <"$OUT/server.out" | sed -E 's/pid [0-9]+/pid N/')" = "[server] bound to $SOCK: bind() created the socket file (mode 0600)
[server] listening on $SOCK (fd 3): clients connect() to it
[server] client 1 connected (fd 4): pid N, uid $(id -u), gid $(id -g)
[server] client 1 says: hello
[server] client 1 says: how are you?
[server] client 1 finished (read() returned 0, every reply written): closed fd 4" ]
    stop_server_with TERM
}

@test "socket: SO_PEERCRED: the server names each client's pid, uid and gid as the kernel saw them" {
    start_server
    run_t "$BIN/socket/client" one
    [ "$status" -eq 0 ]
    local pid
    pid=$(pid_of_output)
    [ -n "$pid" ]
    run_t "$BIN/socket/client" two
    wait_for_line "$OUT/server.out" 'client 2 finished'
    has "^\[server [0-9]+\] client 1 connected \(fd [0-9]+\): pid $pid, uid $(id -u), gid $(id -g)$" "$OUT/server.out"
    has "^\[server [0-9]+\] client 2 connected \(fd [0-9]+\): pid $(pid_of_output), uid " "$OUT/server.out"
}

# 1000 lines each: tests/stress/socket.bats.
@test "socket: 8 clients at once, 30 lines each: every client gets exactly its own replies, in order (1000 each: tests/stress/socket.bats)" {
    start_server
    local i
    for i in 1 2 3 4 5 6 7 8; do
        seq 30 | sed "s/^/client $i line /" >"$OUT/in.$i"
        tr a-z A-Z <"$OUT/in.$i" >"$OUT/want.$i"
    done
    for i in 1 2 3 4 5 6 7 8; do
        start_bg_in client$i "$OUT/in.$i" "$BIN/socket/client"
    done
    for i in 1 2 3 4 5 6 7 8; do
        wait_bg client$i
        [ "$status" -eq 0 ]
        replies "$OUT/client$i.out" >"$OUT/got.$i"
        cmp "$OUT/want.$i" "$OUT/got.$i"
        grep -q '30 lines sent, 30 replies$' "$OUT/client$i.out"
    done
    [ "$(grep -c ' says: client ' "$OUT/server.out")" -eq 240 ]
    [ "$(grep -c ' connected (fd ' "$OUT/server.out")" -eq 8 ]
}

@test "socket: one process serves them all: a connected client that says nothing holds up nobody" {
    start_server
    start_bg quiet "$BIN/socket/client" -d 15000 "late line"
    wait_for_line "$OUT/server.out" 'client 1 connected'
    run_t "$BIN/socket/client" quick
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = QUICK ]
    grep -q 'client 2 says: quick' "$OUT/server.out"
    lacks -q 'client 1 says' "$OUT/server.out"
    [ -e "/proc/$(bg_child quiet)" ]
}

@test "socket: a client that never reads its replies stalls only itself; when it vanishes the server goes on" {
    start_server -v
    # 1 MB of lines, written without reading a reply: far more than the
    # socket buffers of both directions hold.
    head -c 1000000 /dev/zero | tr '\0' x | fold -w 63 >"$OUT/flood"
    start_bg_in flood "$OUT/flood" "$RAW" "$SOCK"
    # The server owes it replies it does not read: its write() fails with
    # EAGAIN, and from then on it waits for POLLOUT, reading nothing more from it.
    wait_for_line "$OUT/server.err" 'write\(4, [0-9]+\) = -1 EAGAIN$'
    run_t "$BIN/socket/client" meanwhile
    [ "$status" -eq 0 ]
    [[ $output == *"reply: MEANWHILE"* ]]
    kill -KILL "$(bg_child flood)"
    wait_for_line "$OUT/server.out" 'client 1 vanished \(write: Broken pipe\): closed fd 4$'
    run_t "$BIN/socket/client" after
    [ "$status" -eq 0 ]
    [[ $output == *"reply: AFTER"* ]]
    stop_server_with TERM
}

@test "socket: a byte stream keeps no boundaries: lines cut across reads, several in one read" {
    start_server -v
    # Each piece in one write(): cat, not the shell's printf, which may flush
    # at every newline.
    printf 'hel' >"$OUT/piece1"
    printf 'lo\nwor' >"$OUT/piece2"
    printf 'ld\nthree\nfour\n' >"$OUT/piece3"
    start_raw
    cat "$OUT/piece1" >&"$raw_in"
    wait_for_line "$OUT/server.err" 'read\(4, 4096\) = 3$'
    cat "$OUT/piece2" >&"$raw_in"
    wait_for_line "$OUT/server.err" 'read\(4, 4096\) = 6$'
    cat "$OUT/piece3" >&"$raw_in"
    wait_for_line "$OUT/server.err" 'read\(4, 4096\) = 14$'
    end_raw
    [ "$(cat "$OUT/raw.out")" = "HELLO
WORLD
THREE
FOUR" ]
    [ "$(sed -n 's/^\[server [0-9]*\] client 1 says: //p' "$OUT/server.out")" = "hello
world
three
four" ]
}

@test "socket: a line of 4095 bytes comes back whole; a longer one gets a note, and the talk goes on" {
    start_server
    local ok long
    ok=$(head -c 4095 /dev/zero | tr '\0' a)
    long=$(head -c 5000 /dev/zero | tr '\0' b)
    run_t "$BIN/socket/client" "$ok" "$long" after
    [ "$status" -eq 0 ]
    replies <(echo "$output") >"$OUT/got"
    [ "$(sed -n 1p "$OUT/got")" = "$(tr a A <<<"$ok")" ]
    [ "$(sed -n 2p "$OUT/got")" = "(your line of 5000 bytes is longer than 4095: not echoed)" ]
    [ "$(sed -n 3p "$OUT/got")" = AFTER ]
    wait_for_line "$OUT/server.out" 'client 1 finished'
    grep -q 'client 1 sent a line of 5000 bytes: longer than 4095, answered with a note$' "$OUT/server.out"
}

@test "socket: lines of standard input; a last line without newline; one too long for the client is not sent" {
    start_server
    printf 'one\ntwo\nlast' >"$OUT/in"
    run_t "$BIN/socket/client" <"$OUT/in"
    [ "$status" -eq 0 ]
    [ "$(replies <(echo "$output"))" = "ONE
TWO
LAST" ]
    { echo short; head -c 5000 /dev/zero | tr '\0' x; echo; echo after; } >"$OUT/in"
    run_t "$BIN/socket/client" <"$OUT/in"
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/client: line 2 of standard input is longer than 4095 bytes: not sent" ]
    [ "$(replies <(echo "$output"))" = "SHORT
AFTER" ]
}

@test "socket: -f shows the listening socket, then one more fd per connection, gone once closed" {
    start_server -f
    has '^\[server [0-9]+\] after listen\(\): fd 3 -> socket:\[[0-9]+\]$' "$OUT/server.out"
    run_t "$BIN/socket/client" -f hello
    [ "$status" -eq 0 ]
    [[ $output =~ after\ connect\(\):\ fd\ 3\ -\>\ socket:\[ ]]
    wait_for_line "$OUT/server.out" 'after close\(\): fd 3 '
    local listening conn
    listening=$(sed -n 's/.*after accept(): fd 3 -> socket:\[\([0-9]*\)\]$/\1/p' "$OUT/server.out")
    conn=$(sed -n 's/.*after accept(): fd 4 -> socket:\[\([0-9]*\)\]$/\1/p' "$OUT/server.out")
    [ -n "$listening" ] && [ -n "$conn" ] && [ "$listening" != "$conn" ]
    lacks -q 'after close(): fd 4 ' "$OUT/server.out"
}

# ---- the abstract namespace ----

@test "socket: -a binds an abstract name: no file anywhere, nothing to remove" {
    start_server -a
    local name
    name=$(sed -n 's/.*listening on \(@[^ ]*\) (fd 3).*/\1/p' "$OUT/server.out")
    [[ $name == @ipc-demos-*-socket ]]
    [ -z "$(find "$BATS_TEST_TMPDIR" -type s)" ]
    grep -q " $name\$" /proc/net/unix
    run_t "$BIN/socket/client" -a hello
    [ "$status" -eq 0 ]
    [[ $output == *"reply: HELLO"* ]]
    # A second server cannot bind the same name.
    run_t "$BIN/socket/server" -a
    [ "$status" -eq 1 ]
    [[ $stderr == "socket/server: bind $name: Address already in use (another server is bound to that name"* ]]
    kill -TERM "$(bg_child server)"
    wait_bg server
    [ "$status" -eq 0 ]
    grep -q "closed the listening socket: the name $name went with it$" "$OUT/server.out"
    lacks -q " $name\$" /proc/net/unix
}

@test "socket: -a with no server: connect() is refused at once, with a hint" {
    run_t "$BIN/socket/client" -a -p no-such-name hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/client: connect @no-such-name: Connection refused (nobody is bound to that abstract name: start socket/server -a first)" ]
}

# ---- no server, leftovers, things that are not ours ----

@test "socket: no server: connect() fails at once with ENOENT and a hint, exit 1" {
    run_t "$BIN/socket/client" hello
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "socket/client: connect $SOCK: No such file or directory (start socket/server first)" ]
}

@test "socket: a server killed with -9 leaves its file: clients are refused (explained), the next server replaces it" {
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    [ -S "$SOCK" ]
    run_t "$BIN/socket/client" hello
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/client: connect $SOCK: Connection refused (a socket file nobody accepts on: its server was killed; start socket/server, which replaces it)" ]
    start_server
    has "^\[server [0-9]+\] the socket file $SOCK was left by a killed run \(nobody uses it\): removing it$" "$OUT/server.out"
    run_t "$BIN/socket/client" hello
    [ "$status" -eq 0 ]
    stop_server_with INT
}

@test "socket: a second server never takes over a live server's socket file" {
    start_server
    local pid
    pid=$(bg_child server)
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "socket/server: the socket file $SOCK is in use: its creator, pid $pid, is still running.  Stop it first: kill $pid" ]
    run_t "$BIN/socket/client" still
    [ "$status" -eq 0 ]
    [[ $output == *"reply: STILL"* ]]
}

@test "socket: a symbolic link at the path is refused and never followed" {
    mkdir -m 700 -p "$IPC_DEMO_DIR"
    echo precious >"$OUT/target"
    ln -s "$OUT/target" "$SOCK"
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/server: $SOCK is a symbolic link (never followed), not a socket: left as it is (remove it, or choose another path with -p)" ]
    [ -L "$SOCK" ] && [ "$(cat "$OUT/target")" = precious ]
    # Not even a link to a dead server's socket file elsewhere: it stays too.
    start_server -p "$OUT/elsewhere"
    kill -KILL "$(bg_child server)"
    wait_bg server
    ln -sfn "$OUT/elsewhere" "$SOCK"
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [[ $stderr == *"is a symbolic link (never followed), not a socket"* ]]
    [ -L "$SOCK" ] && [ -S "$OUT/elsewhere" ]
    rm "$SOCK" "$OUT/elsewhere"
}

@test "socket: a regular file or a directory at the path is left as it is" {
    mkdir -m 700 -p "$IPC_DEMO_DIR"
    echo data >"$SOCK"
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/server: $SOCK is a regular file, not a socket: left as it is (remove it, or choose another path with -p)" ]
    [ "$(cat "$SOCK")" = data ]
    rm "$SOCK"
    mkdir "$SOCK"
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [[ $stderr == *"$SOCK is a directory, not a socket"* ]]
    [ -d "$SOCK" ]
}

@test "socket: another user's socket file is refused and not touched" {
    [[ $(id -u) -eq 0 ]] || skip "only root can give a file to another user (chown): run as root to check it"
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    chown 65534 "$SOCK"            # nobody's now, as if nobody's server had been killed
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [ "${lines[0]}" = "" ]
    [[ $stderr == "socket/server: the socket file $SOCK is not ours (another user, or another mode than 0600): not touched."* ]]
    [[ $stderr == *"If it is yours to remove: rm $SOCK" ]]
    [ "$(stat -c %u "$SOCK")" = 65534 ]
    rm "$SOCK"
}

@test "socket: a socket file of ours with another mode than 0600 is refused" {
    start_server
    kill -KILL "$(bg_child server)"
    wait_bg server
    chmod 666 "$SOCK"
    run_t "$BIN/socket/server"
    [ "$status" -eq 1 ]
    [[ $stderr == *"the socket file $SOCK is not ours (another user, or another mode than 0600): not touched."* ]]
    [ "$(stat -c %a "$SOCK")" = 666 ]
    rm "$SOCK"
}

@test "socket: -p that does not fit in sun_path is a usage error, nothing created" {
    run_t "$BIN/socket/server" -p "/tmp/$(head -c 120 /dev/zero | tr '\0' d)"
    [ "$status" -eq 2 ]
    [[ $stderr == "socket/server: -p: '/tmp/ddd"*"' does not fit in a socket address (1 to 107 bytes)"* ]]
    absent "$IPC_DEMO_DIR"
}

# ---- stop signals ----

@test "socket: SIGINT, SIGTERM, SIGHUP while the server waits: the file goes, exit 0" {
    local sig
    for sig in INT TERM HUP; do
        start_server
        stop_server_with "$sig"
    done
}

@test "socket: a stop signal mid-line, with clients connected: their connections close, the file goes" {
    start_server
    start_bg quiet "$BIN/socket/client" -d 15000 "never sent"
    wait_for_line "$OUT/server.out" 'client 1 connected'
    start_raw
    printf 'half a li' >&"$raw_in"
    wait_for_line "$OUT/server.out" 'client 2 connected'
    stop_server_with TERM
    grep -q 'closed 2 connections still open$' "$OUT/server.out"
    end_raw
    [ ! -s "$OUT/raw.out" ]
}

@test "socket: a stop signal during the -d pause ends it at once; the reply in hand still goes out" {
    start_server -v -d 15000
    start_bg talker "$BIN/socket/client" x
    wait_for_line "$OUT/server.err" 'read\(4, 4096\) = 2$'
    local start=$SECONDS
    stop_server_with TERM
    ((SECONDS - start < 10))
    wait_bg talker
    [ "$status" -eq 0 ]
    [ "$(replies "$OUT/talker.out")" = X ]
}

# The signal goes to the server's own pid as soon as it exists: before its
# exec, before it blocks the stop signals, or later.  (Not to timeout(1), which
# was seen to exit on an early signal and leave its child running; not SIGINT,
# which a background job of a non-interactive shell starts with ignored.)
@test "socket: a stop signal at the very start leaves no file and no process" {
    local sig pid
    for sig in TERM HUP TERM HUP; do
        start_bg server "$BIN/socket/server"
        pid=$(bg_child server)
        kill -"$sig" "$pid"
        wait_bg server
        absent "$SOCK"
        exited "$pid"
    done
}

# ---- socket/pass: passing an open fd ----

@test "pass: a file's fd: another number over there, one open file: the receiver reads on from the sender's offset" {
    printf 'abcdefghijklmnopqrstuvwxyz0123456789\n' >"$OUT/alpha"
    start_recv -f
    run_t "$BIN/socket/pass" -f send file "$OUT/alpha"
    [ "$status" -eq 0 ]
    local sfd rfd
    sfd=$(sed -nE 's/.*\] opened .* \(fd ([0-9]+)\) and read 16 bytes: abcdefghijklmnop$/\1/p' <<<"$output")
    [ -n "$sfd" ]
    [[ $output == *"] fd $sfd is at offset 16"* ]]
    [[ $output == *"after sendmsg(): fd $sfd -> $OUT/alpha"* ]]
    [[ $output == *"the receiver is done: our fd $sfd is now at offset 32: its read() moved our offset (one open file, two fds)"* ]]
    wait_bg recv
    [ "$status" -eq 0 ]
    rfd=$(sed -nE "s/.*\] received fd ([0-9]+): the sender's fd $sfd, a file, .*/\1/p" "$OUT/recv.out")
    [ -n "$rfd" ] && [ "$rfd" != "$sfd" ]
    grep -q "after recvmsg(): fd $rfd -> $OUT/alpha$" "$OUT/recv.out"
    grep -q "fd $rfd is at offset 16: where the sender left it$" "$OUT/recv.out"
    grep -q "read 16 bytes from fd $rfd: qrstuvwxyz012345$" "$OUT/recv.out"
    grep -q "fd $rfd is now at offset 32, the sender's fd too: one open file$" "$OUT/recv.out"
    grep -q "removed $PASS$" "$OUT/recv.out"
}

@test "pass: /proc/PID/fdinfo agrees: the sender's fd and the receiver's show one position, one inode" {
    printf 'abcdefghijklmnopqrstuvwxyz0123456789\n' >"$OUT/alpha"
    start_recv -d 15000 -f
    start_bg send "$BIN/socket/pass" send file "$OUT/alpha"
    # The receiver has the fd and pauses before it reads: both sit at 16.
    wait_for_line "$OUT/recv.out" "after recvmsg\(\): fd 5 -> $OUT/alpha\$"
    local recv send
    recv=$(bg_child recv)
    send=$(bg_child send)
    [ "$(grep '^pos:' "/proc/$send/fdinfo/3")" = "$(printf 'pos:\t16')" ]
    [ "$(grep '^pos:' "/proc/$recv/fdinfo/5")" = "$(printf 'pos:\t16')" ]
    [ "$(grep '^ino:' "/proc/$send/fdinfo/3")" = "$(grep '^ino:' "/proc/$recv/fdinfo/5")" ]
    [ "$(grep '^ino:' "/proc/$send/fdinfo/3")" = "$(printf 'ino:\t%s' "$(stat -c %i "$OUT/alpha")")" ]
}

@test "pass: a pipe's read end goes to a process that never forked from the writer" {
    start_recv -f
    run_t "$BIN/socket/pass" -f send pipe "first line"
    [ "$status" -eq 0 ]
    wait_bg recv
    [ "$status" -eq 0 ]
    [ "$(sed -n 's/^\[recv [0-9]*\] read from the pipe: //p' "$OUT/recv.out")" = "first line
written after the read end was sent" ]
    grep -q 'read() returned 0: the sender closed the write end$' "$OUT/recv.out"
    # The same pipe in both tables: the sender's write end, the receiver's read end.
    local w r sender receiver
    w=$(sed -nE 's/.*made a pipe \(read end fd [0-9]+, write end fd ([0-9]+)\).*/\1/p' <<<"$output")
    r=$(sed -nE "s/.*received fd ([0-9]+): the sender's fd [0-9]+, a pipe,.*/\1/p" "$OUT/recv.out")
    sender=$(sed -nE "s/.*after sendmsg\(\): fd $w -> (pipe:\[[0-9]+\])\$/\1/p" <<<"$output")
    receiver=$(sed -nE "s/.*after recvmsg\(\): fd $r -> (pipe:\[[0-9]+\])\$/\1/p" "$OUT/recv.out")
    [ -n "$w" ] && [ -n "$r" ] && [ "$w" != "$r" ]
    [ -n "$sender" ] && [ "$sender" = "$receiver" ]
}

@test "pass: a sealed memfd: shared memory with no name, mapped once the seals are checked" {
    start_recv -f
    run_t "$BIN/socket/pass" -f send memfd "in memory only"
    [ "$status" -eq 0 ]
    [[ $output =~ after\ sendmsg\(\):\ fd\ [0-9]+\ -\>\ /memfd:pass\ \(deleted\) ]]
    wait_bg recv
    [ "$status" -eq 0 ]
    has 'after recvmsg\(\): fd [0-9]+ -> /memfd:pass \(deleted\)$' "$OUT/recv.out"
    grep -q 'the memfd is sealed (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE): 14 bytes nobody can change$' "$OUT/recv.out"
    grep -q '\] mapped it: in memory only$' "$OUT/recv.out"
}

@test "pass: a memfd has no name: killed with -9 on both sides, nothing is left anywhere" {
    start_recv -d 15000 -f
    start_bg send "$BIN/socket/pass" send memfd "kept by fds alone"
    wait_for_line "$OUT/recv.out" 'after recvmsg\(\): fd [0-9]+ -> /memfd:pass'
    local recv send fd
    recv=$(bg_child recv)
    send=$(bg_child send)
    fd=$(sed -nE 's/.*after recvmsg\(\): fd ([0-9]+) -> \/memfd:pass.*/\1/p' "$OUT/recv.out")
    [ "$(readlink "/proc/$recv/fd/$fd")" = "/memfd:pass (deleted)" ]
    # No name in any namespace: nothing in $IPC_DEMO_DIR (the socket file went
    # once the sender connected), nothing in /dev/shm, no System V object.
    [ -z "$(ls -A "$IPC_DEMO_DIR")" ]
    [ -z "$(find /dev/shm -maxdepth 1 \( -name '*memfd*' -o -name '*pass*' \))" ]
    kill -KILL "$recv" "$send"
    wait_bg recv
    wait_bg send
    [ -z "$(ls -A "$IPC_DEMO_DIR")" ]
}

@test "pass: fds nobody asked for are closed unused; a cut control message (MSG_CTRUNC) is refused" {
    local i
    for i in 1 2 3 4 5; do echo "file $i" >"$OUT/f$i"; done
    start_recv -f
    run_t "$FDS" "$PASS" 9 "$OUT/f1" "$OUT/f2"
    [ "$status" -eq 0 ]
    [[ $output == *"reply: done"* ]]
    wait_bg recv
    [ "$status" -eq 0 ]
    has '\] closed fd [0-9]+: one more fd than the one we take, never used$' "$OUT/recv.out"
    grep -q "after recvmsg(): fd [0-9]* -> $OUT/f1$" "$OUT/recv.out"
    lacks -q "$OUT/f2" "$OUT/recv.out"
    grep -q '\] read 7 bytes from fd [0-9]*: file 1\\x0a$' "$OUT/recv.out"

    # Five fds, where the receiver's buffer holds two: the kernel drops three.
    start_recv -v
    run_t "$FDS" "$PASS" 9 "$OUT/f1" "$OUT/f2" "$OUT/f3" "$OUT/f4" "$OUT/f5"
    wait_bg recv
    [ "$status" -eq 1 ]
    grep -q '^socket/pass: the control message was cut short (MSG_CTRUNC): the sender sent more fds than fit in our buffer, and the kernel dropped them; the 2 that arrived are closed, none used$' "$OUT/recv.err"
    [ "$(grep -cE '^\[recv [0-9]+\] closed fd [0-9]+: one more fd' "$OUT/recv.out")" -eq 2 ]
    lacks -q 'received fd' "$OUT/recv.out"
}

@test "pass: a message with no fd, an fd of another kind, an unsealed or half-sealed memfd, a message that is not a number are refused" {
    start_recv
    run_t "$FDS" "$PASS" 9
    wait_bg recv
    [ "$status" -eq 1 ]
    [ "$(cat "$OUT/recv.err")" = "socket/pass: the sender's message came with no fd" ]

    start_recv
    run_t "$FDS" "$PASS" 9 /dev/null
    wait_bg recv
    [ "$status" -eq 1 ]
    has '^socket/pass: fd [0-9]+ is neither a file, a pipe nor a memfd: refused$' "$OUT/recv.err"

    start_recv
    run_t "$FDS" "$PASS" 9 unsealed-memfd
    wait_bg recv
    [ "$status" -eq 1 ]
    [ "$(cat "$OUT/recv.err")" = "socket/pass: the memfd's seals are none: without F_SEAL_WRITE and F_SEAL_SHRINK its sender could change or shrink it under us: refused, not mapped" ]

    start_recv
    run_t "$FDS" "$PASS" 9 write-sealed-memfd
    wait_bg recv
    [ "$status" -eq 1 ]
    grep -q "^socket/pass: the memfd's seals are F_SEAL_WRITE: without" "$OUT/recv.err"
    lacks -q 'mapped it' "$OUT/recv.out"

    echo text >"$OUT/f1"
    start_recv
    run_t "$FDS" "$PASS" "not a number" "$OUT/f1"
    wait_bg recv
    [ "$status" -eq 1 ]
    [ "$(cat "$OUT/recv.err")" = "socket/pass: the sender's message is not its number for the fd: refused" ]
}

@test "pass: no receiver: the sender fails at once with a hint" {
    echo x >"$OUT/f"
    run_t "$BIN/socket/pass" send file "$OUT/f"
    [ "$status" -eq 1 ]
    [ "$stderr" = "socket/pass: connect $PASS: No such file or directory (start socket/pass recv first)" ]
}

@test "pass: a stop signal while waiting removes the socket file; a receiver killed with -9 leaves one the next replaces" {
    start_recv
    local pid
    pid=$(bg_child recv)
    kill -TERM "$pid"
    wait_bg recv
    [ "$status" -eq 0 ]
    grep -q "got SIGTERM: stopping$" "$OUT/recv.out"
    grep -q "removed $PASS$" "$OUT/recv.out"
    absent "$PASS"

    start_recv
    kill -KILL "$(bg_child recv)"
    wait_bg recv
    [ -S "$PASS" ]
    start_recv
    grep -q "the socket file $PASS was left by a killed run (nobody uses it): removing it$" "$OUT/recv.out"
    kill -HUP "$(bg_child recv)"
    wait_bg recv
    [ "$status" -eq 0 ]
    absent "$PASS"
}

@test "pass: usage errors name what is wrong and create nothing" {
    local args
    for args in "" "fetch" "send" "send socket" "send file" "recv extra" "send pipe a b"; do
        run_t "$BIN/socket/pass" $args
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [[ $stderr == "socket/pass: "* ]]
        [[ $stderr == *"usage: socket/pass "* ]]
    done
    absent "$IPC_DEMO_DIR"
}
