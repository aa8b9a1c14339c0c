"""Run CPython's own pickle test suite (test.pickletester) against mpwire's Go codec.

The abstract test classes of test.pickletester (AbstractUnpickleTests,
AbstractPickleTests, AbstractPickleModuleTests) are subclassed with loads and
dumps that send every pickle through Go, the way a user's data travels:

  loads(data)        Go Unmarshal(*any) -> Go Marshal -> pickle.loads
  dumps(obj, proto)  pickle.dumps(obj, proto) -> Go Unmarshal -> Go Marshal(proto)

loads has Go re-encode at the input's own protocol (the highest protocol of
its opcodes), except in GoUnpickleMarshalTests, which runs the unpickling
tests again with Go re-encoding at protocol 4, what Go's Marshal sends.

The Go side is one long-lived helper that answers framed requests (all
integers little-endian):

  request   proto:u8  flags:u8  n:u32  pickle[n]
            proto 0-5 is the protocol Go re-encodes at; 255 means "the input's"
            (its PROTO opcode, else 0). flags bit 0: DecOptions.BinaryStrings.
  response  status:u8  n:u32  payload[n]
            status 0: payload is Go's pickle; 1: Go's Unmarshal failed;
            2: Go's Marshal failed (payload: the error text, UTF-8).

The helper is either inherited (--fds R,W: read responses from R, write
requests to W; how the Go test runs this script) or started here (--helper
CMD: a command speaking the protocol on its stdin/stdout, e.g. the pickle
test binary with MPWIRE_PICKLE_HELPER=1 set:
  go test -c -o /tmp/pickle.test ./pickle
  python3 pyfixtures/pickle_conformance.py --helper 'env MPWIRE_PICKLE_HELPER=1 /tmp/pickle.test').

Output: one JSON object per test on stdout,
  {"test": "Class.test_name", "status": "pass|fail|error|skip|excluded",
   "calls": <Go round trips the test made>,
   "refused": <inputs of those that both Go and CPython refused>,
   "msg": "<the failure's exception line>"}
then {"done": <tests run>}, or only {"unavailable": "<why>"} when this
Python lacks test.pickletester. Tests named with --exclude (method names) are not
run and are reported as "excluded".
"""
import io
import json
import os
import pickle
import pickletools
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import unittest
import warnings

import _fixture


class GoCodecError(Exception):
    """Go could not re-encode (or, on the dumps path, decode) a pickle.

    Deliberately not a pickle.PicklingError/UnpicklingError: a test that
    expects CPython to refuse something must not pass because Go failed.
    """


class Helper:
    """The Go side, over a pair of binary pipes."""

    def __init__(self, rfile, wfile, proc=None):
        self.r, self.w, self.proc = rfile, wfile, proc
        self.calls = 0
        self.both_refused = 0

    def roundtrip(self, data, proto, binary_strings=False):
        self.calls += 1
        data = bytes(data)
        self.w.write(struct.pack('<BBI', proto, 1 if binary_strings else 0, len(data)))
        self.w.write(data)
        self.w.flush()
        hdr = self._read(5)
        status, n = struct.unpack('<BI', hdr)
        payload = self._read(n)
        if status == 0:
            return payload
        return status, payload.decode('utf-8', 'replace')

    def _read(self, n):
        b = self.r.read(n)
        if len(b) != n:
            raise SystemExit('pickle_conformance: the Go helper closed its pipe')
        return b

    def close(self):
        self.w.close()
        if self.proc is not None:
            self.proc.wait(timeout=10)


HELPER = None
LOADS_PROTOCOL = None  # --loads-protocol


def go_loads(data, encoding='ASCII', errors='strict', fix_imports=True, buffers=None, *, protocol=None):
    """pickle.loads of Go's re-encoding of data (at protocol, by default the
    input's own)."""
    if isinstance(data, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    if protocol is None:
        protocol = LOADS_PROTOCOL if LOADS_PROTOCOL is not None else input_protocol(data)
    res = HELPER.roundtrip(data, protocol, binary_strings=(encoding == 'bytes'))
    if isinstance(res, tuple):
        status, msg = res
        if status == 1:
            refused(data, msg, encoding=encoding, errors=errors, fix_imports=fix_imports)
        raise GoCodecError('Go Marshal: ' + msg)
    # Go's pickle has no out-of-band buffers (Go refuses NEXT_BUFFER), so
    # buffers only matters for its type check.
    return pickle.loads(res, encoding=encoding, errors=errors, fix_imports=fix_imports, buffers=buffers)


def input_protocol(data):
    """The protocol Go re-encodes data at: the highest protocol among its
    opcodes and its PROTO argument, as pickletools reads them (255, "the
    PROTO argument or 0", when pickletools cannot read it)."""
    proto = 0
    try:
        for op, arg, _ in pickletools.genops(data):
            proto = max(proto, op.proto)
            if op.name == 'PROTO':
                proto = max(proto, arg)
    except Exception:
        return 255
    return min(proto, pickle.HIGHEST_PROTOCOL)


def refused(data, msg, **kwds):
    """Raise for an input that Go's Unmarshal refused.

    The suite checks which exception class CPython raises for bad input
    (ValueError, UnicodeDecodeError, EOFError, ...); that vocabulary is
    CPython's, not the codec's. What the codec must match is the verdict:
    if CPython refuses the input too, the test sees CPython's exception; if
    CPython accepts it, Go refused valid data and the test sees an
    UnpicklingError carrying Go's message (and fails wherever a value was
    expected).
    """
    try:
        pickle.loads(data, **kwds)
    except Exception as exc:
        HELPER.both_refused += 1
        raise exc from pickle.UnpicklingError('Go Unmarshal: ' + msg)
    raise pickle.UnpicklingError('Go Unmarshal refused what CPython accepts: ' + msg)


def go_dumps(obj, protocol=None, *, fix_imports=True, buffer_callback=None):
    """Go's re-encoding, at the same protocol, of pickle.dumps(obj, protocol)."""
    # With a buffer_callback that keeps a buffer out of band, CPython writes
    # NEXT_BUFFER, which Go refuses.
    data = pickle.dumps(obj, protocol, fix_imports=fix_imports, buffer_callback=buffer_callback)
    if protocol is None:
        proto = pickle.DEFAULT_PROTOCOL
    elif protocol < 0:
        proto = pickle.HIGHEST_PROTOCOL
    else:
        proto = protocol
    res = HELPER.roundtrip(data, proto)
    if isinstance(res, tuple):
        status, msg = res
        raise GoCodecError(('Go Unmarshal: ' if status == 1 else 'Go Marshal: ') + msg)
    return res


def go_dump(obj, file, protocol=None, *, fix_imports=True, buffer_callback=None):
    file.write(go_dumps(obj, protocol, fix_imports=fix_imports, buffer_callback=buffer_callback))


def go_load(file, *, encoding='ASCII', errors='strict', fix_imports=True, buffers=None):
    # Go decodes one pickle from the bytes that follow; the file is then
    # positioned after it, as pickle.load leaves it.
    start = file.tell()
    data = file.read()
    pos = pickletools_end(data)
    file.seek(start + pos)
    return go_loads(data, encoding=encoding, errors=errors, fix_imports=fix_imports, buffers=buffers)


def pickletools_end(data):
    """Offset just past the STOP opcode (len(data) if it cannot be found)."""
    try:
        for op, _, pos in pickletools.genops(data):
            if op.name == 'STOP':
                return pos + 1
    except Exception:
        pass
    return len(data)


def make_classes():
    # Imported here: test.pickletester is CPython's test suite, present in
    # every installed 3.8-3.13 (it needs only test.support).
    from test import pickletester as pt

    class UnpickleErrors:
        # As CPython's test_pickle.InMemoryPickleTests (pickle.loads).
        bad_stack_errors = (pickle.UnpicklingError, IndexError)
        truncated_errors = (pickle.UnpicklingError, EOFError, AttributeError,
                            ValueError, struct.error, IndexError, ImportError)

    class GoUnpickleTests(UnpickleErrors, pt.AbstractUnpickleTests, unittest.TestCase):
        def loads(self, buf, **kwds):
            return go_loads(buf, **kwds)

    class GoUnpickleMarshalTests(GoUnpickleTests):
        def loads(self, buf, **kwds):
            return go_loads(buf, protocol=4, **kwds)

    class GoPickleTests(UnpickleErrors, pt.AbstractPickleTests, unittest.TestCase):
        def dumps(self, arg, proto=None, **kwargs):
            return go_dumps(arg, proto, **kwargs)

        def loads(self, buf, **kwds):
            return go_loads(buf, **kwds)

    class GoPickleModuleTests(pt.AbstractPickleModuleTests, unittest.TestCase):
        dump = staticmethod(go_dump)
        dumps = staticmethod(go_dumps)
        load = staticmethod(go_load)
        loads = staticmethod(go_loads)

    return [GoUnpickleTests, GoUnpickleMarshalTests, GoPickleTests, GoPickleModuleTests]


class Result(unittest.TestResult):
    """Records one status per test (a failed subtest fails its test)."""

    def __init__(self):
        super().__init__()
        self.rows = {}
        self.order = []
        # Unittest of 3.12 and later calls stopTest without startTest for
        # a skipped test.
        self._calls, self._refused = HELPER.calls, HELPER.both_refused

    def _row(self, test):
        name = '%s.%s' % (type(test).__name__, test._testMethodName)
        if name not in self.rows:
            self.rows[name] = {'test': name, 'status': 'pass', 'calls': 0, 'refused': 0, 'msg': ''}
            self.order.append(name)
        return self.rows[name]

    def _bad(self, test, status, err, where=''):
        row = self._row(test)
        if row['status'] not in ('fail', 'error'):
            row['status'] = status
            text = ''.join(traceback.format_exception_only(err[0], err[1])).strip()
            row['msg'] = (where + text)[-600:]

    def startTest(self, test):
        super().startTest(test)
        self._row(test)
        self._calls, self._refused = HELPER.calls, HELPER.both_refused

    def stopTest(self, test):
        super().stopTest(test)
        row = self._row(test)
        row['calls'] = HELPER.calls - self._calls
        row['refused'] = HELPER.both_refused - self._refused

    def addFailure(self, test, err):
        self._bad(test, 'fail', err)

    def addError(self, test, err):
        self._bad(test, 'error', err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            status = 'fail' if issubclass(err[0], test.failureException) else 'error'
            self._bad(test, status, err, subtest._subDescription() + ': ')

    def addSkip(self, test, reason):
        row = self._row(test)
        row['status'], row['msg'] = 'skip', reason

    def addExpectedFailure(self, test, err):
        pass

    def addUnexpectedSuccess(self, test):
        self._bad(test, 'fail', (AssertionError, AssertionError('unexpected success')))


def main():
    p = _fixture.parser(__doc__.split('\n')[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--fds', help='R,W: inherited pipe fds to the Go helper (responses, requests)')
    g.add_argument('--helper', help='command to start the Go helper (speaks on stdin/stdout)')
    p.add_argument('--exclude', action='append', default=[], help='test method name not to run (repeatable)')
    p.add_argument('--loads-protocol', type=int, choices=range(6),
                   help="protocol Go re-encodes loads() input at (default: the input's own)")
    p.add_argument('-k', dest='only', action='append', default=[], help='run only tests whose name contains this')
    args = p.parse_args()
    _fixture.start(args)

    global HELPER, LOADS_PROTOCOL
    LOADS_PROTOCOL = args.loads_protocol
    try:
        classes = make_classes()
    except ImportError as exc:
        # Some distributions ship Python without its test suite.
        print(json.dumps({'unavailable': 'test.pickletester cannot be imported: %s' % exc}), flush=True)
        return
    if args.fds:
        r, w = (int(x) for x in args.fds.split(','))
        HELPER = Helper(os.fdopen(r, 'rb'), os.fdopen(w, 'wb'))
    else:
        proc = subprocess.Popen(shlex.split(args.helper), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        HELPER = Helper(proc.stdout, proc.stdin, proc)

    # pickletester writes scratch files (TESTFN) into the working directory.
    scratch = tempfile.mkdtemp(prefix='pickle-conformance-')
    os.chdir(scratch)
    warnings.simplefilter('ignore')
    excluded = set(args.exclude)
    out = sys.stdout
    ran = 0
    loader = unittest.TestLoader()
    for cls in classes:
        for name in loader.getTestCaseNames(cls):
            full = '%s.%s' % (cls.__name__, name)
            if args.only and not any(k in full for k in args.only):
                continue
            if name in excluded:
                out.write(json.dumps({'test': full, 'status': 'excluded', 'calls': 0, 'msg': ''}) + '\n')
                continue
            res = Result()
            cls(name).run(res)
            ran += 1
            for n in res.order:
                out.write(json.dumps(res.rows[n]) + '\n')
            out.flush()
    out.write(json.dumps({'done': ran}) + '\n')
    out.flush()
    HELPER.close()
    os.chdir('/')
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
