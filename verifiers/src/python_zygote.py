# smelt python_tests fork server ("zygote"). Trusted code; it never runs a solution itself.
#
# smelt starts it inside a full sandbox (it is PID 1 of its own PID namespace, runs as a leased
# uid, under Landlock and seccomp) with harness.py and zygote.json in its tmpfs work dir. It then
# serves one job at a time: a JSON line on stdin -> fork -> the child confines itself further
# (own session, per-job rlimits, a nested Landlock domain that may write only its scratch
# directory and may not signal the zygote) and calls harness.run(job) -> the zygote feeds stdin,
# collects capped stdout/stderr, enforces the deadline, then SIGKILLs every other process in
# the namespace (kill(-1) from PID 1), reaps them all, deletes the scratch directory, and
# answers one JSON line on stdout. Nothing of one job survives into the next.
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time

CFG = json.load(open("zygote.json", encoding="utf-8"))
HARNESS = {"__name__": "smelt_harness", "__builtins__": __builtins__}
exec(compile(open("harness.py", encoding="utf-8").read(), "harness.py", "exec"), HARNESS)
os.unlink("harness.py")
os.unlink("zygote.json")
# Modules solutions and tests commonly use: loaded once here instead of once per check, and part
# of the pristine snapshot the tests import from (taken before any untrusted code ever ran).
for _name in ("functools", "collections", "itertools", "math", "cmath", "heapq", "bisect",
              "string", "re", "typing", "enum", "fractions", "decimal", "random", "statistics",
              "operator", "copy", "dataclasses", "datetime"):
    try:
        __import__(_name)
    except ImportError:
        pass
SNAPSHOT = HARNESS["_snapshot"]()

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace or /proc/<pid>/mem by our own uid


class RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("access", ctypes.c_uint64), ("fd", ctypes.c_int32)]


ABI = max(0, libc.syscall(444, None, 0, 1))  # landlock_create_ruleset(NULL, 0, VERSION)
FS = (1 << 13) - 1 | (1 << 13 if ABI >= 2 else 0) | (1 << 14 if ABI >= 3 else 0) | (1 << 15 if ABI >= 5 else 0)
FILE_RIGHTS = 1 | 2 | 4 | (1 << 14) | (1 << 15)


def fail(what):
    raise OSError(ctypes.get_errno(), what)


def landlock(scratch):
    """A nested domain: read system paths, write only `scratch`, no signals/sockets outward."""
    attr = RulesetAttr(FS, 3 if ABI >= 4 else 0, 3 if ABI >= 6 else 0)
    size = 8 if ABI <= 3 else 16 if ABI <= 5 else 24
    rs = libc.syscall(444, ctypes.byref(attr), size, 0)
    if rs < 0:
        fail("landlock_create_ruleset")
    grants = [(p, 1 | 4 | 8, False) for p in CFG["read_paths"]]
    grants += [(p, 1 | 2 | 4 | (1 << 14), True) for p in ("/dev/null", "/dev/zero", "/dev/full")]
    grants += [(p, 4, True) for p in ("/dev/urandom", "/dev/random")] + [(scratch, FS, False)]
    for path, rights, is_file in grants:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if is_file or not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = PathBeneath(rights & FS, fd)
        r = libc.syscall(445, rs, 1, ctypes.byref(rule), 0)
        os.close(fd)
        if r != 0:
            fail("landlock_add_rule " + path)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        fail("no_new_privs")
    if libc.syscall(446, rs, 0) != 0:
        fail("landlock_restrict_self")
    os.close(rs)


def child(job, scratch, fds):
    """In the forked child: confine, then hand over to the harness. Never returns."""
    try:
        stdin_r, stdout_w, stderr_w = fds
        os.dup2(stdin_r, 0)
        os.dup2(stdout_w, 1)
        os.dup2(stderr_w, 2)
        os.closerange(3, 65536)  # the job channel to smelt above all
        os.setsid()
        lim = job["limits"]
        for res, val in (
            (resource.RLIMIT_CPU, lim["cpu_secs"]),
            (resource.RLIMIT_AS, lim["memory_bytes"]),
            (resource.RLIMIT_NPROC, lim["max_processes"]),
            (resource.RLIMIT_FSIZE, lim["max_file_bytes"]),
            (resource.RLIMIT_NOFILE, lim["max_open_files"]),
            (resource.RLIMIT_CORE, 0),
        ):
            hard = resource.getrlimit(res)[1]
            val = val if hard == resource.RLIM_INFINITY else min(val, hard)
            resource.setrlimit(res, (val, val))
        if ABI > 0:
            landlock(scratch)
        os.chdir(scratch)
        os.environ["HOME"] = os.environ["TMPDIR"] = scratch
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        sys.stdin = open(0, "r", encoding="utf-8", errors="replace", closefd=False)
    except BaseException as e:
        os.write(2, ("smelt-zygote-setup-failed: %r\n" % (e,)).encode())
        os._exit(111)
    try:
        HARNESS["run"](job, SNAPSHOT)
    finally:
        os._exit(0)  # never fall back into the zygote's loop


def serve(job, n):
    scratch = os.path.abspath("j%d" % n)
    os.mkdir(scratch, 0o700)
    pipes = [os.pipe() for _ in range(3)]
    stdin_data = job.get("stdin", "").encode("utf-8")
    lim = job["limits"]
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(job, scratch, (pipes[0][0], pipes[1][1], pipes[2][1]))
    for fd in (pipes[0][0], pipes[1][1], pipes[2][1]):
        os.close(fd)
    stdin_w, outs = pipes[0][1], [pipes[1][0], pipes[2][0]]
    pidfd = None

    def kill():
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass

    try:
        if not stdin_data:
            os.close(stdin_w)
            stdin_w = None
        else:
            os.set_blocking(stdin_w, False)
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        bufs, trunc, cap = [bytearray(), bytearray()], [False, False], lim["max_output_bytes"]
        deadline = start + lim["timeout_ms"] / 1000.0
        timed_out = output_limit = killed = False
        exited_at = None
        written = 0
        while True:
            if exited_at is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                exited_at = time.monotonic()
            open_outs = [fd for fd in outs if fd is not None]
            now = time.monotonic()
            if exited_at is not None and (not open_outs or now - exited_at > 0.5):
                break
            if not killed and now >= deadline:
                timed_out = killed = True
                kill()
            p = select.poll()
            if stdin_w is not None:
                p.register(stdin_w, select.POLLOUT)
            for fd in open_outs:
                p.register(fd, select.POLLIN)
            if pidfd is not None and exited_at is None:
                p.register(pidfd, select.POLLIN)
            wait = 0.05 if (killed or exited_at is not None) else max(0.001, deadline - now)
            if pidfd is None and exited_at is None:
                wait = min(wait, 0.01)
            for fd, _ in p.poll(min(wait, 1.0) * 1000):
                if fd == stdin_w:
                    try:
                        written += os.write(stdin_w, stdin_data[written:])
                    except BlockingIOError:
                        pass
                    except OSError:
                        written = len(stdin_data)
                    if written >= len(stdin_data):
                        os.close(stdin_w)
                        stdin_w = None
                elif fd in outs:
                    i = outs.index(fd)
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        os.close(fd)
                        outs[i] = None
                        continue
                    room = cap - len(bufs[i])
                    bufs[i] += chunk[: max(room, 0)]
                    if len(chunk) > room:
                        trunc[i] = True
                        if not killed:
                            output_limit = killed = True
                            kill()
        wall = (exited_at or time.monotonic()) - start
    finally:
        kill()
        try:
            os.kill(-1, signal.SIGKILL)  # everything else in our PID namespace (or of our uid)
        except OSError:
            pass
        _, status, usage = os.wait4(pid, 0)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        for fd in [stdin_w, pidfd] + outs:
            if fd is not None:
                os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
    cpu = usage.ru_utime + usage.ru_stime
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    return {
        "exited": None if sig else os.WEXITSTATUS(status),
        "signal": sig or None,
        "timed_out": timed_out,
        "output_limit": output_limit,
        "cpu_limit": bool(not killed and sig in (signal.SIGKILL, signal.SIGXCPU) and cpu + 0.1 >= lim["cpu_secs"]),
        "wall_ms": int(wall * 1000),
        "cpu_ms": int(cpu * 1000),
        "stdout": bytes(bufs[0]).decode("latin-1"),  # one char per byte
        "stderr": bytes(bufs[1]).decode("latin-1"),
        "stdout_truncated": trunc[0],
        "stderr_truncated": trunc[1],
    }


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only smelt ends the zygote
    inp = open(0, "rb", closefd=False)
    out = os.dup(1)
    os.write(out, (json.dumps({"ready": True, "landlock_abi": ABI}) + "\n").encode())
    n = 0
    for line in inp:
        n += 1
        try:
            reply = serve(json.loads(line), n)
        except Exception as e:  # a zygote bug, not the solution's doing: smelt treats it as an error
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        os.write(out, (json.dumps(reply) + "\n").encode())


main()
