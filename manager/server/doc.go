// Package server is a Go-hosted multiprocessing manager server (Python's
// SyncManager server; docs/spec.md#manager) that Python clients use
// unchanged: SyncManager(address, authkey).connect(), BaseManager.register'ed
// typeids, proxies passed to other processes. Go clients use package
// manager.
//
//	srv := server.New([]byte("secret"))          // SyncManager's typeids
//	srv.Register("get_jobs", server.Methods{…})  // BaseManager.register
//	err := srv.Listen("tcp", "127.0.0.1:50000")
//	<-srv.Done()                                  // a client sent shutdown
//
// # Objects
//
// dict, list, set (Python 3.14's typeid), Namespace, Queue, JoinableQueue,
// Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier,
// Value, Array (and Iterator for dict iteration) are Go values (NewDict,
// NewList, NewSet, …), each behind its own lock, with Python's semantics
// and exceptions, including what 3.14 clients call (list clear/copy, dict
// |=, |, reversed and fromkeys, locked). Register serves an existing Go
// Object under a typeid, like BaseManager.register('get_jobs',
// callable=lambda: jobs); Methods makes an Object of Go functions;
// RegisterFactory registers a typeid with a constructor. Objects are
// called from one goroutine per client connection (and the ready-made
// dict, list, set, Namespace, Value, Array and iterator also from the
// server's event loops, Config.EventLoops) and must be safe for concurrent
// use.
//
// # Python code: Pool, Barrier actions, callbacks
//
// A Go server cannot run Python functions itself; Python processes do it
// for it. The Pool typeid (manager.Pool(processes, initializer, initargs,
// maxtasksperchild)) is a pool of Python workers running CPython's own
// worker loop (package pool), to which the client's pickled functions are
// passed unchanged: map, starmap, apply, their _async forms (AsyncResult
// objects: get, ready, successful, wait), imap and imap_unordered
// (Iterators), close, terminate and join, with Python's exceptions. A
// Barrier(action=...) runs its action, and a Pool call its callback and
// error_callback, before the waiters (the AsyncResult) are released, as in
// Python: a bound method of a proxy of this server's own objects (a list
// proxy's append, say) is called on the object directly; any other
// callable runs in a one-worker helper pool. Config.Pool sets the
// workers' interpreter, sys.path additions and main script (so functions
// defined in the client's __main__ resolve; mpwire.Manager() in Python
// passes its own) and their authkey (the server's), which proxies among
// the arguments need to connect back.
//
// # Protocol
//
// The server authenticates with the listener package (legacy MD5 and
// {sha256} clients), serves each connection in its own goroutine (with
// more than Config.ThreadWaitConns open, an event loop answers the calls
// that cannot wait for it, Config.EventLoops), answers
// create, incref, decref, get_methods, debug_info, number_of_objects, dummy
// and shutdown, and the #GETVALUE, __str__ and __repr__ fallbacks as
// Python's Server does. Malformed requests get a #TRACEBACK reply;
// oversized frames close that connection only. A proxy of the server's own
// object stored inside a shared object (a list of dicts) keeps that object
// alive, as Python's id_to_local_proxy_obj does. Not supported:
// Condition(lock) with an explicit lock, list.sort(key=...),
// Queue.shutdown (3.13) and Pool(context=...). The command mpmanager
// (cmd/mpmanager) runs a Server for Python programs.
//
// # Limits
//
// Config.Listener holds the connection settings: the authkey, the
// handshake scheme and timeout, and the connection.Config whose MaxFrame
// (64 MiB by default) bounds one request and whose DecMode decodes it (the
// pickle package's limits by default). The server also bounds what one
// client can make it hold or send: its ready-made lists, dicts, Arrays and
// dict iterators hold at most Config.MaxItems items together
// (DefaultMaxItems by default), a reply is at most Config.MaxReply bytes
// (the request bound by default), and reprs are cut at
// pickle.DefaultMaxRepr; past a bound a call fails with MemoryError and
// changes nothing. Config.Logger (a *slog.Logger; nil logs nothing)
// records every bound a client runs into — request frame, decoder limit,
// MaxItems, MaxReply — with the client's address, the request's method and
// typeid and the limit's name, and, through the listener, rejected
// handshakes.
// Pools' Python worker processes number at most
// Config.MaxWorkers together (DefaultMaxWorkers by default).
package server
