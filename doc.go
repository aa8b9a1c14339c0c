// Package mpwire is the root of a pure-Go (no cgo) implementation of CPython
// multiprocessing's wire protocols, so that Go and Python processes work
// together as one program: pickle in length-prefixed frames, Listener/Client
// authentication, Queues over pipes and POSIX semaphores, the spawn start
// method, managers, shared memory and pools. The wire format is specified in
// docs/spec.md. mpwire is licensed under the Apache License 2.0 (the LICENSE
// file of the module).
//
// A Python program starts a Go worker with the Python package mpwire
// (GoProcess, GoPool; pip install ./python from a checkout, or package
// github.com/mpwire/mpwire/python for the copy this module embeds), and
// the worker reads its arguments with process.Child. Queues and locks handed
// to a Go worker must come from a spawn or forkserver context
// (mpwire.get_context() in Python): Linux's default fork context before
// Python 3.14 makes semaphores a spawned process cannot open.
//
// This package holds only what every other package shares: the error
// sentinels of conditions that several packages report (ErrEmpty, ErrFull,
// ErrClosed, ErrBadState, ErrProtocol, ErrUnsupported). Each package
// re-exports the ones it returns (queue.ErrEmpty is mpwire.ErrEmpty, and so
// is manager.ErrEmpty), so errors.Is(err, queue.ErrEmpty) and
// errors.Is(err, manager.ErrEmpty) are the same test.
//
// # Packages
//
//	pickle        Python pickle, protocols 0–5: values ⇄ bytes, with limits; no I/O
//	connection    multiprocessing.connection.Connection: frames over fds and sockets; Pipe, Wait
//	listener      Listener/Client: addresses and the HMAC handshakes
//	synchronize   Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event shared with Python
//	process       the spawn start method both ways: Go workers of Python parents, Python children of Go
//	queue         Queue, SimpleQueue, JoinableQueue shared with Python processes
//	manager       a Go client of manager servers (BaseManager, SyncManager proxies)
//	manager/server a Go-hosted manager server that Python clients use unchanged
//	sharedmem     SharedMemory, ShareableList, Value/Array shared with Python
//	pool          multiprocessing.Pool both ways
//	python        the Python package mpwire (GoProcess, GoPool), embedded for users of the Go module
//
// # Conventions
//
// Every package follows the same rules (CONTRIBUTING.md in the repository
// has the full text):
//
//   - Settings: one Config struct per package whose zero value means the
//     documented defaults (a zero field takes its default; a negative limit
//     means unlimited). Package-level functions use the defaults
//     (connection.Pipe, listener.Dial, queue.New, manager.Dial); the
//     same-named methods of the Config take the settings
//     (connection.Config{…}.Pipe, queue.Config{…}.New), as net.Dialer and
//     net.ListenConfig do. Pickle settings travel as pickle.DecMode and
//     pickle.EncMode fields (nil: pickle's defaults).
//   - Blocking calls take a context.Context first. When the context ends,
//     the call returns an error for which errors.Is(err, ctx.Err()) holds
//     (context.DeadlineExceeded also reports Timeout() == true as a
//     net.Error). Where Python raises an exception on timeout (queue.Empty,
//     queue.Full) the error also matches that sentinel (ErrEmpty, ErrFull).
//     Python-style timeouts are thin helpers named …Timeout(ctx, d, …) that
//     report what Python's timeout reports: false from AcquireTimeout and
//     WaitTimeout, ErrEmpty from GetTimeout.
//   - Errors: one sentinel per condition (this package's where several
//     packages share it), wrapped with %w and context; Python exceptions
//     that arrive over the wire are *pickle.PythonError (errors.As).
//   - Names: methods that mirror Python keep Python's words in Go case
//     (Qsize, TaskDone, GetNowait, Authkey); Go-only concepts use Go names.
package mpwire
