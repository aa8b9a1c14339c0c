// Package manager is a Go client of Python's multiprocessing managers
// (BaseManager, SyncManager; docs/spec.md#manager): Dial a manager server —
// a Python one, or the Go-hosted server of package manager/server — and use
// its shared objects through typed proxies. It also holds the protocol's types
// both roles share (Token, Exception, RemoteError, the address forms).
//
// # Client
//
//	c, err := manager.Dial(ctx, "tcp", "127.0.0.1:50000", []byte("secret"))
//	d, err := c.Dict(ctx, nil)          // manager.dict()
//	err = d.Set(ctx, 1, "1")            // d[1] = '1'
//	v, err := d.Get(ctx, "missing")     // KeyError → *manager.Exception
//	defer d.Close()                     // decref: the server frees the dict
//
// Every SyncManager typeid has a typed proxy whose methods mirror Python's:
// DictProxy, ListProxy, NamespaceProxy, QueueProxy (Queue, JoinableQueue),
// AcquirerProxy (Lock, RLock, Semaphore, BoundedSemaphore), ConditionProxy,
// EventProxy, BarrierProxy, ValueProxy, ArrayProxy and IteratorProxy;
// SetProxy is Python 3.14's set typeid, which a 3.14 SyncManager or the Go
// server serves. Client.Create and Proxy.Call reach any registered typeid
// and method (custom BaseManager.register typeids, AutoProxy, a Pool).
//
// Errors: a Python exception raised by the shared object (#ERROR) is an
// *Exception wrapping *pickle.PythonError (type, args), so
// errors.As(err, &pe) and IsPythonError(err, "KeyError") work, and
// queue.Empty, queue.Full, threading.BrokenBarrierError and StopIteration
// also match ErrEmpty, ErrFull, ErrBrokenBarrier and ErrStopIteration (ErrEmpty
// and ErrFull are the mpwire sentinels package queue returns too). A
// server-side failure reported as text (#TRACEBACK, #UNSERIALIZABLE) is a
// *RemoteError.
//
// Reference counting follows Python: a proxy from Create or from a #PROXY
// reply owns one server reference, Rebuild of a pickled proxy increfs, and
// Close decrefs, so number_of_objects returns to zero when every proxy is
// closed. Proxies received through spawn (FromChild) take no reference, as
// in Python.
//
// Concurrency: a Client and its proxies are safe for concurrent use. Control
// requests use one connection each (as Python does); method calls use a
// pool of served connections, one call at a time per connection, so
// concurrent and blocking calls proceed in parallel like calls from
// separate Python threads. RLock and Condition proxies use one dedicated
// connection each because the server identifies the owner by connection;
// Clone gives another owner. Blocking calls that take a context (Queue.Get,
// Queue.Put, Acquire, Event.Wait, Condition.Wait) wait on the server in
// slices of at most one second, so cancelling one never leaves a server
// thread that later takes an item or a lock.
//
// # Spawn
//
// A Python parent can pass proxies to a Go worker started with
// mpwire.GoProcess: they arrive as RebuildProxy(...) with the authkey, and
// FromChild(ctx, child, child.Arg(i)) returns a working proxy. A Go parent
// can pass a *Proxy (or any typed proxy's embedded *Proxy) to a Python
// child through process.Start: Proxy implements process.SpawnReducer.
//
// # Limits
//
// Dial, Rebuild and FromChild use the defaults; Config's methods of the
// same names take settings. Every reply is bounded by
// Config.Dialer.Conn.MaxFrame (64 MiB by default) and decoded with
// Config.Dialer.Conn.DecMode (the pickle package's limits by default);
// connections read ahead 4 KiB (Config.Dialer.Conn.ReadAhead), so a reply's
// header and body arrive in one read, and a dial to a unix socket whose
// accept backlog is full is retried until ctx ends;
// handshakes are bounded by Config.Dialer.HandshakeTimeout. Every call
// takes a context first; when it ends the call returns an error matching
// ctx.Err(). A pickled proxy found inside a returned value is left as a
// *pickle.Object; Rebuild turns it into a Proxy. The bounds a Go-hosted
// server puts on what its clients make it hold (items, reply size, reprs)
// are server.Config's (package manager/server).
package manager
