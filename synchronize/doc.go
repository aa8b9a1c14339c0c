// Package synchronize shares multiprocessing's synchronization primitives
// with Python processes: Lock, RLock, Semaphore, BoundedSemaphore
// (named glibc semaphores, see internal/sem), and Condition and Event,
// which CPython builds from several of them with a pure-Python protocol
// that this package replicates step by step. The semaphore file layout, the
// pickled SemLock state and the Condition protocol are specified in
// docs/spec.md#semlock.
//
//	Python (spawn context)          Go
//	ctx.Lock()                      NewLock()               OpenLock(pickled)
//	ctx.RLock()                     NewRLock()              OpenRLock(pickled)
//	ctx.Semaphore(n)                NewSemaphore(n)         OpenSemaphore(pickled)
//	ctx.BoundedSemaphore(n)         NewBoundedSemaphore(n)  OpenBoundedSemaphore(pickled)
//	ctx.Condition(lock=None)        NewCondition(lock)      OpenCondition(pickled)
//	ctx.Event()                     NewEvent()              OpenEvent(pickled)
//	acquire() / (timeout=t) / (False) Acquire(ctx) / AcquireTimeout(ctx, t) / TryAcquire()
//	wait() / wait(t) / wait_for       Wait(ctx) / WaitTimeout(ctx, t) / WaitFor(ctx, pred)
//	notify(n) / notify_all()          Notify(ctx, n) / NotifyAll(ctx)
//	is_set/set/clear/wait(t)          IsSet(ctx) / Set(ctx) / Clear(ctx) / Wait(ctx), WaitTimeout(ctx, t)
//
// Every call that can block takes a context; when it ends the call returns
// an error matching ctx.Err(). The …Timeout helpers report Python's timeout
// result instead: false with a nil error when t passed first.
//
// "pickled" is the *pickle.Object a Go worker receives for the object
// (process.ChildProcess.Arg); Open fails unless its creator still holds
// the name. Every type implements process.SpawnReducer, so process.Start
// hands it to a Python child, which rebuilds the real multiprocessing
// object.
//
// # Lifetime
//
// A New object owns its semaphore names and unlinks them on Close, as a
// Python creator does when its object is collected. A child (Python or Go)
// opens the names while it unpickles its arguments, right after it starts,
// and keeps working after the unlink; Close the Go creator only once the
// children are running (after their first message, or after Join). Every
// name a New object creates is registered with the process's default
// resource tracker, if it has one (process.SetDefaultTracker; in a Go
// worker, the Python parent's tracker), which unlinks it if this process
// dies without closing the object; Track picks another tracker. Without a
// tracker, process.CleanupResources (or CleanupResourcesOnSignal) unlinks
// what was not closed; a Go creator killed by SIGKILL without a tracker
// leaves /dev/shm/sem.mp-* files behind.
//
// # Failure
//
// Nothing is robust against a peer that dies holding a unit: the lock
// stays taken, as in Python. Every blocking Go call takes a context so
// that a Go process never hangs without a deadline; Python's calls
// without a timeout would hang.
package synchronize
