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
//	v.value / v.get_lock()                        Load/Store… / Lock(ctx), Unlock, WithLock
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
// A Go creator owns the name and Unlinks it; Close never unlinks. Create
// registers the name with the process's default resource tracker
// (process.SetDefaultTracker; a Go worker uses its Python parent's), which
// unlinks it if it is still registered when the tracker's last user exits;
// Unlink unregisters it. Without a tracker, process.CleanupResources
// unlinks the segments this process created and did not unlink. Open never
// registers.
//
// Python is different (docs/spec.md#sharedmemory): in CPython 3.8–3.12 every
// SharedMemory(...) — create or attach — registers the name with that
// process's resource tracker, which unlinks every still-registered name
// when the process exits. A Python process that merely attaches to a Go (or
// Python) segment and exits therefore unlinks it; the creator's Unlink then
// fails with fs.ErrNotExist, while existing mappings keep working. 3.13
// added SharedMemory(name, track=False) to attach without registering.
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
// # Value and Array
//
// multiprocessing.sharedctypes allocates from heap arenas: on Linux an
// unlinked file in /dev/shm, shared only by passing its descriptor to spawned
// children. A Value/Array pickles (docs/spec.md#value-and-array) as
//
//	synchronized(rebuild_ctype(ctypes.c_int, BufferWrapper{_state: ((rebuild_arena(size, _DupFd{fd}), start, stop), nbytes)}, length), RLock(...))
//
// without the synchronized(…, lock) wrapper for RawValue, RawArray and
// lock=False. A Go worker started by a Python parent (the Python package's
// mpwire.GoProcess) calls ValueFrom or ArrayFrom on process.ChildProcess.Arg(i):
// the inherited arena is mapped once however many objects live in it, the
// lock is opened by name. A Go parent makes objects with NewValue, NewArray,
// NewRawValue, NewRawArray (one page-rounded arena each, named
// "pym-<pid>-<random>" and unlinked at once, as Python does) and passes them
// in process.Spec.Args: they implement process.SpawnReducer, so a Python
// child receives a normal Synchronized / SynchronizedArray /
// SynchronizedString or raw ctypes object over the same memory, and a Go
// child can use ValueFrom/ArrayFrom the same way.
//
// Element types are the ctypes simple types of sharedctypes' typecodes
// (c b B h H i I l L q Q f d u) plus c_bool, in Linux x86-64 sizes (c_long
// and c_longlong are 8 bytes; Value('q') arrives as ctypes.c_long, its
// alias). Load/Store convert to int64, uint64, float64, bool, []byte (c_char)
// and string (c_wchar), refusing values that do not fit (ErrRange) where
// ctypes would truncate. Loads and stores of 4- and 8-byte elements are
// atomic; Pointer and Slice give zero-copy typed views. ctypes Structures
// and pointers are not supported (ErrType).
//
// The guarding lock (get_lock(): an RLock unless the Python code passed a
// Lock) is shared with Python through package synchronize: Lock, Unlock, WithLock
// and GetLock().Acquire(ctx)/AcquireTimeout(ctx, d)/TryAcquire exclude Python processes
// and, inside this process, other goroutines (it is not re-entrant in Go).
// Python's recursion count is per thread and process-local, so a Go process
// can only take or give back the whole lock. Plain Load/Store, like Python's
// .value, do not lock.
//
// Lifetimes: a Go-made object's lock name is unlinked by Close, so close it
// only after the children have started (they open the lock by name while
// unpickling; mappings survive the unlink). A Python parent's lock lives
// while its object does.
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
