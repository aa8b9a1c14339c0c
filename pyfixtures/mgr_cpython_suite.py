"""CPython's own manager tests (test/_test_multiprocessing.py) against any manager server.

Installs the interpreter's manager-backed test classes (the ManagerMixin
variants, WithManagerTest*, and TestSyncManagerTypes) with the spawn start
method, as test_multiprocessing_spawn does, but with every manager replaced
by SyncManager(address, authkey).connect() to one server:

  --server ADDR     a running server (tcp:HOST:PORT or unix:PATH), e.g. the
                    Go-hosted one; the authkey is MPWIRE_AUTHKEY (hex)
  --server python   a CPython SyncManager server this script starts first
                    (SyncManager(...).start() with the spawn context: what
                    multiprocessing.Manager() runs), the reference

Commands:
  list              print the ids of the selected tests, one a line
  run ID...         run those tests in order (class fixtures as unittest
                    runs them); "run -" reads the ids from stdin

Every test prints one JSON line on stdout: {"test": id, "status":
"pass"|"fail"|"error"|"skip"|"xfail"|"xpass", "detail": text, "secs": t}.
A test still running after --test-timeout seconds prints {"test": id,
"status": "hang"}, dumps every thread's stack to stderr and exits 3, so the
caller can restart the run after it.

Usage: python3 mgr_cpython_suite.py --server tcp:127.0.0.1:5000 list --classes Queue,Pool
"""
import faulthandler
import json
import os
import sys
import threading
import time
import traceback
import unittest

import _fixture
import multiprocessing
from multiprocessing.managers import SyncManager

import test._test_multiprocessing as tm

STARTED = time.monotonic()
KEY = _fixture.authkey_from_env() or b"mpwire-suite"
# Proxies unpickled outside spawning (a proxy sent through a queue) use the
# receiving process's authkey: make it the server's in this process and,
# through the spawn preparation data, in every child.
multiprocessing.current_process().authkey = KEY

# The manager-backed classes the comparison covers, by the short names the
# Go test passes (WithManager<Name>); SyncManagerTypes is the plain
# TestSyncManagerTypes class.
CLASSES = ["TestQueue", "TestLock", "TestSemaphore", "TestCondition", "TestEvent",
           "TestBarrier", "TestContainers", "TestPool", "SyncManagerTypes"]


def parse_address(s):
    family, _, rest = s.partition(":")
    if family == "tcp":
        host, _, port = rest.rpartition(":")
        return (host, int(port))
    if family == "unix":
        return rest
    raise SystemExit("bad address %r" % s)


def server_address():
    return parse_address(os.environ["MPWIRE_SUITE_ADDRESS"])


class ConnectedManager(SyncManager):
    """A SyncManager connected to the shared server under test: start()
    connects, shutdown() and join() leave the server running."""

    def start(self, *args, **kwargs):
        self._address = server_address()
        self._authkey = multiprocessing.process.AuthenticationString(KEY)
        self.connect()

    def shutdown(self):
        pass

    def join(self, timeout=None):
        pass


def _connected():
    m = ConnectedManager(address=server_address(), authkey=KEY)
    m.connect()
    return m


@classmethod
def _mixin_setup(cls):
    super(tm.ManagerMixin, cls).setUpClass()
    cls.manager = _connected()


@classmethod
def _mixin_teardown(cls):
    # As ManagerMixin.tearDownClass, without shutting down the shared server.
    import gc
    gc.collect()
    cls.manager = None
    super(tm.ManagerMixin, cls).tearDownClass()


tm.ManagerMixin.setUpClass = _mixin_setup
tm.ManagerMixin.tearDownClass = _mixin_teardown


# The test classes, installed as test_multiprocessing_spawn does (3.8-3.11
# install every type; only the manager ones are run).
try:
    tm.install_tests_in_module_dict(globals(), "spawn", only_type="manager")
except TypeError:
    tm.install_tests_in_module_dict(globals(), "spawn")


# The reference server (--server python), shut down before the module's
# teardown: tearDownModule waits for the resource tracker, which the
# server process holds open.
REFERENCE = []
_teardown_module = tearDownModule  # noqa: F821 (installed above)


def tearDownModule():
    while REFERENCE:
        REFERENCE.pop().shutdown()
    _teardown_module()


class TestSyncManagerTypes(tm.TestSyncManagerTypes):
    manager_class = ConnectedManager


TestSyncManagerTypes.__module__ = __name__


def class_of(name):
    if name == "SyncManagerTypes":
        return TestSyncManagerTypes
    return globals()["WithManager" + name]


def test_ids(names):
    loader = unittest.TestLoader()
    ids = []
    for name in names:
        cls = class_of(name)
        for m in loader.getTestCaseNames(cls):
            ids.append("%s.%s" % (cls.__name__, m))
    return ids


class Reporter(unittest.TestResult):
    """Prints one JSON line per test; a watchdog ends the run on a hang."""

    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout
        self.timer = None
        self.t0 = 0

    def emit(self, test, status, detail=""):
        rec = {"test": test.id().split(".", 1)[-1] if isinstance(test, unittest.TestCase) else str(test),
               "status": status, "detail": detail[-2000:], "secs": round(time.monotonic() - self.t0, 3),
               "at": round(time.monotonic() - STARTED, 3)}
        sys.stdout.write(json.dumps(rec) + "\n")
        sys.stdout.flush()

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        tid = test.id().split(".", 1)[-1]
        sys.stderr.write("START %s\n" % tid)
        sys.stderr.flush()

        def hung():
            sys.stdout.write(json.dumps({"test": tid, "status": "hang",
                                         "detail": "still running after %gs" % self.timeout,
                                         "secs": self.timeout}) + "\n")
            sys.stdout.flush()
            faulthandler.dump_traceback(all_threads=True)
            os._exit(3)

        self.timer = threading.Timer(self.timeout, hung)
        self.timer.daemon = True
        self.timer.start()

    def stopTest(self, test):
        if self.timer:
            self.timer.cancel()
        super().stopTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.emit(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.emit(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            self.emit(test, "error", self._exc_info_to_string(err, test))
        else:  # a class or module fixture
            sys.stdout.write(json.dumps({"test": str(test), "status": "fixture-error",
                                         "detail": self._exc_info_to_string(err, test)[-2000:]}) + "\n")
            sys.stdout.flush()

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.emit(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.emit(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.emit(test, "xpass")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            # A failed subtest fails its test: report it under the test's id.
            self.emit(test, "fail" if issubclass(err[0], test.failureException) else "error",
                      self._exc_info_to_string(err, test))


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--server", required=True)
    p.add_argument("--classes", default=",".join(CLASSES))
    p.add_argument("--test-timeout", type=float, default=60.0)
    p.add_argument("command", choices=["list", "run"])
    p.add_argument("ids", nargs="*")
    args = p.parse_args()
    _fixture.start(args)
    names = [n for n in args.classes.split(",") if n]
    if args.command == "list":
        for tid in test_ids(names):
            print(tid)
        return
    ids = args.ids
    if ids == ["-"]:
        ids = [line.strip() for line in sys.stdin if line.strip()]
    if args.server == "python":
        ref = SyncManager(address=("127.0.0.1", 0), authkey=KEY, ctx=multiprocessing.get_context("spawn"))
        ref.start()
        REFERENCE.append(ref)
        host, port = ref.address
        os.environ["MPWIRE_SUITE_ADDRESS"] = "tcp:%s:%d" % (host, port)
    else:
        os.environ["MPWIRE_SUITE_ADDRESS"] = args.server
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for tid in ids:
        suite.addTest(loader.loadTestsFromName(tid, sys.modules[__name__]))
    result = Reporter(args.test_timeout)
    try:
        suite.run(result)
    finally:
        while REFERENCE:
            REFERENCE.pop().shutdown()
    sys.stdout.write(json.dumps({"test": "", "status": "done"}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
