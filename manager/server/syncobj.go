package server

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// Exposed lists of the synchronization types (Python proxies' _exposed_,
// and public_methods(queue.Queue()) for the AutoProxy-served queues).
var (
	queueExposed = []string{"empty", "full", "get", "get_nowait", "join", "put", "put_nowait", "qsize", "task_done"}
	// Python 3.14's AcquirerProxy and ConditionProxy add locked.
	acquirerExposed  = []string{"acquire", "release", "locked"}
	conditionExposed = []string{"acquire", "release", "locked", "wait", "notify", "notify_all"}
	eventExposed     = []string{"is_set", "set", "clear", "wait"}
	barrierExposed   = []string{"__getattribute__", "wait", "abort", "reset"}
)

var (
	globalEmpty  = pickle.Global{Module: "_queue", Name: "Empty"}
	globalFull   = pickle.Global{Module: "queue", Name: "Full"}
	globalBroken = pickle.Global{Module: "threading", Name: "BrokenBarrierError"}
)

// signal is a broadcast channel: waiters take the current channel under the
// owner's mutex, and every state change closes it and makes a new one.
type signal struct{ ch chan struct{} }

func (s *signal) wait() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// deadline converts a Python (blocking, timeout) pair: ok=false means
// "do not wait"; zero time means "wait forever".
func deadlineFor(timeout any) (time.Time, error) {
	t, has, err := toTimeout(timeout)
	if err != nil {
		return time.Time{}, err
	}
	if !has {
		return time.Time{}, nil
	}
	if t < 0 {
		return time.Time{}, wire.PyErr("ValueError", "'timeout' must be a non-negative number")
	}
	if math.IsNaN(t) { // as _thread.lock.acquire
		return time.Time{}, wire.PyErr("ValueError", "Invalid value NaN (not a number)")
	}
	return time.Now().Add(seconds(t)), nil
}

// block waits for ch, the deadline (zero: none) or ctx, with mu unlocked.
// It reports false on timeout.
func block(ctx context.Context, mu *sync.Mutex, ch <-chan struct{}, dl time.Time) (bool, error) {
	mu.Unlock()
	defer mu.Lock()
	var tc <-chan time.Time
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return false, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-ch:
		return true, nil
	case <-tc:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// ---- Queue ----

// Queue is a shared queue.Queue (SyncManager's "Queue" and
// "JoinableQueue").
type Queue struct {
	mu         sync.Mutex
	items      []any
	maxsize    int
	unfinished int
	changed    signal
}

// NewQueue returns a queue holding at most maxsize items (<= 0: unbounded).
func NewQueue(maxsize int) *Queue { return &Queue{maxsize: maxsize} }

// Exposed implements Object.
func (*Queue) Exposed() []string { return queueExposed }

// Repr implements Reprer.
func (q *Queue) Repr() string { return fmt.Sprintf("<queue.Queue object at %p>", q) }

func (q *Queue) full() bool { return q.maxsize > 0 && len(q.items) >= q.maxsize }

// CallMethod implements Object.
func (q *Queue) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch method {
	case "put", "put_nowait":
		names, def := []string{"item", "block", "timeout"}, true
		if method == "put_nowait" {
			names, def = names[:1], false
		}
		p, err := bind(method, args, kwargs, names, 1)
		if err != nil {
			return nil, err
		}
		var dl time.Time
		blocking := def && (len(names) == 1 || truthy(p.get(1, true)))
		if blocking {
			if dl, err = deadlineFor(p.get(2, nil)); err != nil {
				return nil, err
			}
		}
		for q.full() {
			if !blocking {
				return nil, &pickle.PythonError{Type: globalFull, Args: pickle.Tuple{}}
			}
			ok, err := block(ctx, &q.mu, q.changed.wait(), dl)
			if err != nil {
				return nil, err
			}
			if !ok && q.full() {
				return nil, &pickle.PythonError{Type: globalFull, Args: pickle.Tuple{}}
			}
		}
		q.items = append(q.items, p.vals[0])
		q.unfinished++
		q.changed.broadcast()
		return nil, nil
	case "get", "get_nowait":
		names, def := []string{"block", "timeout"}, true
		if method == "get_nowait" {
			names, def = nil, false
		}
		p, err := bind(method, args, kwargs, names, 0)
		if err != nil {
			return nil, err
		}
		var dl time.Time
		blocking := def && truthy(p.get(0, true))
		if blocking {
			if dl, err = deadlineFor(p.get(1, nil)); err != nil {
				return nil, err
			}
		}
		for len(q.items) == 0 {
			if !blocking {
				return nil, &pickle.PythonError{Type: globalEmpty, Args: pickle.Tuple{}}
			}
			ok, err := block(ctx, &q.mu, q.changed.wait(), dl)
			if err != nil {
				return nil, err
			}
			if !ok && len(q.items) == 0 {
				return nil, &pickle.PythonError{Type: globalEmpty, Args: pickle.Tuple{}}
			}
		}
		v := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.changed.broadcast()
		return v, nil
	case "qsize":
		return len(q.items), nil
	case "empty":
		return len(q.items) == 0, nil
	case "full":
		return q.full(), nil
	case "task_done":
		if q.unfinished <= 0 {
			return nil, wire.PyErr("ValueError", "task_done() called too many times")
		}
		q.unfinished--
		q.changed.broadcast()
		return nil, nil
	case "join":
		for q.unfinished > 0 {
			if _, err := block(ctx, &q.mu, q.changed.wait(), time.Time{}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return nil, errNoMethod
}

// ---- Lock, RLock, Semaphore, BoundedSemaphore ----

// Lock is a shared threading.Lock, RLock, Semaphore or BoundedSemaphore.
type Lock struct {
	mu      sync.Mutex
	kind    string // "Lock", "RLock", "Semaphore", "BoundedSemaphore"
	value   int    // free permits (Lock: 1 when unlocked)
	initial int
	owner   uint64 // RLock owner (0: none)
	count   int    // RLock recursion
	changed signal
}

// NewLock returns a threading.Lock.
func NewLock() *Lock { return &Lock{kind: "Lock", value: 1, initial: 1} }

// NewRLock returns a threading.RLock (owned by the client thread, i.e.
// the connection, that acquired it).
func NewRLock() *Lock { return &Lock{kind: "RLock", value: 1, initial: 1} }

// NewSemaphore returns a threading.Semaphore(value).
func NewSemaphore(value int) *Lock { return &Lock{kind: "Semaphore", value: value, initial: value} }

// NewBoundedSemaphore returns a threading.BoundedSemaphore(value).
func NewBoundedSemaphore(value int) *Lock {
	return &Lock{kind: "BoundedSemaphore", value: value, initial: value}
}

// Exposed implements Object.
func (*Lock) Exposed() []string { return acquirerExposed }

// Repr implements Reprer.
func (l *Lock) Repr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.kind {
	case "Lock":
		st := "unlocked"
		if l.value == 0 {
			st = "locked"
		}
		return fmt.Sprintf("<%s _thread.lock object at %p>", st, l)
	case "RLock":
		st := "unlocked"
		if l.owner != 0 {
			st = "locked"
		}
		return fmt.Sprintf("<%s _thread.RLock object owner=%d count=%d at %p>", st, l.owner, l.count, l)
	}
	return fmt.Sprintf("<threading.%s at %p: value=%d>", l.kind, l, l.value)
}

// acquireLocked runs acquire(blocking, timeout) with l.mu held.
func (l *Lock) acquireLocked(ctx context.Context, who uint64, blocking bool, timeout any) (bool, error) {
	var dl time.Time
	if blocking {
		var err error
		if l.kind == "Lock" || l.kind == "RLock" {
			// _thread.lock: timeout=-1 means forever.
			if t, has, _ := toTimeout(timeout); has && t == -1 {
				timeout = nil
			}
		}
		if dl, err = deadlineFor(timeout); err != nil {
			return false, err
		}
	} else if timeout != nil {
		if t, _, _ := toTimeout(timeout); t != -1 || l.kind == "Semaphore" || l.kind == "BoundedSemaphore" {
			return false, wire.PyErr("ValueError", "can't specify a timeout for a non-blocking call")
		}
	}
	if l.kind == "RLock" && l.owner == who {
		l.count++
		return true, nil
	}
	for l.value <= 0 {
		if !blocking {
			return false, nil
		}
		ok, err := block(ctx, &l.mu, l.changed.wait(), dl)
		if err != nil {
			return false, err
		}
		if !ok && l.value <= 0 {
			return false, nil
		}
	}
	l.value--
	if l.kind == "RLock" {
		l.owner, l.count = who, 1
	}
	return true, nil
}

// releaseLocked runs release() with l.mu held.
func (l *Lock) releaseLocked(who uint64, n int) error {
	switch l.kind {
	case "Lock":
		if l.value > 0 {
			return wire.PyErr("RuntimeError", "release unlocked lock")
		}
		l.value = 1
	case "RLock":
		if l.owner != who || l.count == 0 {
			return wire.PyErr("RuntimeError", "cannot release un-acquired lock")
		}
		l.count--
		if l.count > 0 {
			return nil
		}
		l.owner = 0
		l.value = 1
	case "BoundedSemaphore":
		if n > l.initial-l.value { // not value+n: n is the client's and may overflow
			return wire.PyErr("ValueError", "Semaphore released too many times")
		}
		l.value += n
	default:
		if n > math.MaxInt-l.value {
			return wire.PyErr("OverflowError", "semaphore value too large")
		}
		l.value += n
	}
	l.changed.broadcast()
	return nil
}

// CallMethod implements Object.
func (l *Lock) CallMethod(ctx context.Context, caller Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	who := caller.callerID()
	switch method {
	case "acquire":
		p, err := bind(method, args, kwargs, []string{"blocking", "timeout"}, 0)
		if err != nil {
			return nil, err
		}
		return l.acquireLocked(ctx, who, truthy(p.get(0, true)), p.get(1, nil))
	case "release":
		n := 1
		if l.kind == "Semaphore" || l.kind == "BoundedSemaphore" {
			p, err := bind(method, args, kwargs, []string{"n"}, 0)
			if err != nil {
				return nil, err
			}
			if n, err = toInt(p.get(0, int64(1)), ""); err != nil {
				return nil, err
			}
			if n < 1 {
				return nil, wire.PyErr("ValueError", "n must be one or more")
			}
		} else if _, err := bind(method, args, kwargs, nil, 0); err != nil {
			return nil, err
		}
		return nil, l.releaseLocked(who, n)
	case "locked":
		// threading.Lock and (3.14) RLock have locked(); Semaphores do not,
		// though AcquirerProxy exposes it.
		if l.kind != "Lock" && l.kind != "RLock" {
			return nil, errNoMethod
		}
		if _, err := bind(method, args, kwargs, nil, 0); err != nil {
			return nil, err
		}
		return l.value == 0, nil
	}
	return nil, errNoMethod
}

// ---- Event ----

// Event is a shared threading.Event.
type Event struct {
	mu      sync.Mutex
	flag    bool
	changed signal
}

// NewEvent returns a cleared Event.
func NewEvent() *Event { return &Event{} }

// Exposed implements Object.
func (*Event) Exposed() []string { return eventExposed }

// Repr implements Reprer.
func (e *Event) Repr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := "unset"
	if e.flag {
		st = "set"
	}
	return fmt.Sprintf("<threading.Event at %p: %s>", e, st)
}

// CallMethod implements Object.
func (e *Event) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch method {
	case "is_set", "isSet":
		return e.flag, nil
	case "set":
		e.flag = true
		e.changed.broadcast()
		return nil, nil
	case "clear":
		e.flag = false
		return nil, nil
	case "wait":
		p, err := bind(method, args, kwargs, []string{"timeout"}, 0)
		if err != nil {
			return nil, err
		}
		var dl time.Time
		if t, has, err := toTimeout(p.get(0, nil)); err != nil {
			return nil, err
		} else if has {
			dl = time.Now().Add(seconds(max(t, 0)))
		}
		for !e.flag {
			ok, err := block(ctx, &e.mu, e.changed.wait(), dl)
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
		}
		return e.flag, nil
	}
	return nil, errNoMethod
}

// ---- Condition ----

// Condition is a shared threading.Condition over an RLock.
type Condition struct {
	lock    *Lock
	waiters []chan struct{}
}

// NewCondition returns a Condition with its own RLock.
func NewCondition() *Condition { return &Condition{lock: NewRLock()} }

// Exposed implements Object.
func (*Condition) Exposed() []string { return conditionExposed }

// Repr implements Reprer.
func (c *Condition) Repr() string {
	c.lock.mu.Lock()
	n := len(c.waiters)
	c.lock.mu.Unlock()
	return fmt.Sprintf("<Condition(%s, %d)>", c.lock.Repr(), n)
}

// CallMethod implements Object.
func (c *Condition) CallMethod(ctx context.Context, caller Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch method {
	case "acquire", "release", "locked":
		return c.lock.CallMethod(ctx, caller, method, args, kwargs)
	}
	l := c.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	who := caller.callerID()
	switch method {
	case "wait":
		p, err := bind(method, args, kwargs, []string{"timeout"}, 0)
		if err != nil {
			return nil, err
		}
		if l.owner != who {
			return nil, wire.PyErr("RuntimeError", "cannot wait on un-acquired lock")
		}
		var dl time.Time
		if t, has, err := toTimeout(p.get(0, nil)); err != nil {
			return nil, err
		} else if has {
			dl = time.Now().Add(seconds(max(t, 0)))
		}
		w := make(chan struct{})
		c.waiters = append(c.waiters, w)
		saved := l.count
		l.owner, l.count, l.value = 0, 0, 1
		l.changed.broadcast()
		notified, werr := block(ctx, &l.mu, w, dl)
		if !notified {
			// Timed out (or server closing): leave the queue unless a
			// notify got us in the meantime.
			select {
			case <-w:
				notified = true
			default:
				for i, x := range c.waiters {
					if x == w {
						c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
						break
					}
				}
			}
		}
		if werr != nil {
			return nil, werr
		}
		// Reacquire with the saved recursion level.
		for l.value <= 0 {
			if _, err := block(ctx, &l.mu, l.changed.wait(), time.Time{}); err != nil {
				return nil, err
			}
		}
		l.value, l.owner, l.count = 0, who, saved
		return notified, nil
	case "notify", "notify_all", "notifyAll":
		n := len(c.waiters)
		if method == "notify" {
			p, err := bind(method, args, kwargs, []string{"n"}, 0)
			if err != nil {
				return nil, err
			}
			if n, err = toInt(p.get(0, int64(1)), ""); err != nil {
				return nil, err
			}
		}
		if l.owner != who {
			return nil, wire.PyErr("RuntimeError", "cannot notify on un-acquired lock")
		}
		for n > 0 && len(c.waiters) > 0 {
			close(c.waiters[0])
			c.waiters = c.waiters[1:]
			n--
		}
		return nil, nil
	}
	return nil, errNoMethod
}

// ---- Barrier ----

// Barrier is a shared threading.Barrier.
type Barrier struct {
	mu      sync.Mutex
	parties int
	timeout any // default timeout (nil: none)
	count   int
	broken  bool
	gen     *barrierGen
	// action is Barrier(action=...): run by the last party to arrive,
	// before the others are released; an error breaks the barrier and is
	// raised by that party's wait, as in Python.
	action func(ctx context.Context) error
}

type barrierGen struct {
	done   chan struct{}
	broken bool
}

// NewBarrier returns a Barrier for parties with a default wait timeout
// (negative: none). A client's Barrier(action=...) runs its callable in a
// Python worker of the server (see Config.Pool).
func NewBarrier(parties int, timeout time.Duration) *Barrier {
	b := &Barrier{parties: parties, gen: &barrierGen{done: make(chan struct{})}}
	if timeout >= 0 {
		b.timeout = timeout.Seconds()
	}
	return b
}

// Exposed implements Object.
func (*Barrier) Exposed() []string { return barrierExposed }

// Repr implements Reprer.
func (b *Barrier) Repr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken {
		return fmt.Sprintf("<threading.Barrier at %p: broken>", b)
	}
	return fmt.Sprintf("<threading.Barrier at %p: waiters=%d/%d>", b, b.count, b.parties)
}

func brokenErr() error { return &pickle.PythonError{Type: globalBroken, Args: pickle.Tuple{}} }

// breakLocked breaks the current generation (its waiters raise
// BrokenBarrierError) and starts a new one.
func (b *Barrier) breakLocked() {
	b.gen.broken = true
	close(b.gen.done)
	b.gen = &barrierGen{done: make(chan struct{})}
	b.count = 0
}

// CallMethod implements Object.
func (b *Barrier) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch method {
	case "wait":
		p, err := bind(method, args, kwargs, []string{"timeout"}, 0)
		if err != nil {
			return nil, err
		}
		timeout := p.get(0, nil)
		if timeout == nil {
			timeout = b.timeout
		}
		var dl time.Time
		if t, has, err := toTimeout(timeout); err != nil {
			return nil, err
		} else if has {
			dl = time.Now().Add(seconds(max(t, 0)))
		}
		if b.broken {
			return nil, brokenErr()
		}
		index := b.count
		b.count++
		if b.count == b.parties {
			// Python runs the action with the barrier's lock held: no
			// party enters the next round before it is done.
			if b.action != nil {
				if err := b.action(ctx); err != nil {
					b.broken = true
					b.breakLocked()
					return nil, err
				}
			}
			close(b.gen.done)
			b.gen = &barrierGen{done: make(chan struct{})}
			b.count = 0
			return index, nil
		}
		g := b.gen
		ok, err := block(ctx, &b.mu, g.done, dl)
		if err != nil {
			return nil, err
		}
		if !ok {
			if g == b.gen { // still waiting: a timeout breaks the barrier
				b.broken = true
				b.breakLocked()
			}
			return nil, brokenErr()
		}
		if g.broken {
			return nil, brokenErr()
		}
		return index, nil
	case "abort":
		b.broken = true
		b.breakLocked()
		return nil, nil
	case "reset":
		if b.count > 0 {
			b.breakLocked()
		}
		b.broken = false
		return nil, nil
	case "__getattribute__":
		p, err := bind(method, args, kwargs, []string{"name"}, 1)
		if err != nil {
			return nil, err
		}
		switch p.vals[0] {
		case "parties":
			return b.parties, nil
		case "n_waiting":
			return b.count, nil
		case "broken":
			return b.broken, nil
		}
		return nil, wire.PyErr("AttributeError", fmt.Sprintf("'Barrier' object has no attribute %s", pickle.Repr(p.vals[0])))
	}
	return nil, errNoMethod
}

// barrierFactory is the Barrier typeid: Barrier(parties, action=None,
// timeout=None). A Go server cannot call a Python callable itself, so the
// action runs in a Python worker (Server.callPython): a bound method of a
// proxy of this server's objects is called on the object directly.
func (s *Server) barrierFactory(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	p, err := bind("Barrier", args, kwargs, []string{"parties", "action", "timeout"}, 1)
	if err != nil {
		return nil, err
	}
	n, err := toInt(p.vals[0], "")
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, wire.PyErr("ValueError", "parties must be > 0")
	}
	timeout := time.Duration(-1)
	if t, has, err := toTimeout(p.get(2, nil)); err != nil {
		return nil, err
	} else if has {
		timeout = seconds(t)
	}
	b := NewBarrier(n, timeout)
	if action := p.get(1, nil); action != nil {
		b.action = func(ctx context.Context) error {
			_, err := s.callPython(ctx, action)
			return err
		}
	}
	return b, nil
}
