// Package pool speaks multiprocessing.Pool's worker protocol in both
// directions.
//
// A Pool's workers are spawned children running
// multiprocessing.pool.worker(inqueue, outqueue, initializer, initargs,
// maxtasks, wrap_exception). The parent writes tasks (job, i, func, args,
// kwds) to inqueue, a SimpleQueue; func is the user's function, or mapstar
// / starmapstar with args ((func, chunk),) for map and starmap. Each worker
// answers (job, i, (success, value)) on outqueue, where a failed call's
// value is the exception (wrapped as rebuild_exc(exc, traceback_text) when
// wrap_exception is true). None on inqueue tells a worker to exit; a
// worker also exits after maxtasks tasks, and the parent starts
// replacements for workers that exit.
//
// # Python parent, Go workers
//
// The Python package mpwire (python/ in the repository: pip install ./python)
// has GoPool(executable, processes, initializer, initargs,
// maxtasksperchild): Python's own Pool with its Process replaced
// by mpwire.GoProcess, so the workers are a Go program whose main calls
// ServeWorker. Functions are named: Python passes GoFunc("square") or
// "square", the Go program registered it:
//
//	func main() {
//		pool.Register("square", func(x int64) int64 { return x * x })
//		if pool.IsWorker() {
//			pool.ServeWorker()
//		}
//		…
//	}
//
// Arguments are decoded into the parameter types (see Register). A Go
// error or panic raises RuntimeError in the caller (a returned
// *pickle.PythonError raises that exception instead), with the Go text,
// and for panics the stack, as the remote traceback (exc.__cause__).
//
// # concurrent.futures with Go workers
//
// The same worker program serves the Python package's
// GoProcessPoolExecutor(executable, max_workers, initializer, initargs,
// max_tasks_per_child): CPython's own
// concurrent.futures.ProcessPoolExecutor (submit, map with chunksize and
// timeout, as_completed, wait, cancel, shutdown(cancel_futures),
// BrokenProcessPool, asyncio's run_in_executor) whose mp_context starts the
// Go program. ServeWorker (Worker) sees the process target
// concurrent.futures.process._process_worker and runs that loop instead
// (docs/spec.md#executor-workers): call items from the call queue, result
// items on the result queue, the shutdown sentinel and max_tasks. An
// error returned by the function arrives as the Python exception it names
// (a *pickle.PythonError: ValueError stays ValueError), anything else as
// RuntimeError; future.exception().__cause__ holds the Go text. A panic
// inside the function is such a RuntimeError (with the Go stack); a worker
// that dies (a panic in another goroutine, os.Exit) breaks the executor
// with BrokenProcessPool, as a Python worker's death does.
//
// # Waiting like Python
//
// A worker waits for its next task the way a Python worker does: in a
// system call on the queue's pipe (the queues' Conns use
// connection.Config.ThreadWait, off Go's network poller), with no
// per-task context, timer or goroutine; the end of its context closes the
// queues instead. With tiny tasks the Python parent is the bottleneck, and
// that keeps a Go worker's CPU per task below a Python worker's (see the
// pool case of go run ./benchmarks).
//
// # Go parent, Python workers
//
// New starts Python children (one per CPU, with the interpreter
// process.Python finds) through process.Start with target
// multiprocessing.pool:worker, so the workers run CPython's own loop;
// Config.New takes settings (Processes, Python, Initializer,
// MaxTasksPerChild, …). Map, Starmap, Imap, ImapUnordered, Apply and ApplyAsync take the
// function as "module:function", or as a Python callable already in pickle
// form (a pickle.Global, or a *pickle.Object such as a functools.partial
// or a bound method), which is sent unchanged; results are decoded into the caller's
// types; a Python exception arrives as a *TaskError wrapping the
// *pickle.PythonError, with the remote traceback text. Config.Executable
// starts Go workers instead (the same protocol, Go on both sides).
//
// # Differences from Python
//
// Like Python's pool, a worker that dies while running a task loses that
// task (the call waits until its context ends), and a worker killed while
// it waits for a task holds the inqueue's read lock forever, which stalls
// the other workers. Go callers pass contexts, the async calls too
// (ApplyAsync(ctx, …), MapAsync(ctx, …)): a call's context stops its
// dispatching and its wait (the call is then dropped from the pool's cache:
// results of its tasks already sent are discarded, and Close does not wait
// for them); New's context terminates the whole pool. A task whose
// "module:function" cannot be imported makes the Python worker die in
// get(), as in Python: the worker is replaced and the call waits until its
// context ends — unless three workers die that way in a row (a Map of
// several chunks), when the pool gives up as described below.
//
// Unlike Python, a pool whose workers cannot get going says so instead of
// restarting them forever. New fails when a worker exits during its
// bootstrap — an Initializer (or other argument) that cannot be imported —
// with process.ErrBootstrap and the worker's traceback
// (process.ExitError.Stderr). When three workers in a row exit with an
// error or fail to start without a single result arriving in between (an
// Initializer that raises, a task that kills every worker), the pool
// terminates itself: waiting and later calls fail with ErrWorkerFailed,
// which holds the last worker's *process.ExitError. Config.Logger records
// worker starts, exits (with the last line of their stderr) and the pool
// giving up; the log/slog equivalent of multiprocessing.log_to_stderr() is
// Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}.
package pool
