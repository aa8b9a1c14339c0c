// Package sem implements glibc-compatible named POSIX semaphores in pure Go
// (no cgo), so that a Go process can share multiprocessing Lock, RLock,
// Semaphore and BoundedSemaphore objects with CPython.
//
// # Model
//
// CPython's _multiprocessing.SemLock wraps a glibc named semaphore: a
// 32-byte file /dev/shm/sem.<name> that every process maps MAP_SHARED. The
// first 8 bytes are one 64-bit word holding the count in the low half and
// the number of sleeping waiters in the high half; bytes 8–11 hold 128
// (glibc's "process-shared" futex marker). Waiters sleep on the low 32-bit
// half with shared futex operations. Sem reproduces glibc's "new semaphore"
// algorithm (nptl sem_wait/sem_post, glibc ≥ 2.21, 64-bit targets) on that
// mapping, so Go and C waiters and posters wake each other; see docs/spec.md#semlock.
//
// SemLock adds what CPython keeps in process memory on top of the shared
// count: the kind (RecursiveMutex for RLock, Semaphore for everything
// else), maxvalue, and the recursion count/ownership of an RLock. State is
// the tuple (handle, kind, maxvalue, name) that a SemLock pickles to when a
// spawned child inherits it; Rebuild turns one back into a SemLock by
// opening the semaphore by name, exactly as SemLock._rebuild does.
//
// # Python ⇄ Go
//
//	Python (multiprocessing, spawn ctx)        Go
//	ctx.Lock()                                 NewLock()            Semaphore kind, value 1, maxvalue 1
//	ctx.RLock()                                NewRLock()           RecursiveMutex kind, value 1, maxvalue 1
//	ctx.Semaphore(n)                           NewSemaphore(n)      maxvalue SemValueMax
//	ctx.BoundedSemaphore(n)                    NewBoundedSemaphore(n)
//	_multiprocessing.SemLock(k, v, m, name, False)  NewSemLock(k, v, m, name)
//	SemLock._rebuild(handle, kind, max, name)  Rebuild(State{...})
//	acquire() / acquire(timeout=t) / acquire(False)  Acquire(ctx) / AcquireTimeout(t) / TryAcquire()
//	release()                                  Release()
//	_get_value() _is_zero() _count() _is_mine()  GetValue() IsZero() Count() IsMine()
//	ValueError("semaphore or lock released too many times")  ErrReleasedTooManyTimes
//	AssertionError("attempt to release recursive lock not owned by thread")  ErrNotOwner
//
// # Lifecycle
//
// A creator (Python or Go) owns the name: Python unlinks it when the
// creating object is garbage-collected or its process exits, so Open or
// Rebuild must happen while the creator is alive; afterwards the mapping
// keeps working without the name. A Go creator calls Unlink itself; Create
// and CreateRandom record the name for process.CleanupResources and
// register it with the process's default resource tracker
// (internal/restrack), and Unlink withdraws both.
//
// # Cancellation
//
// A futex wait cannot watch a Go channel, so a waiter whose context can be
// cancelled sleeps in slices of at most WaitSlice (50 ms) and checks the
// context between slices; cancellation is therefore honoured within about
// 50 ms. Deadlines (context deadlines and AcquireTimeout) are exact: the
// last slice ends at the deadline. A context that can never be cancelled
// (context.Background) sleeps in one futex wait until woken. Close wakes every
// waiter of the semaphore (spurious wake-ups are harmless to glibc
// waiters) until its own waiters have left, then unmaps.
//
// # Limits
//
// Linux, 64-bit little-endian targets only (the layout and futex word
// offset are glibc's 64-bit ones). Nothing in the semaphore is robust: a
// process that dies holding a unit leaves it taken, as in Python. Another
// process truncating the semaphore file after Open makes later accesses
// fault (SIGBUS), as it would for glibc.
package sem
