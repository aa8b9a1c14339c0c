// Package manager speaks the protocol of Python's multiprocessing managers
// (BaseManager, SyncManager; docs/spec.md#manager) in both roles: a Go Client for
// shared objects held by a Python manager server, and a Go Server that
// Python clients (SyncManager(address, authkey).connect()) use unchanged.
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
// EventProxy, BarrierProxy, ValueProxy, ArrayProxy and IteratorProxy.
// Client.Create and Proxy.Call reach any registered typeid and method
// (custom BaseManager.register typeids, AutoProxy).
//
// Errors: a Python exception raised by the shared object (#ERROR) is an
// *Exception wrapping *pickle.PythonError (type, args), so
// errors.As(err, &pe) and IsPythonError(err, "KeyError") work, and
// queue.Empty, queue.Full, threading.BrokenBarrierError and StopIteration
// also match ErrEmpty, ErrFull, ErrBrokenBarrier and ErrStopIteration. A
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
// # Server
//
// NewServer returns a Go-hosted SyncManager: dict, list, Namespace, Queue,
// JoinableQueue, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event,
// Barrier, Value, Array (and Iterator for dict iteration) are Go values,
// each behind its own lock, with Python's semantics and exceptions.
// Register serves an existing Go object under a typeid, like
// BaseManager.register('get_jobs', callable=lambda: jobs). The server
// authenticates with the listener package (legacy MD5 and {sha256}
// clients), serves each connection in its own goroutine, answers create,
// incref, decref, get_methods, debug_info, number_of_objects, dummy and
// shutdown, and the #GETVALUE, __str__ and __repr__ fallbacks as Python's
// Server does. Malformed requests get a #TRACEBACK reply; oversized frames
// close that connection only. A proxy of the server's own object stored
// inside a shared object (a list of dicts) keeps that object alive, as
// Python's id_to_local_proxy_obj does. Not supported by the Go server:
// Pool and AsyncResult, Condition(lock) with an explicit lock, Barrier
// actions, list.sort(key=...), and Queue.shutdown (3.13).
//
// # Limits
//
// Every frame is bounded (Options.MaxMessage, ServerOptions.MaxMessage;
// 64 MiB by default) and decoded with the pickle package's limits
// (Options.Decode, ServerOptions.Decode). Handshakes are bounded by
// listener.Config.HandshakeTimeout. A Go Server bounds what one client can
// make it hold: its ready-made lists, dicts, Arrays and dict iterators hold
// at most ServerOptions.MaxItems items together, a reply is at most
// ServerOptions.MaxReply bytes, and reprs are cut at pickle.DefaultMaxRepr;
// past a bound a call fails with MemoryError and changes nothing. A pickled proxy found inside a returned
// value is left as a *pickle.Object; Rebuild turns it into a Proxy.
package manager
