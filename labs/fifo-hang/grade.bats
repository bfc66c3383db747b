#!/usr/bin/env bats
# labs/fifo-hang: with a server, the client delivers its stdin; with none, it
# fails at once (never waits in open()) and says so; once open, its writes
# still wait for a slow server (the FIFO is blocking again).
# make grade LAB=fifo-hang [FILE=path]

load ../lib

SERVER=

teardown() {
    [[ -z $SERVER ]] || { kill -KILL "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
    release_stdin
    stop_prog
}

# Where open() of a FIFO waits for the other side.
IN_OPEN='wait_for_partner|fifo_open'

# start_server [slow]: a reader of $OUT/fifo into $OUT/got, asleep in its open()
# until a writer comes; "slow" reads nothing until $OUT/go exists.
start_server() {
    mkfifo "$OUT/fifo"
    if [[ ${1-} == slow ]]; then
        bash -c 'exec <"$1"; until [[ -e $2 ]]; do sleep 0.02; done; exec cat' _ "$OUT/fifo" "$OUT/go" \
            >"$OUT/got" 3>&- 7>&- &
    else
        cat "$OUT/fifo" >"$OUT/got" 3>&- 7>&- &
    fi
    SERVER=$!
    wait_until "the server to wait in open()" asleep_in "$SERVER" "$IN_OPEN"
}

# server_ends: the client has exited; the server must see the end of file within
# T seconds (a client that never opened the FIFO, or left a write end to a child,
# would keep it waiting for ever).
server_ends() {
    wait_until "the server to end" gone "$SERVER" 2>/dev/null ||
        fail "the client exited, but the server never saw the end of the data: did the client open the FIFO, and close every write end (a child of it too)?"
    wait "$SERVER"
    SERVER=
}

gone() {
    ! read_proc "$1" || [[ $STATE == Z ]]
}

# client_ends: watch the client; it must not stay blocked.
client_ends() {
    watch_prog
    if ((STUCK)); then
        local main
        main=$(main_pid) && echo "the client (pid $main) is asleep in the kernel's $(wchan_of "$main")" >&2
        fail "$1"
    fi
    ((status != 124)) || fail "the client did not end within ${T}s"
}

@test "fifo-hang: a server is reading: every byte of stdin arrives; exit status 0" {
    start_server
    printf 'one\ntwo\nthree\n' >"$OUT/input"
    start_prog "$OUT/fifo" <"$OUT/input"
    client_ends "the client is stuck although a server is reading"
    ((status == 0)) || fail "the client exited with status $status (expected 0); its stderr: $(head -c 300 "$OUT/err")"
    server_ends
    cmp -s "$OUT/input" "$OUT/got" || fail "the server received '$(head -c 100 "$OUT/got")', not what the client read on stdin"
}

@test "fifo-hang: no server, or no FIFO at all: the client fails at once, says so, exit status 1" {
    mkfifo "$OUT/fifo"
    start_prog "$OUT/fifo" </dev/null
    client_ends "with no server, the client is blocked in open(): open(O_WRONLY) of a FIFO waits until some process opens it for reading - with no server, forever. Make the open fail at once instead (O_NONBLOCK: ENXIO) and say that the server is not running"
    ((status != 0)) || fail "with no server the client exited 0: whatever it wrote went nowhere"
    ((status == 1)) || fail "with no server the client exited with status $status: a runtime failure is status 1"
    grep -qiE 'server|reader' "$OUT/err" ||
        fail "with no server the client exited 1, but its message does not say that no server is running: '$(head -c 200 "$OUT/err")'"
    [[ -p $OUT/fifo ]] || fail "the client removed or replaced the server's FIFO"

    # No FIFO at all: the same, and nothing created.
    rm "$OUT/fifo"
    start_prog "$OUT/fifo" </dev/null
    client_ends "with no FIFO, the client is stuck"
    ((status == 1)) || fail "with no FIFO the client exited with status $status (expected 1)"
    [[ -s $OUT/err ]] || fail "with no FIFO the client exited 1 without a word on stderr"
    [[ ! -e $OUT/fifo && ! -L $OUT/fifo ]] || fail "with no FIFO the client created $(stat -c %F "$OUT/fifo") there: only the server makes it"
}

@test "fifo-hang: a slow server: the client's write()s wait for it (no EAGAIN); every byte arrives" {
    start_server slow
    seq 40000 >"$OUT/input"     # more than a FIFO holds (64 KiB)
    start_prog "$OUT/fifo" <"$OUT/input"
    wait_until "the client to fill the FIFO" client_waits_or_ended || true
    touch "$OUT/go"
    client_ends "the client is stuck"
    ((status == 0)) || fail "with a server that reads late, the client exited with status $status; its stderr: '$(head -c 200 "$OUT/err")'. Is the fd still non-blocking after open()? (fcntl F_SETFL)"
    server_ends
    cmp -s "$OUT/input" "$OUT/got" || fail "the server did not receive exactly what the client read on stdin"
}

client_waits_or_ended() {
    local main
    main=$(main_pid) || return 0    # gone: ended
    asleep_in "$main" 'pipe_write|pipe_wait'
}
