# tests/tracecheck.awk - does -v tell the truth?  Holds a program's trace lines
# (stderr, "[ROLE PID] call(args) = result") against what strace -f saw it do.
#
#   awk -f tests/tracecheck.awk -v set="pipe fork close read write waitpid" \
#       -v dir="$IPC_DEMO_DIR" -v root="$ROOT" [-v bin="$BIN"] \
#       [-v paths="/dev/shm/ /other/"] [-v fds="0"] \
#       STRACE_LOG TRACE_LOG
#
# For each process, in order, the calls strace saw that belong to the lesson must
# be exactly the trace lines whose call is in SET: same call (strace's names
# mapped: pipe2 -> pipe, clone -> fork, wait4 -> waitpid, mknodat -> mkfifo,
# openat -> open, newfstatat -> stat/lstat/fstat, dup3 -> dup2, semtimedop ->
# semop, signalfd4 -> signalfd, mq_getsetattr -> mq_getattr, ...), same first
# argument, same result (-1 and the errno name on failure).
# A call belongs to the lesson when its name is in SET and
#   - it takes an fd: the fd came from such a call (or is in FDS, or was inherited
#     across fork, or kept across an exec of one of our programs);
#   - it takes a path: the path is under DIR or one of PATHS;
#   - munmap: the address came from such an mmap;
#   - otherwise (fork, kill, shmget, poll: its result only...): always.
# A call that never returned (its process was killed in it), or that a signal
# interrupted and the kernel made again unseen, is left out, and a
# process that execs a program that is not ours (not the command run, nor under
# ROOT or BIN) is followed no further.
# Prints what differs and exits 1; prints "ok: N calls" and exits 0 otherwise.

function canonical(name, args) {
    if (name == "pipe2") return "pipe"
    if (name == "clone" || name == "clone3" || name == "vfork") return "fork"
    if (name == "wait4" || name == "waitid") return "waitpid"
    if (name == "mknodat" || name == "mknod") return "mkfifo"
    if (name == "openat") return "open"
    if (name == "unlinkat") return "unlink"
    if (name == "dup3") return "dup2"
    if (name == "accept4") return "accept"
    if (name == "sendto" && args ~ /, NULL, 0$/) return "send"
    if (name == "recvfrom" && args ~ /, NULL, NULL$/) return "recv"
    if (name == "semtimedop" && args ~ /, NULL$/) return "semop"
    if (name == "mq_timedsend" && args ~ /, NULL$/) return "mq_send"
    if (name == "mq_timedreceive" && args ~ /, NULL$/) return "mq_receive"
    if (name == "signalfd4") return "signalfd"
    if (name == "mq_getsetattr" && args ~ /^[0-9]+, NULL,/) return "mq_getattr"
    if (name == "newfstatat" || name == "fstatat64") {
        if (args ~ /^AT_FDCWD/) return args ~ /AT_SYMLINK_NOFOLLOW/ ? "lstat" : "stat"
        return "fstat"
    }
    return name
}

# Split ARGS at top-level commas (not inside "...", [...], {...}) into A; returns the count.
function split_args(args, a,    n, i, c, depth, quoted, cur) {
    n = 0; depth = 0; quoted = 0; cur = ""
    for (i = 1; i <= length(args); i++) {
        c = substr(args, i, 1)
        if (quoted) {
            if (c == "\\") { cur = cur c substr(args, i + 1, 1); i++; continue }
            if (c == "\"") quoted = 0
        } else if (c == "\"") quoted = 1
        else if (c == "[" || c == "{" || c == "(") depth++
        else if (c == "]" || c == "}" || c == ")") depth--
        else if (c == "," && depth == 0) {
            a[++n] = trim(cur); cur = ""; continue
        }
        cur = cur c
    }
    if (trim(cur) != "" || n > 0) a[++n] = trim(cur)
    return n
}

function trim(s) {
    sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
    return s
}

function hexval(s,    i, v) {
    v = 0
    s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}

# A first argument or a result as one comparable word.
function norm(s) {
    s = trim(s)
    if (s ~ /^".*"(\.\.\.)?$/) { sub(/^"/, "", s); sub(/"(\.\.\.)?$/, "", s) }
    if (s ~ /^0x[0-9a-fA-F]+$/) s = sprintf("%.0f", hexval(s))
    if (s == "IPC_PRIVATE") s = "0"
    return s
}

function is_fd_call(c) {
    return c ~ /^(read|write|close|fcntl|fstat|dup|dup2|sendmsg|recvmsg|send|recv|sendto|recvfrom|accept|bind|listen|connect|getsockopt|setsockopt|shutdown|ftruncate|fchmod|fchown|mq_send|mq_receive|mq_timedsend|mq_timedreceive|mq_notify|mq_getsetattr|lseek|readv|writev|splice|tee|getpeername|getsockname|fsync|flock)$/
}

function is_path_call(c) {
    return c ~ /^(open|mkfifo|stat|lstat|unlink|chmod|chown|rename|link|symlink|readlink|truncate|access|mkdir|rmdir)$/
}

function under(path,    n, i, p) {
    if (dir != "" && index(path, dir "/") == 1) return 1
    n = split(paths, p, " ")
    for (i = 1; i <= n; i++) if (p[i] != "" && index(path, p[i]) == 1) return 1
    return 0
}

function wanted(c) { return (" " set " ") ~ (" " c " ") }

# Call I of PID was interrupted by a signal (strace: "= ? ERESTART...").  Did the
# program see -1 EINTR?  Only when a handler ran and its rt_sigreturn gave EINTR
# back (of nested handlers', the last).  A signal with no handler (SIGCHLD), a handler with SA_RESTART, or one
# that never returned (it exited) leaves the program none the wiser: the call is
# made again (strace shows it again) or never returns.
function returned_eintr(pid, i, raw, args,    j, line, name, rest, b, nb) {
    split_args(args, b)
    for (j = i + 1; j <= ncalls[pid]; j++) {
        line = calls[pid, j]
        name = line; sub(/\(.*/, "", name)
        if (name == "rt_sigreturn") {
            # Two signals at once (a tick and SIGTERM): their handlers return
            # one after the other, and only the last returns to the call.
            while (j < ncalls[pid] && calls[pid, j + 1] ~ /^rt_sigreturn\(/) j++
            return calls[pid, j] ~ /= -1 EINTR/
        }
        if (name == "restart_syscall") return 0
        if (name == raw) {
            rest = line; sub(/^[a-z0-9_]+\(/, "", rest)
            nb = split_args(rest, nb_args)
            if (nb_args[1] == b[1]) return 0
        }
    }
    return 0
}

# ---- pass 1: the strace log, unfinished calls joined with their resumption ----
FNR == NR {
    line = $0
    pid = $1
    sub(/^[0-9]+ +/, "", line)
    if (line ~ /^(---|\+\+\+)/) next
    if (line ~ /<unfinished \.\.\.>$/) {
        sub(/ *<unfinished \.\.\.>$/, "", line)
        pending[pid] = line
        next
    }
    if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
        sub(/^<\.\.\. [a-z0-9_]+ resumed> ?/, "", line)
        line = pending[pid] line
        delete pending[pid]
    }
    if (!(pid in seen_pid)) { seen_pid[pid] = 1; order[++npids] = pid }
    calls[pid, ++ncalls[pid]] = line
    next
}

# ---- pass 2: the trace lines ----
/^\[[a-z]+[0-9]* [0-9]+\] [a-z_0-9]+\(.*\) = / {
    tpid = $2; sub(/\]$/, "", tpid)
    text = $0
    sub(/^\[[^]]*\] /, "", text)
    name = text; sub(/\(.*/, "", name)
    if (name == "wait") name = "waitpid"
    if (name ~ /^(pipe2|dup3|accept4)$/) name = canonical(name, "")
    if (name == "mq_close") name = "close"      # glibc's mq_close() is close(2)
    if (!wanted(name)) next
    result = text; sub(/.*\) = /, "", result)
    args = text; sub(/^[a-z_0-9]+\(/, "", args); sub(/\) = [^=]*$/, "", args)
    first = ""
    if (split_args(args, a) > 0) first = a[1]
    if (name == "shm_open" || name == "shm_unlink") {
        name = name == "shm_open" ? "open" : "unlink"
        first = "\"/dev/shm" norm(first) "\""
    }
    if (name ~ /^mq_(open|unlink)$/) { first = norm(first); sub(/^\//, "", first) }
    if (name == "fork" || name == "poll" || name == "ppoll") first = ""
    shown[tpid, ++nshown[tpid]] = name " " norm(first) " = " norm(result)
    if (!(tpid in seen_pid) && !(tpid in tseen)) { tseen[tpid] = 1; torder[++ntpids] = tpid }
}

END {
    split(fds, start_fds, " ")
    bad = 0; total = 0
    for (k = 1; k <= npids; k++) {
        pid = order[k]
        delete open_fd
        delete mapped
        if (pid in parent_of) {
            for (key in inherited) {
                split(key, kk, SUBSEP)
                if (kk[1] == pid) open_fd[kk[2]] = inherited[key]
            }
        } else {
            for (i in start_fds) open_fd[start_fds[i]] = 0
        }
        n = 0; followed = 1
        for (i = 1; i <= ncalls[pid] && followed; i++) {
            line = calls[pid, i]
            if (line !~ /^[a-z0-9_]+\(.*\) += /) continue    # never returned
            raw = line; sub(/\(.*/, "", raw)
            args = line; sub(/^[a-z0-9_]+\(/, "", args); sub(/\) += [^=]*$/, "", args)
            result = line; sub(/.*\) += /, "", result)
            if (result ~ /^\?$/) continue                       # killed inside the call
            if (result ~ /^\? ERESTART/) {
                if (!returned_eintr(pid, i, raw, args)) continue  # restarted unseen
                result = "-1 EINTR"
            }
            else if (result ~ /^-1 E/) { split(result, r, " "); result = "-1 " r[2] }
            else { split(result, r, " "); result = r[1] }
            c = canonical(raw, args)
            na = split_args(args, a)
            if (raw == "execve") {
                if (result != "0") continue
                prog = norm(a[1])
                ours = (k == 1 && !execs++) || index(prog, root "/") == 1 ||
                       (bin != "" && index(prog, bin "/") == 1)
                if (!ours) {
                    followed = 0
                    continue
                }
                for (fd in open_fd) if (open_fd[fd]) delete open_fd[fd]   # close-on-exec
                continue
            }
            first = na > 0 ? a[1] : ""
            if (c == "open" || c == "mkfifo" || c == "stat" || c == "lstat" || c == "unlink") {
                if (a[1] ~ /^AT_FDCWD$/ || raw == "newfstatat" || raw == "mknodat" || raw == "openat" || raw == "unlinkat") first = a[2]
            }
            if (c == "fork") {
                if (result + 0 > 0) {
                    parent_of[result] = pid
                    for (fd in open_fd) inherited[result, fd] = open_fd[fd]
                }
                first = ""
            }
            fdarg = first
            if (c == "mmap") fdarg = a[5]
            checked = 0
            if (!wanted(c)) checked = 0
            else if (is_fd_call(c) || c == "mmap") checked = (fdarg in open_fd)
            else if (c == "munmap") checked = (norm(first) in mapped)
            else if (is_path_call(c)) checked = under(norm(first))
            else checked = 1
            # Follow the fds the lesson's calls make and take away.
            cloexec = (args ~ /O_CLOEXEC|SOCK_CLOEXEC|FD_CLOEXEC/) ? 1 : 0
            if (result ~ /^-1/) {
            } else if (checked && c == "mmap") {
                mapped[norm(result)] = 1
            } else if (checked && (c == "pipe" || c == "socketpair")) {
                v = c == "pipe" ? a[1] : a[4]
                gsub(/[][ ]/, "", v); split(v, pf, ",")
                open_fd[pf[1]] = cloexec; open_fd[pf[2]] = cloexec
            } else if (checked && c ~ /^(open|socket|accept|memfd_create|mq_open|dup|epoll_create1|signalfd4?|eventfd2)$/) {
                open_fd[result] = cloexec
            } else if (c == "dup2" && (a[1] in open_fd)) {
                open_fd[a[2]] = cloexec
            } else if (c == "fcntl" && (a[1] in open_fd) && args ~ /F_DUPFD/) {
                open_fd[result] = args ~ /CLOEXEC/ ? 1 : 0
            } else if (c == "fcntl" && (a[1] in open_fd) && args ~ /F_SETFD/) {
                open_fd[a[1]] = args ~ /FD_CLOEXEC/ ? 1 : 0
            } else if (c == "recvmsg" && checked && match(args, /SCM_RIGHTS, cmsg_data=\[[0-9, ]*\]/)) {
                v = substr(args, RSTART, RLENGTH); sub(/.*\[/, "", v); sub(/\]/, "", v)
                nv = split(v, pf, ", ")
                for (j = 1; j <= nv; j++) open_fd[pf[j]] = args ~ /MSG_CMSG_CLOEXEC/ ? 1 : 0
            }
            if (c == "close" && (a[1] in open_fd)) delete open_fd[a[1]]
            if (c == "dup2" && !(a[1] in open_fd) && (a[2] in open_fd)) delete open_fd[a[2]]
            if (!checked) continue
            if (c == "mq_open" || c == "mq_unlink") { first = norm(first); sub(/^\//, "", first) }
            if (c == "poll" || c == "ppoll") first = ""
            real[++n] = c " " norm(first) " = " norm(result)
        }
        total += n
        m = nshown[pid] + 0
        for (i = 1; i <= n || i <= m; i++) {
            want = i <= n ? real[i] : "(nothing more)"
            got = i <= m ? shown[pid, i] : "(nothing more)"
            if (want != got) {
                printf "process %s, call %d: strace saw  %s\n", pid, i, want
                printf "process %s, call %d: -v printed  %s\n", pid, i, got
                for (j = (i > 3 ? i - 3 : 1); j < i; j++) printf "  (agreed before: %s)\n", real[j]
                bad = 1
                break
            }
        }
        delete real
    }
    for (k = 1; k <= ntpids; k++) {
        printf "process %s printed %d trace lines, but strace saw no such process\n", torder[k], nshown[torder[k]]
        bad = 1
    }
    if (!bad) printf "ok: %d calls, each shown once with its real result\n", total
    exit bad
}
