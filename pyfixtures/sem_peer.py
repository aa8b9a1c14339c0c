"""Drive multiprocessing SemLocks from stdin so a Go test can interleave operations.

Reads one command per line and answers each with exactly one line,
"ok [result...]" or "err ExceptionType: message". Objects are kept under
a key chosen by the caller. Commands:

  new KEY Lock|RLock|Semaphore|BoundedSemaphore [VALUE]
        create through multiprocessing.get_context('spawn'); answers the name
  raw KEY KIND VALUE MAXVALUE
        _multiprocessing.SemLock(KIND, VALUE, MAXVALUE, name, False) with a
        '/mp-' random name (unlinked at exit); answers the name
  rebuild KEY CLASS KIND MAXVALUE NAME
        unpickle-style: CLASS.__new__ + __setstate__((0, KIND, MAXVALUE, NAME))
        (CLASS is a multiprocessing.synchronize class, or "raw" for
        _multiprocessing.SemLock._rebuild(0, KIND, MAXVALUE, NAME))
  acquire KEY [TIMEOUT|none] [block|noblock]   answers "ok True|False SECONDS"
  release KEY                     answers "ok" or the exception
  thread_release KEY              release() from a fresh thread
  value KEY / iszero KEY / count KEY / ismine KEY / kind KEY / maxvalue KEY / name KEY
  state KEY                       the __getstate__-equivalent tuple fields
  hammer KEY N PATH               N times: acquire; check+bump a counter in the
                                  16-byte file PATH (mmap); release.
                                  answers "ok VIOLATIONS"
  bench KEY N                     timeit of acquire();release(), answers ns per pair
  del KEY                         drop the object (its finalizer unlinks the name)
  exit

    python3 pyfixtures/sem_peer.py <<< $'new l Lock\\nacquire l 0.1\\nexit'
"""
import mmap
import os
import struct
import sys
import threading
import time
import timeit

import _fixture
import _multiprocessing
import multiprocessing
import multiprocessing.synchronize as synchronize


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    _fixture.start(args)
    ctx = multiprocessing.get_context("spawn")
    objs = {}
    raw_names = []
    pins = {}

    def pin(key, name):
        # glibc maps a new semaphore through a temporary file it then
        # deletes, so /proc/<pid>/maps shows "/dev/shm/XXXXXX (deleted)",
        # not the name. Holding the file open under its name tells
        # /dev/shm sweepers (pyfixtures.StartT's) that it is in use.
        pins[key] = os.open("/dev/shm/sem." + name.lstrip("/"), os.O_RDONLY | os.O_CLOEXEC)

    def semlock(key):
        o = objs[key]
        return o._semlock if hasattr(o, "_semlock") else o

    def do(words):
        cmd, rest = words[0], words[1:]
        if cmd == "new":
            key, cls = rest[0], rest[1]
            o = getattr(ctx, cls)(*[int(x) for x in rest[2:]])
            objs[key] = o
            pin(key, o._semlock.name)
            return o._semlock.name
        if cmd == "raw":
            key, kind, value, maxvalue = rest[0], int(rest[1]), int(rest[2]), int(rest[3])
            for _ in range(100):
                name = synchronize.SemLock._make_name()
                try:
                    o = _multiprocessing.SemLock(kind, value, maxvalue, name, False)
                except FileExistsError:
                    continue
                break
            raw_names.append(name)
            objs[key] = o
            pin(key, o.name)
            return o.name
        if cmd == "rebuild":
            key, cls, kind, maxvalue, name = rest[0], rest[1], int(rest[2]), int(rest[3]), rest[4]
            if cls == "raw":
                objs[key] = _multiprocessing.SemLock._rebuild(0, kind, maxvalue, name)
            else:
                c = getattr(synchronize, cls)
                o = c.__new__(c)
                o.__setstate__((0, kind, maxvalue, name))
                objs[key] = o
            return semlock(key).name
        if cmd == "acquire":
            key = rest[0]
            timeout = None if len(rest) < 2 or rest[1] == "none" else float(rest[1])
            block = not (len(rest) > 2 and rest[2] == "noblock")
            t0 = time.monotonic()
            r = semlock(key).acquire(block, timeout)
            return "%s %.3f" % (r, time.monotonic() - t0)
        if cmd == "release":
            semlock(rest[0]).release()
            return ""
        if cmd == "thread_release":
            box = []

            def run():
                try:
                    semlock(rest[0]).release()
                    box.append("")
                except BaseException as e:  # reported like the main thread's
                    box.append(e)
            t = threading.Thread(target=run)
            t.start()
            t.join()
            if isinstance(box[0], BaseException):
                raise box[0]
            return ""
        if cmd == "value":
            return str(semlock(rest[0])._get_value())
        if cmd == "iszero":
            return str(semlock(rest[0])._is_zero())
        if cmd == "count":
            return str(semlock(rest[0])._count())
        if cmd == "ismine":
            return str(semlock(rest[0])._is_mine())
        if cmd == "kind":
            return str(semlock(rest[0]).kind)
        if cmd == "maxvalue":
            return str(semlock(rest[0]).maxvalue)
        if cmd == "name":
            return str(semlock(rest[0]).name)
        if cmd == "state":
            s = semlock(rest[0])
            return "%d %d %d %s" % (s.handle, s.kind, s.maxvalue, s.name)
        if cmd == "hammer":
            key, n, path = rest[0], int(rest[1]), rest[2]
            s = semlock(key)
            violations = 0
            with open(path, "r+b") as f:
                m = mmap.mmap(f.fileno(), 16)
                for _ in range(n):
                    s.acquire()
                    busy, counter = struct.unpack_from("<QQ", m, 0)
                    if busy:
                        violations += 1
                    struct.pack_into("<QQ", m, 0, 1, counter + 1)
                    struct.pack_into("<QQ", m, 0, 0, counter + 1)
                    s.release()
                m.close()
            return str(violations)
        if cmd == "bench":
            s = semlock(rest[0])
            n = int(rest[1])
            best = min(timeit.repeat("a(); r()", globals={"a": s.acquire, "r": s.release},
                                     number=n, repeat=3))
            return "%.1f" % (best / n * 1e9)
        if cmd == "del":
            del objs[rest[0]]
            if rest[0] in pins:
                os.close(pins.pop(rest[0]))
            import gc
            gc.collect()
            return ""
        raise ValueError("unknown command %r" % cmd)

    _fixture.ready("ready %d.%d" % sys.version_info[:2])
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "exit":
                print("ok bye", flush=True)
                break
            try:
                r = do(words)
                print(("ok " + r) if r else "ok", flush=True)
            except Exception as e:
                print("err %s: %s" % (type(e).__name__, e), flush=True)
    finally:
        for fd in pins.values():
            os.close(fd)
        objs.clear()
        for name in raw_names:
            try:
                synchronize.sem_unlink(name)
            except OSError:
                pass


if __name__ == "__main__":
    main()
