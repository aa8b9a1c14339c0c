// Package queue puts and gets on real multiprocessing Queues, SimpleQueues
// and JoinableQueues shared with Python processes: a one-way pipe whose
// frames are pickles, guarded by named POSIX semaphores (docs/spec.md#queue).
//
// # Model
//
//	Python                              Go (created here)        Go (rebuilt in a Go worker)
//	ctx.Queue(maxsize)                  New(maxsize)             Open(child, child.Arg(i))
//	ctx.JoinableQueue(maxsize)          NewJoinable(maxsize)     OpenJoinable(child, v)
//	ctx.SimpleQueue()                   NewSimple()              OpenSimple(child, v)
//	put(obj) / put(obj, True, t)        Put(ctx, v) / PutTimeout(ctx, t, v)
//	put_nowait(obj)  → queue.Full       PutNowait(v)             → ErrFull
//	get() / get(True, t) → queue.Empty  Get(ctx, &v) / GetTimeout(ctx, t, &v) → ErrEmpty
//	get_nowait()                        GetNowait(&v)
//	qsize() empty() full() _maxsize     Qsize() Empty() Full() Maxsize()
//	close() join_thread()               Close() JoinThread(ctx)
//	cancel_join_thread()                CancelJoinThread()
//	task_done() join()                  TaskDone(ctx) Join(ctx)
//	ValueError (closed)                 ErrClosed
//
// Get unpickles into any pointer, as encoding/json does (*any gives the
// generic values of package pickle); GetPickle and PutPickle move raw
// pickles. Every blocking call takes a context; a deadline that ends a Put
// or a Get gives an error matching both ErrFull/ErrEmpty and
// context.DeadlineExceeded, which is also what PutTimeout and GetTimeout
// return when their time passes (Python raises Full/Empty). The
// package-level functions use the defaults; Config's methods of the same
// names take settings (item size limit, pickle modes, pipe size, resource
// tracker, feeder error handler, logger: Config.Logger records feeder
// errors, items over a limit and a broken pipe).
//
// # Protocol
//
// Exactly Python's (multiprocessing/queues.py, unchanged in this respect
// from 3.8 to 3.13): a producer takes _sem (a free slot) and hands the
// pickled item to a feeder goroutine, which writes one frame per item under
// _wlock; a consumer takes _rlock, waits for data, reads one frame,
// releases _sem, releases _rlock and unpickles. qsize() is maxsize minus
// _sem's value. JoinableQueue puts also release _unfinished_tasks under
// _cond; TaskDone and Join run synchronize.Condition's protocol.
//
// # Feeder, Close and JoinThread
//
// Put returns once the item is buffered, like Python's, so a Put never
// deadlocks on a full pipe that the same process would drain later. The
// buffered items are written by the feeder after Close too: call Close and
// then JoinThread(ctx) to be sure they reached the pipe before the program
// exits (a Go program, unlike Python, does not wait for the feeder at exit).
// JoinThread blocks while nobody reads a full pipe, as Python's does.
// Abort drops what is buffered.
//
// # Lifetime of the names
//
// A queue made by New owns its semaphores ("/mp-xxxxxxxx" in /dev/shm)
// and unlinks them as soon as it is closed (Close or Abort), without waiting
// for the feeder to flush buffered items; the mappings this process and its
// children already hold keep working. A child started with process.Start
// opens them while unpickling its arguments, right after it starts; close
// the Go creator only after the children are running (after their first
// item, or after Wait). The names are registered with the process's
// default resource tracker (process.SetDefaultTracker; a Go worker uses its
// Python parent's), or with Config.Tracker, which unlinks them as Python's
// tracker does if the creator dies before Close, SIGKILL included. Without
// a tracker, a creator that exits without closing its queues leaves
// /dev/shm/sem.mp-* files behind unless it calls process.CleanupResources
// (or installs process.CleanupResourcesOnSignal). Queues rebuilt from a
// pickled state (Open, OpenJoinable, OpenSimple) never unlink anything.
//
// # Waiting
//
// A Get that nothing but Close can interrupt (its context has no Done
// channel, as context.Background()) waits for its item the way Python's
// get() does: _rlock in a futex wait, then the pipe in ppoll(2) on the
// calling thread, off Go's network poller (connection.Config.ThreadWait,
// which every queue uses), without timers or goroutines per call. A Go
// pool worker gets its tasks that way. Calls with a context that can end
// wait the same, interrupted through an eventfd.
//
// # Failure
//
// A peer killed while holding _rlock or _wlock leaves the lock taken:
// every later Python get()/put() in any process hangs (there is no owner
// death detection in POSIX semaphores). Go calls with a context return
// when it ends instead. A peer killed in the middle of writing a large
// item leaves a partial frame; the next reader blocks in the middle of it
// (Python) or until its context ends (Go). The pipe cannot be
// resynchronised after that: that Get and every later one fail with
// ErrBroken (not ErrEmpty, even when the deadline ended the read).
//
// All types are safe for concurrent use by multiple goroutines.
package queue
