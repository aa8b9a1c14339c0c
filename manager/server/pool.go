package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
)

// The Pool typeid (docs/spec.md#manager): a multiprocessing.pool.Pool whose
// workers are Python processes running CPython's own worker loop
// (package pool), driven by the Go server. Clients send Python functions
// (pickled by reference, or callable objects), which the server passes to
// the workers unchanged. apply_async, map_async and starmap_async return
// AsyncResult objects (AutoProxy: get, ready, successful, wait), imap and
// imap_unordered Iterators. Callbacks and error callbacks run when the
// result arrives, before the AsyncResult is ready, as in Python: a bound
// method of a proxy of this server's own objects (call_args.append) is
// called on the object directly; any other callable runs in a Python
// worker (see Server.callPython).

var (
	poolExposed        = []string{"apply", "apply_async", "close", "imap", "imap_unordered", "join", "map", "map_async", "starmap", "starmap_async", "terminate"}
	asyncResultExposed = []string{"get", "ready", "successful", "wait"}
	poolMethodTypes    = map[string]string{"apply_async": "AsyncResult", "map_async": "AsyncResult", "starmap_async": "AsyncResult", "imap": "Iterator", "imap_unordered": "Iterator"}

	globalTimeoutError = pickle.Global{Module: "multiprocessing.context", Name: "TimeoutError"}
	globalGetattr      = pickle.Global{Module: "builtins", Name: "getattr"}
)

// DefaultMaxWorkers is the default of Config.MaxWorkers: 64, or 8 per
// CPU on machines with more than 8.
var DefaultMaxWorkers = max(64, 8*runtime.NumCPU())

// pyWorkers are a Server's Python worker processes: the pools it serves
// and a one-worker helper pool for Barrier actions and callbacks that are
// not methods of the server's own objects.
type pyWorkers struct {
	cfg pool.Config
	max int // < 0: no bound

	mu      sync.Mutex
	pools   map[*pool.Pool]int // worker count of each live pool
	running int                // their sum
	helper  *pool.Pool
	closed  bool
}

// init takes the settings of the workers; authkey is the server's, the
// workers' own unless cfg sets one.
func (w *pyWorkers) init(cfg pool.Config, authkey []byte, maxWorkers int) {
	w.cfg = cfg
	if w.cfg.Authkey == nil {
		w.cfg.Authkey = authkey
	}
	switch w.max = maxWorkers; {
	case maxWorkers == 0:
		w.max = DefaultMaxWorkers
	case maxWorkers < 0:
		w.max = -1
	}
	w.pools = map[*pool.Pool]int{}
}

// start starts a pool with the client's settings and tracks it, within
// the bound on worker processes.
func (w *pyWorkers) start(ctx context.Context, cfg pool.Config) (*pool.Pool, error) {
	w.mu.Lock()
	if w.max >= 0 && cfg.Processes > w.max-w.running {
		running := w.running
		w.mu.Unlock()
		return nil, wire.PyErr("ValueError", fmt.Sprintf("the Go manager server runs %d pool worker processes; %d more would pass its bound (server.Config.MaxWorkers %d)", running, cfg.Processes, w.max))
	}
	w.running += cfg.Processes // reserved while starting
	w.mu.Unlock()
	p, err := cfg.New(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.running -= cfg.Processes
		return nil, wire.PyErr("RuntimeError", fmt.Sprintf("the Go manager server could not start the pool's Python workers: %v", err))
	}
	if w.closed {
		w.running -= cfg.Processes
		go p.Terminate()
		return nil, wire.PyErr("RuntimeError", "the Go manager server is shutting down")
	}
	w.pools[p] = cfg.Processes
	return p, nil
}

// forget stops tracking p (it was terminated, joined or dropped): its
// workers no longer count against the bound.
func (w *pyWorkers) forget(p *pool.Pool) {
	w.mu.Lock()
	if n, ok := w.pools[p]; ok {
		w.running -= n
		delete(w.pools, p)
	}
	w.mu.Unlock()
}

// helperPool returns the one-worker pool for callables, starting it on
// first use.
func (w *pyWorkers) helperPool(ctx context.Context) (*pool.Pool, error) {
	w.mu.Lock()
	h := w.helper
	w.mu.Unlock()
	if h != nil {
		return h, nil
	}
	cfg := w.cfg
	cfg.Processes = 1
	cfg.Initializer, cfg.InitArgs, cfg.MaxTasksPerChild = nil, nil, 0
	p, err := w.start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.helper != nil { // another call won the race
		w.running -= w.pools[p]
		delete(w.pools, p)
		go p.Terminate()
		return w.helper, nil
	}
	w.helper = p
	return p, nil
}

// close terminates every pool and waits for their workers to exit.
func (w *pyWorkers) close() {
	w.mu.Lock()
	w.closed = true
	pools := make([]*pool.Pool, 0, len(w.pools))
	for p := range w.pools {
		pools = append(pools, p)
	}
	w.pools, w.running = map[*pool.Pool]int{}, 0
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Terminate()
		}()
	}
	wg.Wait()
}

// poolFactory is the Pool typeid: Pool(processes=None, initializer=None,
// initargs=(), maxtasksperchild=None, context=None), validated as
// Python's Pool.__init__ does.
func (s *Server) poolFactory(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	p, err := bind("Pool", args, kwargs, []string{"processes", "initializer", "initargs", "maxtasksperchild", "context"}, 0)
	if err != nil {
		return nil, err
	}
	cfg := s.workers.cfg
	cfg.Processes = runtime.NumCPU()
	if v := p.get(0, nil); v != nil {
		n, err := toInt(v, "")
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, wire.PyErr("ValueError", "Number of processes must be at least 1")
		}
		cfg.Processes = n
	}
	if v := p.get(3, nil); v != nil {
		n, ok := v.(int64)
		if !ok || n <= 0 {
			return nil, wire.PyErr("ValueError", "maxtasksperchild must be a positive int or None")
		}
		cfg.MaxTasksPerChild = int(n)
	}
	cfg.Initializer = p.get(1, nil)
	if ia := p.get(2, nil); ia != nil {
		items, err := iterableN(ia, room(s.callCtx, maxRange))
		if err != nil {
			return nil, err
		}
		cfg.InitArgs = items
	}
	if p.get(4, nil) != nil {
		return nil, wire.PyErr("TypeError", "Pool(context=...) is not supported by the Go manager server (its workers use the spawn start method)")
	}
	pl, err := s.workers.start(s.ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &poolObject{s: s, p: pl}, nil
}

// poolObject is a served multiprocessing.pool.Pool.
type poolObject struct {
	s *Server
	p *pool.Pool
}

// Exposed implements Object.
func (*poolObject) Exposed() []string { return poolExposed }

// MethodToTypeID implements ProxyMethods.
func (*poolObject) MethodToTypeID() map[string]string { return poolMethodTypes }

// Repr implements Reprer.
func (o *poolObject) Repr() string {
	return fmt.Sprintf("<multiprocessing.pool.Pool pool_size=%d (Go-hosted)>", o.p.Processes())
}

// CallMethod implements Object.
func (o *poolObject) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	return poolMethods.dispatch(ctx, o, method, args, kwargs)
}

// drop implements dropper: the last proxy is gone, as a Python Pool that
// is garbage collected, the pool terminates.
func (o *poolObject) drop() {
	o.s.workers.forget(o.p)
	go o.p.Terminate()
}

var (
	applyParams = []string{"func", "args", "kwds", "callback", "error_callback"}
	mapParams   = []string{"func", "iterable", "chunksize", "callback", "error_callback"}
)

// poolMethods are Pool's methods, as PoolProxy exposes them.
var poolMethods = builtins[*poolObject]{
	"apply":          {params: applyParams[:3], required: 1, call: (*poolObject).apply},
	"apply_async":    {params: applyParams, required: 1, call: (*poolObject).applyAsync},
	"map":            {params: mapParams[:3], required: 2, call: func(o *poolObject, p *params) (any, error) { return o.mapSync(p, false) }},
	"starmap":        {params: mapParams[:3], required: 2, call: func(o *poolObject, p *params) (any, error) { return o.mapSync(p, true) }},
	"map_async":      {params: mapParams, required: 2, call: func(o *poolObject, p *params) (any, error) { return o.mapAsync(p, false) }},
	"starmap_async":  {params: mapParams, required: 2, call: func(o *poolObject, p *params) (any, error) { return o.mapAsync(p, true) }},
	"imap":           {params: mapParams[:3], required: 2, call: func(o *poolObject, p *params) (any, error) { return o.imap(p, true) }},
	"imap_unordered": {params: mapParams[:3], required: 2, call: func(o *poolObject, p *params) (any, error) { return o.imap(p, false) }},
	"close":          {call: (*poolObject).close},
	"terminate": {call: func(o *poolObject, _ *params) (any, error) {
		o.s.workers.forget(o.p)
		return nil, o.p.Terminate()
	}},
	"join": {call: (*poolObject).join},
}

// callArgs are apply's args and kwds.
func callArgs(p *params) ([]any, map[string]any, error) {
	var args []any
	if v := p.get(1, nil); v != nil {
		items, err := iterableN(v, room(p.ctx, maxRange))
		if err != nil {
			return nil, nil, err
		}
		args = items
	}
	var kw map[string]any
	if v := p.get(2, nil); v != nil {
		d, ok := v.(*pickle.Dict)
		if !ok {
			return nil, nil, wire.PyErr("TypeError", fmt.Sprintf("argument after ** must be a mapping, not %s", typeName(v)))
		}
		kw = make(map[string]any, d.Len())
		for _, kv := range d.Items() {
			k, ok := kv[0].(string)
			if !ok {
				return nil, nil, wire.PyErr("TypeError", "keywords must be strings")
			}
			kw[k] = kv[1]
		}
	}
	return args, kw, nil
}

func (o *poolObject) apply(p *params) (any, error) {
	args, kw, err := callArgs(p)
	if err != nil {
		return nil, err
	}
	v, err := o.p.ApplyAsync(p.ctx, p.vals[0], args, kw).Value(p.ctx)
	return v, poolErr(err)
}

func (o *poolObject) applyAsync(p *params) (any, error) {
	args, kw, err := callArgs(p)
	if err != nil {
		return nil, err
	}
	r := o.p.ApplyAsync(o.s.ctx, p.vals[0], args, kw)
	return o.s.newAsyncResult(r, "ApplyResult", p.get(3, nil), p.get(4, nil)), nil
}

// mapArgs are map's iterable (materialized, within the item bound) and
// chunksize options.
func mapArgs(p *params, dflt int) ([]any, []pool.CallOption, error) {
	items, err := iterableN(p.vals[1], room(p.ctx, maxRange))
	if err != nil {
		return nil, nil, err
	}
	n := dflt
	if v := p.get(2, nil); v != nil {
		if n, err = toInt(v, ""); err != nil {
			return nil, nil, err
		}
	}
	var opts []pool.CallOption
	if n > 0 {
		opts = append(opts, pool.Chunksize(n))
	}
	return items, opts, nil
}

func (o *poolObject) mapSync(p *params, star bool) (any, error) {
	items, opts, err := mapArgs(p, 0)
	if err != nil {
		return nil, err
	}
	var r *pool.AsyncResult
	if star {
		r = o.p.StarmapAsync(p.ctx, p.vals[0], items, opts...)
	} else {
		r = o.p.MapAsync(p.ctx, p.vals[0], items, opts...)
	}
	v, err := r.Value(p.ctx)
	return v, poolErr(err)
}

func (o *poolObject) mapAsync(p *params, star bool) (any, error) {
	items, opts, err := mapArgs(p, 0)
	if err != nil {
		return nil, err
	}
	var r *pool.AsyncResult
	if star {
		r = o.p.StarmapAsync(o.s.ctx, p.vals[0], items, opts...)
	} else {
		r = o.p.MapAsync(o.s.ctx, p.vals[0], items, opts...)
	}
	return o.s.newAsyncResult(r, "MapResult", p.get(3, nil), p.get(4, nil)), nil
}

// close is Pool.close(): the workers exit once the pending calls are
// done, and then no longer count against Config.MaxWorkers.
func (o *poolObject) close(*params) (any, error) {
	if err := o.p.Close(); err != nil {
		return nil, err
	}
	go func() {
		if o.p.Join(o.s.ctx) == nil {
			o.s.workers.forget(o.p)
		}
	}()
	return nil, nil
}

func (o *poolObject) join(p *params) (any, error) {
	err := o.p.Join(p.ctx)
	if err != nil && p.ctx.Err() == nil {
		return nil, wire.PyErr("ValueError", "Pool is still running")
	}
	if err == nil {
		o.s.workers.forget(o.p)
	}
	return nil, err
}

// imap is imap and imap_unordered: one job of the pool (its tasks sent at
// once, as Python's task handler does), whose results a goroutine hands to
// the Iterator one by one. As in Python, with chunksize 1 a failed item
// raises in its place and the iteration goes on; with larger chunks
// (Python's generator over chunks) the failure ends it.
func (o *poolObject) imap(p *params, ordered bool) (any, error) {
	items, _, err := mapArgs(p, 1)
	if err != nil {
		return nil, err
	}
	chunk := 1
	if v := p.get(2, nil); v != nil {
		chunk, _ = toInt(v, "")
		if chunk < 1 {
			return nil, wire.PyErr("ValueError", fmt.Sprintf("Chunksize must be 1+, not %d", chunk))
		}
	}
	ictx, cancel := context.WithCancel(o.s.ctx)
	seq := o.p.Imap(ictx, p.vals[0], items, pool.Chunksize(chunk))
	class := "IMapIterator"
	if !ordered {
		seq = o.p.ImapUnordered(ictx, p.vals[0], items, pool.Chunksize(chunk))
		class = "IMapUnorderedIterator"
	}
	src := &imapSource{results: make(chan imapResult), continues: chunk == 1}
	go func() {
		defer close(src.results)
		for v, err := range seq {
			select {
			case src.results <- imapResult{v, err}:
			case <-ictx.Done():
				return
			}
		}
	}()
	return &Iterator{src: src.next, class: "multiprocessing.pool." + class, release: cancel}, nil
}

type imapResult struct {
	v   any
	err error
}

// imapSource feeds an imap Iterator.
type imapSource struct {
	results   chan imapResult // closed at the end
	continues bool            // a failed item does not end the iteration
	ended     bool
}

// next is IMapIterator.next(timeout=None).
func (m *imapSource) next(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, bool, error) {
	p, err := bind("next", args, kwargs, []string{"timeout"}, 0)
	if err != nil {
		return nil, false, err
	}
	if m.ended {
		return nil, false, nil
	}
	var tc <-chan time.Time
	if t, has, err := toTimeout(p.get(0, nil)); err != nil {
		return nil, false, err
	} else if has {
		timer := time.NewTimer(seconds(max(t, 0)))
		defer timer.Stop()
		tc = timer.C
	}
	select {
	case r, ok := <-m.results:
		if !ok {
			m.ended = true
			return nil, false, nil
		}
		if r.err != nil {
			if !m.continues {
				m.ended = true
			}
			return nil, true, poolErr(r.err)
		}
		return r.v, true, nil
	case <-tc:
		return nil, true, timeoutErr()
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

func timeoutErr() error { return &pickle.PythonError{Type: globalTimeoutError, Args: pickle.Tuple{}} }

// poolErr is the exception a pool failure raises in the client.
func poolErr(err error) error {
	var te *pool.TaskError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return te.Err
	case errors.Is(err, pool.ErrTerminated):
		return wire.PyErr("RuntimeError", "the pool was terminated before the result arrived")
	case errors.Is(err, pool.ErrClosed):
		return wire.PyErr("ValueError", "Pool not running")
	}
	return err
}

// asyncResult is a served ApplyResult or MapResult.
type asyncResult struct {
	class string
	done  chan struct{} // closed once the result is in and the callback ran
	val   any
	err   error
}

// newAsyncResult serves r, running callback or errback when it arrives.
func (s *Server) newAsyncResult(r *pool.AsyncResult, class string, callback, errback any) *asyncResult {
	a := &asyncResult{class: class, done: make(chan struct{})}
	go func() {
		v, err := r.Value(s.ctx)
		err = poolErr(err)
		switch {
		case err == nil && callback != nil:
			_, _ = s.callPython(s.ctx, callback, v)
		case err != nil && errback != nil:
			_, _ = s.callPython(s.ctx, errback, exceptionValue(err))
		}
		a.val, a.err = v, err
		close(a.done)
	}()
	return a
}

// Exposed implements Object.
func (*asyncResult) Exposed() []string { return asyncResultExposed }

// Repr implements Reprer.
func (a *asyncResult) Repr() string {
	return fmt.Sprintf("<multiprocessing.pool.%s object at %p>", a.class, a)
}

// drop implements dropper; a pending result goes on (its job belongs to
// the pool).
func (a *asyncResult) drop() {}

func (a *asyncResult) ready() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// wait waits for the result until the timeout argument (None: no limit)
// passes; it reports whether the result is ready.
func (a *asyncResult) wait(ctx context.Context, timeout any) (bool, error) {
	t, has, err := toTimeout(timeout)
	if err != nil {
		return false, err
	}
	var tc <-chan time.Time
	if has {
		timer := time.NewTimer(seconds(max(t, 0)))
		defer timer.Stop()
		tc = timer.C
	}
	select {
	case <-a.done:
		return true, nil
	case <-tc:
		return a.ready(), nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// CallMethod implements Object.
func (a *asyncResult) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch method {
	case "ready":
		if _, err := bind(method, args, kwargs, nil, 0); err != nil {
			return nil, err
		}
		return a.ready(), nil
	case "successful":
		if _, err := bind(method, args, kwargs, nil, 0); err != nil {
			return nil, err
		}
		if !a.ready() {
			return nil, wire.PyErr("ValueError", a.Repr()+" not ready")
		}
		return a.err == nil, nil
	case "wait", "get":
		p, err := bind(method, args, kwargs, []string{"timeout"}, 0)
		if err != nil {
			return nil, err
		}
		ready, err := a.wait(ctx, p.get(0, nil))
		if err != nil || method == "wait" {
			return nil, err
		}
		if !ready {
			return nil, timeoutErr()
		}
		return a.val, a.err
	}
	return nil, errNoMethod
}

// callPython calls a Python callable that a client sent (a callback, a
// Barrier action) with args. A bound method of a proxy of this server's
// own object (RebuildProxy(...).method, what list.append of a proxy
// pickles as) is called on that object here; any other callable is called
// in the helper pool's Python worker, whose authkey is the server's, so
// proxies it holds connect back.
func (s *Server) callPython(ctx context.Context, fn any, args ...any) (any, error) {
	if e, method, ok := s.localMethod(fn); ok {
		s.stashProxies(args, 0)
		if !e.exposed[method] {
			return nil, wire.PyErr("AttributeError", fmt.Sprintf("method %s is not exposed", pickle.Repr(method)))
		}
		return recovering(method, func() (any, error) {
			return e.obj.CallMethod(ctx, callbackCaller, method, pickle.Tuple(args), nil)
		})
	}
	h, err := s.workers.helperPool(ctx)
	if err != nil {
		return nil, err
	}
	v, err := h.ApplyAsync(ctx, fn, args, nil).Value(ctx)
	return v, poolErr(err)
}

// callbackCaller is the client thread callbacks run as.
var callbackCaller = callerID(0)

// localMethod recognizes getattr(RebuildProxy(cls, token, …), name) for a
// token of this server.
func (s *Server) localMethod(fn any) (*served, string, bool) {
	o, ok := fn.(*pickle.Object)
	if !ok || o.Class() != globalGetattr || len(o.Args) != 2 {
		return nil, "", false
	}
	name, ok := o.Args[1].(string)
	rp, ok2 := o.Args[0].(*pickle.Object)
	if !ok || !ok2 || rp.Class() != wire.GlobalRebuildProxy || len(rp.Args) != 4 {
		return nil, "", false
	}
	var tok manager.Token
	if err := tok.UnmarshalPickle(rp.Args[1]); err != nil || !sameAddress(tok.Address, s.pyAddr) {
		return nil, "", false
	}
	s.mu.Lock()
	e, found := s.objs[tok.ID]
	if !found {
		e, found = s.local[tok.ID]
	}
	s.mu.Unlock()
	return e, name, found
}
