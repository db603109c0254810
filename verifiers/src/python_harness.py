# smelt python_tests harness (runs inside the sandbox; stdlib only).
#
# As a script: reads job.py (a Python literal written by smelt), deletes it and calls run(job).
# In the fork server, run(job) is called in a freshly forked child. Either way run() reports on
# a private dup of stderr, one line per event, each prefixed with the run's nonce so that nothing
# the solution prints can pass for a result:
#   started | syntax <line> <msg> | load_error <exc> | missing <what> | test_error <exc>
#   test <i> ok | test <i> fail <exc> | bad_return <type> | done <passed> <total>
# where <exc> is "<Type>\t<message>\t<where>". Fields are tab-separated with \\ \t \n escaped.
#
# Check and Asserts jobs: the solution and the tests run on a worker thread (so they cannot
# install signal handlers, whose frame argument would lead back here), after an audit hook has
# closed the ways to reach other frames or raw memory (sys._getframe, sys._current_frames,
# tb_frame/gi_frame/cr_frame/ag_frame, gc.get_*, sys.settrace/setprofile, ctypes, /proc).
# Only the main thread holds the nonce and reports; the worker only appends records to a list
# nothing else can reach. Tests get their own copy of the builtins and, for every module
# imported before the solution ran, a copy of its namespace as it was then, so patching
# `builtins.abs` or `math.isclose` from the solution does not change what the tests see.
#
# Names: tests see the solution's top-level names. A solution function named like a builtin
# (`def sum(a, b)`) shadows the builtin in an assert only when it is the one solution name that
# assert uses (`assert sum(1, 2) == 3`; modules the solution imported do not count), computed
# from the compiled assert before the solution runs; so a solution cannot swap `len` or `abs` under an assert that checks another of its
# functions (`assert len(f(x)) == 3` still calls the real `len`). Check-style tests get the
# entry point as `candidate` and never see shadowing names.
#
# Return values (guard): plain builtin values, and the stdlib value types in VALUE_TYPES (exact
# type, and the class unchanged since before the solution ran), namedtuple instances (a direct
# tuple subclass that defines no comparison), each with plain contents.
import builtins
import os
import sys
import types  # imports tb_frame at import time: load it before the audit hook
import _thread

SOLUTION_BASE = 10_000_000  # solution line L runs as SOLUTION_BASE + L
TESTS_BASE = 100_000_000
ASSERTS_BASE = 200_000_000  # assert i runs as ASSERTS_BASE + i * ASSERT_SPAN + L
ASSERT_SPAN = 100_000
PLAIN = {int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset}
# Stdlib value types that compare by value: (module, class names).
VALUE_TYPES = (
    ("collections", ("Counter", "OrderedDict", "defaultdict", "deque")),
    ("fractions", ("Fraction",)),
    ("decimal", ("Decimal",)),
    ("datetime", ("date", "datetime", "time", "timedelta", "timezone")),
)
# What a namedtuple class must not define itself (it compares as a tuple).
TUPLE_OVERRIDES = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
                   "__len__", "__iter__", "__getitem__", "__contains__", "__bool__", "__class__",
                   "__getattribute__", "__getattr__", "__reduce__", "__init_subclass__"}
FRAME_ATTRS = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"}
BLOCKED = {"sys._current_frames", "sys.settrace", "sys.setprofile", "sys.addaudithook"}


def _shift(code, by):
    consts = tuple(_shift(c, by) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + by, co_consts=consts)


def _audit(event, args):
    if event == "sys._getframe":
        raise ValueError("call stack is not available in smelt's sandbox")
    if event == "object.__getattr__" and args[1] in FRAME_ATTRS:
        raise AttributeError("%s is not available in smelt's sandbox" % args[1])
    if event in BLOCKED or event.startswith(("gc.get_", "ctypes.")):
        raise RuntimeError("%s is not allowed in smelt's sandbox" % event)
    if event == "open" and isinstance(args[0], (str, bytes)) and os.fsdecode(args[0]).startswith("/proc"):
        raise PermissionError("/proc is not available in smelt's sandbox")


def _snapshot():
    return {n: dict(vars(m)) for n, m in list(sys.modules.items()) if isinstance(m, types.ModuleType)}


def _import_what_tests_import(sources):
    """Imports, before the solution runs, the modules the tests name in import statements."""
    for src in sources:
        for line in src.split("\n"):
            words = line.replace(",", " ").split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                names = [words[1]] if words[0] == "from" else [w for w in words[1:] if w != "as"]
                for name in names:
                    try:
                        __import__(name)
                    except BaseException:
                        pass


def _value_types():
    """The stdlib value classes and their namespaces, taken before the solution runs."""
    found = {}
    for module, names in VALUE_TYPES:
        try:
            m = __import__(module)
        except ImportError:
            continue
        for name in names:
            cls = getattr(m, name, None)
            if isinstance(cls, type):
                found[cls] = dict(vars(cls))
    return found


def _names(code):
    """Every name a compiled assert refers to (nested code included)."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names(c)
    return names


def run(job, snapshot=None):
    """Runs one job and ends the process (os._exit)."""
    nonce, mode = job["nonce"], job["mode"]
    out, write, exit_ = os.dup(2), os.write, os._exit
    flush_targets = (sys.stdout, sys.stderr)

    def esc(x):
        return str(x).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    def report(*fields):
        write(out, (nonce + "\t" + "\t".join(esc(x) for x in fields) + "\n").encode("utf-8", "replace"))

    def finish():
        for s in flush_targets:
            try:
                s.flush()
            except BaseException:
                pass
        exit_(0)

    report("started")
    builtins.exit = builtins.quit = sys.exit  # normally added by `site`, which -S skips
    try:
        code = compile(job["solution"], "solution.py", "exec")
    except (SyntaxError, ValueError) as e:
        report("syntax", getattr(e, "lineno", 0) or 0, "%s: %s" % (type(e).__name__, e))
        exit_(0)

    if mode == "io":  # the verdict is the observed stdout; the program runs as __main__
        ns = {"__name__": "__main__", "__builtins__": builtins}
        try:
            exec(code, ns)
        except SystemExit as e:
            if e.code not in (None, 0):
                report("load_error", "SystemExit", str(e.code), "exit() with a failure status")
                exit_(0)
        except BaseException as e:
            report("load_error", type(e).__name__, str(e)[:300], "")
            exit_(0)
        report("done", 1, 1)
        finish()

    before = set(sys.modules)
    _import_what_tests_import([job.get("tests") or ""] + list(job.get("asserts") or ()))
    if snapshot is None:
        snapshot = _snapshot()
    else:
        snapshot = dict(snapshot)
        for name in set(sys.modules) - before:
            m = sys.modules[name]
            if isinstance(m, types.ModuleType):
                snapshot[name] = dict(vars(m))
    records = []
    lock = _thread.allocate_lock()
    lock.acquire()
    worker = _worker(job, _shift(code, SOLUTION_BASE), snapshot, records, lock)
    sys.addaudithook(_audit)
    _thread.start_new_thread(worker, ())
    sent = 0
    while True:
        done = lock.acquire(timeout=0.05)
        while sent < len(records):
            report(*records[sent])
            sent += 1
        if done:
            finish()


def _worker(job, code, snapshot, records, lock):
    """The worker thread's body. It holds no nonce and no way to report but `records`."""
    mode = job["mode"]
    sources = {"solution.py": (SOLUTION_BASE, job["solution"])}
    tests_code = None
    if mode == "check":
        sources["tests.py"] = (TESTS_BASE, job["tests"])
        try:
            tests_code = _shift(compile(job["tests"], "tests.py", "exec"), TESTS_BASE)
        except (SyntaxError, ValueError) as e:
            tests_code = e
    asserts = []
    for i, a in enumerate(job.get("asserts") or ()):
        base = ASSERTS_BASE + i * ASSERT_SPAN
        sources["assert_%d" % i] = (base, a)
        try:
            asserts.append(_shift(compile(a, "assert_%d" % i, "exec"), base))
        except (SyntaxError, ValueError) as e:
            asserts.append(e)
    # Computed before the solution runs, so that it cannot change them.
    assert_names = [_names(a) if isinstance(a, types.CodeType) else set() for a in asserts]
    value_types = _value_types()
    saved = dict(builtins.__dict__)
    real_import = builtins.__import__

    def describe(e):
        where, tb = "", e.__traceback__
        while tb is not None:
            line = tb.tb_lineno
            for name, (base, src) in sources.items():
                local = line - base
                if 0 < local <= src.count("\n") + 1 and (name != "solution.py" or line < TESTS_BASE):
                    text = src.split("\n")[local - 1].strip()[:200]
                    where = "%s:%d: %s" % (name, local, text)
            tb = tb.tb_next
        return type(e).__name__, str(e)[:300], where

    def restore_builtins():
        d = builtins.__dict__
        for k in [k for k in d if k not in saved]:
            del d[k]
        for k, v in saved.items():
            if d.get(k) is not v:
                d[k] = v

    def tests_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = real_import(name, globals, locals, fromlist, level)
        key = name if fromlist else name.partition(".")[0]
        pristine = snapshot.get(key) if level == 0 else None
        if pristine is None:
            return module
        copy = types.ModuleType(key)
        copy.__dict__.update(pristine)
        return copy

    bad = []

    class BadReturn(BaseException):
        pass

    def unchanged(t):
        pristine = value_types.get(t)
        if pristine is None:
            return False
        now = vars(t)
        return len(now) == len(pristine) and all(now.get(k) is x for k, x in pristine.items())

    def namedtuple_class(t):
        d = vars(t)
        return (t.__bases__ == (tuple,) and type(t) is type and isinstance(d.get("_fields"), tuple)
                and not TUPLE_OVERRIDES.intersection(d))

    def plain(v, depth):
        t = type(v)
        if depth > 100:
            return False
        if t not in PLAIN and not unchanged(t) and not (issubclass(t, tuple) and namedtuple_class(t)):
            return False
        if isinstance(v, dict):
            return all(plain(k, depth + 1) and plain(x, depth + 1) for k, x in dict.items(v))
        if isinstance(v, (list, tuple, set, frozenset)) or t.__name__ == "deque":
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

    def work():
        try:
            _work()
        except BaseException as e:  # a harness bug; the missing `done` makes it a reject
            records.append(("test_error",) + describe(e))
        finally:
            lock.release()

    def _work():
        ns = {"__name__": "solution", "__builtins__": builtins}
        try:
            exec(code, ns)
        except BaseException as e:
            if isinstance(e, SystemExit):
                records.append(("load_error", "SystemExit", str(e.code), "exit() while loading the solution"))
            else:
                records.append(("load_error",) + describe(e))
            return
        restore_builtins()
        # Tests see the solution's names; those shadowing builtins only where the header says.
        # Solution functions are wrapped so that only plain values can come back.
        tns = {}
        shadowing = {}
        for k, v in ns.items():
            if k in ("__name__", "__builtins__", "__doc__"):
                continue
            own = getattr(v, "__code__", None)
            mine = own is not None and own.co_filename == "solution.py"
            if k in saved:
                if mine:
                    shadowing[k] = guard(v)
                continue
            tns[k] = guard(v) if mine else v
        # Modules the solution imported do not count as its names (`math.isclose` in an assert).
        solution_names = {k for k, v in ns.items() if k not in ("__name__", "__builtins__", "__doc__")
                          and not isinstance(v, types.ModuleType)}
        tests_builtins = dict(saved)
        tests_builtins["__import__"] = tests_import
        tns["__name__"] = "tests"
        tns["__builtins__"] = tests_builtins
        results = []
        if mode == "check":
            entry = job["entry_point"]
            if entry not in ns or not callable(ns[entry]):
                records.append(("missing", "entry point %r is not defined by the solution" % entry))
                return
            candidate = shadowing.get(entry) or tns.get(entry) or ns[entry]
            if isinstance(tests_code, BaseException):
                records.append(("test_error", type(tests_code).__name__, str(tests_code)[:300], "tests.py"))
                return
            try:
                exec(tests_code, tns)
            except BaseException as e:
                records.append(("test_error",) + describe(e))
                return
            restore_builtins()
            if not callable(tns.get("check")):
                records.append(("test_error", "NameError", "the tests define no check(candidate)", ""))
                return
            try:
                tns["check"](candidate)
                results.append(True)
                records.append(("test", 0, "ok"))
            except BaseException as e:
                results.append(False)
                records.append(("test", 0, "fail") + describe(e))
        else:
            for i, a in enumerate(asserts):
                if isinstance(a, BaseException):
                    ok = False
                    records.append(("test", i, "fail", type(a).__name__, str(a)[:300], "assert_%d" % i))
                else:
                    used = assert_names[i] & solution_names
                    ans = tns
                    if len(used) == 1 and next(iter(used)) in shadowing:
                        name = next(iter(used))
                        ans = dict(tns)
                        ans[name] = shadowing[name]
                    try:
                        exec(a, ans)
                        ok = True
                    except BaseException as e:
                        ok = False
                        records.append(("test", i, "fail") + describe(e))
                restore_builtins()
                results.append(ok)
                if ok:
                    records.append(("test", i, "ok"))
        if bad:
            records.append(("bad_return", bad[0]))
        records.append(("done", sum(results), len(results)))

    return work


if __name__ == "__main__":
    def _load():
        with open("job.py", encoding="utf-8") as f:
            job = eval(f.read(), {"__builtins__": {}})
        os.unlink("job.py")
        return job

    run(_load())
