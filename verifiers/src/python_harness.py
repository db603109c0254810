# smelt python_tests harness (runs inside the sandbox; stdlib only, no imports beyond builtins).
#
# As a script: reads job.py (a Python literal written by smelt), deletes it and calls run(job).
# In the fork server, run(job) is called in a freshly forked child. run() executes the solution
# and then the tests, and reports on a private duplicate of stderr, one line per event, each prefixed with
# the run's nonce so that nothing the solution prints can pass for a result:
#   started | syntax <line> <msg> | load_error <exc> | missing <what> | test <i> ok
#   test <i> fail <exc> | bad_return <type> | done <passed> <total>
# where <exc> is "<Type>\t<message>\t<where>". Fields are tab-separated with \\ \t \n escaped.
import builtins
import os
import sys


def run(job):
    """Runs one job and ends the process (os._exit). Reports on a dup of fd 2."""
    nonce, mode = job["nonce"], job["mode"]
    out, write, exit_ = os.dup(2), os.write, os._exit
    flush_targets = (sys.stdout, sys.stderr)

    def esc(x):
        return str(x).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    def report(*fields):
        write(out, (nonce + "\t" + "\t".join(esc(x) for x in fields) + "\n").encode("utf-8", "replace"))

    sources = {"solution.py": job["solution"], "tests.py": job.get("tests") or ""}
    for i, a in enumerate(job.get("asserts") or ()):
        sources["assert_%d" % i] = a

    def describe(e):
        where, tb = "", e.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name in sources:
                where = "%s:%d" % (name, tb.tb_lineno)
                lines = sources[name].split("\n")
                if 0 < tb.tb_lineno <= len(lines):
                    where += ": " + lines[tb.tb_lineno - 1].strip()[:200]
            tb = tb.tb_next
        return type(e).__name__, str(e)[:300], where

    report("started")
    builtins.exit = builtins.quit = sys.exit  # normally added by `site`, which -S skips
    try:
        code = compile(job["solution"], "solution.py", "exec")
    except (SyntaxError, ValueError) as e:
        report("syntax", getattr(e, "lineno", 0) or 0, "%s: %s" % (type(e).__name__, e))
        exit_(0)
    saved = dict(builtins.__dict__)

    def restore_builtins():
        d = builtins.__dict__
        for k in [k for k in d if k not in saved]:
            del d[k]
        for k, v in saved.items():
            if d.get(k) is not v:
                d[k] = v

    def finish(passed, total):
        for s in flush_targets:
            try:
                s.flush()
            except BaseException:
                pass
        report("done", passed, total)
        exit_(0)

    ns = {"__name__": "__main__" if mode == "io" else "solution", "__builtins__": builtins}
    try:
        exec(code, ns)
    except SystemExit as e:
        if mode == "io" and e.code in (None, 0):
            restore_builtins()
            finish(1, 1)
        report("load_error", "SystemExit", str(e.code), "exit() while loading the solution")
        exit_(0)
    except BaseException as e:
        report("load_error", *describe(e))
        exit_(0)
    restore_builtins()
    if mode == "io":
        finish(1, 1)

    # Tests see the solution's names, except those shadowing builtins; solution functions are
    # wrapped so that only plain builtin values can come back (no objects equal to anything).
    plain_types = {int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset}
    bad = []

    class BadReturn(BaseException):
        pass

    def plain(v, depth):
        t = type(v)
        if t not in plain_types or depth > 100:
            return False
        if t is dict:
            return all(plain(k, depth + 1) and plain(x, depth + 1) for k, x in v.items())
        if t in (list, tuple, set, frozenset):
            return all(plain(x, depth + 1) for x in v)
        return True

    def guard(fn):
        def guarded(*args, **kwargs):
            r = fn(*args, **kwargs)
            if job["guard"] and not plain(r, 0):
                bad.append(type(r).__name__)
                raise BadReturn("returned a %s" % type(r).__name__)
            return r

        guarded.__name__ = getattr(fn, "__name__", "candidate")
        guarded.__doc__ = getattr(fn, "__doc__", None)
        guarded.__wrapped__ = fn
        return guarded

    tns = {}
    for k, v in ns.items():
        if k in saved and k not in ("__name__", "__builtins__", "__doc__"):
            continue
        code_of = getattr(v, "__code__", None)
        tns[k] = guard(v) if code_of is not None and code_of.co_filename == "solution.py" else v
    tns["__name__"] = "tests"
    tns["__builtins__"] = builtins

    results = []
    if mode == "check":
        entry = job["entry_point"]
        if entry not in ns or not callable(ns[entry]):
            report("missing", "entry point %r is not defined by the solution" % entry)
            exit_(0)
        try:
            exec(compile(job["tests"], "tests.py", "exec"), tns)
        except BaseException as e:
            report("test_error", *describe(e))
            exit_(0)
        restore_builtins()
        if not callable(tns.get("check")):
            report("test_error", "NameError", "the tests define no check(candidate)", "")
            exit_(0)
        try:
            tns["check"](tns[entry])
            results.append(True)
        except BaseException as e:
            results.append(False)
            report("test", 0, "fail", *describe(e))
        else:
            report("test", 0, "ok")
    else:  # asserts
        for i, a in enumerate(job["asserts"]):
            try:
                exec(compile(a, "assert_%d" % i, "exec"), tns)
                ok = True
            except BaseException as e:
                ok = False
                report("test", i, "fail", *describe(e))
            restore_builtins()
            results.append(ok)
            if ok:
                report("test", i, "ok")
    if bad:
        report("bad_return", bad[0])
    finish(sum(results), len(results))


if __name__ == "__main__":
    with open("job.py", encoding="utf-8") as f:
        _job = eval(f.read(), {"__builtins__": {}})
    os.unlink("job.py")
    run(_job)
