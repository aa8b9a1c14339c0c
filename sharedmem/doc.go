// Package sharedmem shares memory with CPython's multiprocessing:
// multiprocessing.shared_memory (SharedMemory, ShareableList) by name, and
// multiprocessing.sharedctypes (Value, Array, RawValue, RawArray) through
// heap arenas inherited by spawned children, with the RLock that guards them.
//
// # Python ⇄ Go
//
//	Python                                        Go
//	SharedMemory(create=True, size=n)             Create("", n)
//	SharedMemory(name) / .buf / .size / .name     Open(name) / Bytes() / Size() / Name()
//	.close() / .unlink()                          Close() / Unlink()
//	pickle of a SharedMemory                      Attach(v) / Ref / (*SharedMemory).MarshalPickle
//	ShareableList(seq) / ShareableList(name=n)    CreateShareableList("", items, layout) / OpenShareableList(n)
//	sl[i] / sl[i] = x / len(sl) / sl.format       Get(i) / Set(i, x) / Len() / Format()
//	sl.count(x) / sl.index(x)                     Count(x) / Index(x)
//	Value(t, x) / Array(t, seq) in a Go child     ValueFrom / ArrayFrom (process.ChildProcess.Arg(i))
//	v.value / v.get_lock()                        Load/Store… / Lock, Unlock, WithLock
//	Value / Array made by a Go parent             NewValue / NewArray, passed in process.Spec.Args
//
// ShareableList items are int64, float64, bool, string, []byte or nil.
//
// # Names
//
// Python prefixes shared memory names with '/' for shm_open and strips it
// again in .name; Go accepts both forms and reports the bare one
// ("psm_1a2b3c4d", the file /dev/shm/psm_1a2b3c4d). Names with any other '/',
// NUL, "." or ".." are rejected with ErrInvalidName, so a name received from
// another process cannot reach outside /dev/shm.
//
// # Resource tracking
//
// Go has no resource tracker. It never registers a segment, Close never
// unlinks, and only an explicit Unlink (by any process) removes a name. A Go
// creator therefore owns the name and must Unlink it.
//
// Python is different (WIRE.md §8.1): in CPython 3.8–3.12 every
// SharedMemory(...) — create or attach — registers the name with that
// process's resource tracker, which unlinks every still-registered name
// when the process exits. A Python process that merely attaches to a Go (or
// Python) segment and exits therefore unlinks it; the creator's Unlink then
// fails with fs.ErrNotExist, while existing mappings keep working. 3.13
// added SharedMemory(name, track=False) to attach without registering. A Go
// child of a Python parent can opt in to the parent's tracker with
// process.ChildProcess.RegisterResource(shm.TrackerName(), "shared_memory").
//
// # ShareableList layouts
//
// CPython 3.8 and 3.9+ lay out a ShareableList differently (per-item sizes
// versus cumulative offsets after the count); the layouts are not
// compatible. OpenShareableList recognises either from the header;
// CreateShareableList takes the layout to write (LayoutFor(3, minor) for the
// Python that will open it). Corrupt or hostile contents — a header claiming
// more than the segment holds, offsets outside it, unknown formats — give
// errors wrapping ErrCorrupt, never a crash.
//
// # Concurrency
//
// Handles are safe for concurrent use by goroutines. The memory itself is
// shared with other processes without any locking, exactly as in Python;
// use the lock of a synchronized Value/Array, or your own, to coordinate.
// Another process truncating a segment after it was mapped makes accesses
// fault: ShareableList methods turn such faults into errors, Bytes() users
// get a crash as C code would.
package sharedmem
