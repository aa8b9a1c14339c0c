package manager

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// pollSlice bounds each server-side wait of the blocking calls that take a
// context (Queue.Get, Acquire, Event.Wait, Condition.Wait): the call is
// repeated until it succeeds or ctx ends, so a cancelled call never leaves
// a server thread that later consumes an item or a lock.
const pollSlice = time.Second

// sliceFor returns the server timeout of the next wait and whether ctx
// allows one.
func sliceFor(ctx context.Context) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d := pollSlice
	if dl, ok := ctx.Deadline(); ok {
		if r := time.Until(dl); r < d {
			d = r
		}
	}
	if d <= 0 {
		return 0, context.DeadlineExceeded
	}
	return d.Seconds(), nil
}

// waitCtx is the context of one bounded server wait: it is not cancelled
// with ctx (the server answers within the slice), but still bounded.
func waitCtx(ctx context.Context, secs float64) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Duration(secs*float64(time.Second))+30*time.Second)
}

func asBool(v any, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("manager: %w: expected bool, got %T", ErrProtocol, v)
	}
	return b, nil
}

func asInt(v any, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("manager: %w: expected int, got %T", ErrProtocol, v)
	}
	return int(n), nil
}

func asList(v any, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []any:
		return x, nil
	case pickle.Tuple:
		return []any(x), nil
	case *pickle.Object:
		// Dict views travel as REDUCE(builtins.list, (list,)) (managers.py
		// registers rebuild_as_list for them).
		if x.Class() == (pickle.Global{Module: "builtins", Name: "list"}) && len(x.Args) == 1 {
			return asList(x.Args[0], nil)
		}
	}
	return nil, fmt.Errorf("manager: %w: expected list, got %T", ErrProtocol, v)
}

func noResult(_ any, err error) error { return err }

func timeoutArg(d time.Duration) any {
	if d < 0 {
		return nil
	}
	return d.Seconds()
}

// Slice returns Python's slice(start, stop, step) for list indexing; nil
// means None.
func Slice(start, stop, step any) *pickle.Object {
	return &pickle.Object{Callable: pickle.Global{Module: "builtins", Name: "slice"}, Args: pickle.Tuple{start, stop, step}}
}

// ---- dict ----

// DictProxy is a proxy for a shared dict (Python's DictProxy).
type DictProxy struct{ *Proxy }

// Dict creates a shared dict (manager.dict()). init, if non-nil, is passed
// to dict(): a *pickle.Dict, a map, or a list of pairs.
func (c *Client) Dict(ctx context.Context, init any) (*DictProxy, error) {
	var args []any
	if init != nil {
		args = []any{init}
	}
	p, err := c.Create(ctx, "dict", args, nil)
	if err != nil {
		return nil, err
	}
	return &DictProxy{p}, nil
}

// Get returns d[key]; a missing key is an *Exception of type KeyError.
func (d *DictProxy) Get(ctx context.Context, key any) (any, error) {
	return d.Call(ctx, "__getitem__", []any{key}, nil)
}

// GetDefault returns d.get(key, def).
func (d *DictProxy) GetDefault(ctx context.Context, key, def any) (any, error) {
	return d.Call(ctx, "get", []any{key, def}, nil)
}

// Set does d[key] = value.
func (d *DictProxy) Set(ctx context.Context, key, value any) error {
	return noResult(d.Call(ctx, "__setitem__", []any{key, value}, nil))
}

// Delete does del d[key] (KeyError if missing).
func (d *DictProxy) Delete(ctx context.Context, key any) error {
	return noResult(d.Call(ctx, "__delitem__", []any{key}, nil))
}

// Contains reports key in d.
func (d *DictProxy) Contains(ctx context.Context, key any) (bool, error) {
	return asBool(d.Call(ctx, "__contains__", []any{key}, nil))
}

// Len returns len(d).
func (d *DictProxy) Len(ctx context.Context) (int, error) {
	return asInt(d.Call(ctx, "__len__", nil, nil))
}

// Keys returns list(d.keys()).
func (d *DictProxy) Keys(ctx context.Context) ([]any, error) {
	return asList(d.Call(ctx, "keys", nil, nil))
}

// Values returns list(d.values()).
func (d *DictProxy) Values(ctx context.Context) ([]any, error) {
	return asList(d.Call(ctx, "values", nil, nil))
}

// Items returns list(d.items()) as key/value pairs.
func (d *DictProxy) Items(ctx context.Context) ([][2]any, error) {
	l, err := asList(d.Call(ctx, "items", nil, nil))
	if err != nil {
		return nil, err
	}
	out := make([][2]any, len(l))
	for i, it := range l {
		t, ok := it.(pickle.Tuple)
		if !ok || len(t) != 2 {
			return nil, fmt.Errorf("manager: %w: item %d is %T", ErrProtocol, i, it)
		}
		out[i] = [2]any{t[0], t[1]}
	}
	return out, nil
}

// Copy returns d.copy() as a Go dict.
func (d *DictProxy) Copy(ctx context.Context) (*pickle.Dict, error) {
	v, err := d.Call(ctx, "copy", nil, nil)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(*pickle.Dict); ok {
		return m, nil
	}
	return nil, fmt.Errorf("manager: %w: copy returned %T", ErrProtocol, v)
}

// Clear empties d.
func (d *DictProxy) Clear(ctx context.Context) error { return noResult(d.Call(ctx, "clear", nil, nil)) }

// Pop removes key and returns its value (KeyError if missing).
func (d *DictProxy) Pop(ctx context.Context, key any) (any, error) {
	return d.Call(ctx, "pop", []any{key}, nil)
}

// PopDefault is d.pop(key, def).
func (d *DictProxy) PopDefault(ctx context.Context, key, def any) (any, error) {
	return d.Call(ctx, "pop", []any{key, def}, nil)
}

// PopItem removes and returns the last inserted pair (KeyError if empty).
func (d *DictProxy) PopItem(ctx context.Context) (key, value any, err error) {
	v, err := d.Call(ctx, "popitem", nil, nil)
	if err != nil {
		return nil, nil, err
	}
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return nil, nil, fmt.Errorf("manager: %w: popitem returned %T", ErrProtocol, v)
	}
	return t[0], t[1], nil
}

// SetDefault is d.setdefault(key, def).
func (d *DictProxy) SetDefault(ctx context.Context, key, def any) (any, error) {
	return d.Call(ctx, "setdefault", []any{key, def}, nil)
}

// Update is d.update(other) with a *pickle.Dict, a map or a list of pairs.
func (d *DictProxy) Update(ctx context.Context, other any) error {
	return noResult(d.Call(ctx, "update", []any{other}, nil))
}

// Iter returns an iterator over the keys (d.__iter__(), a #PROXY result).
func (d *DictProxy) Iter(ctx context.Context) (*IteratorProxy, error) {
	v, err := d.Call(ctx, "__iter__", nil, nil)
	if err != nil {
		return nil, err
	}
	p, ok := v.(*Proxy)
	if !ok {
		return nil, fmt.Errorf("manager: %w: __iter__ returned %T", ErrProtocol, v)
	}
	return &IteratorProxy{p}, nil
}

// Value returns a copy of the whole dict (#GETVALUE).
func (d *DictProxy) Value(ctx context.Context) (*pickle.Dict, error) {
	v, err := d.GetValue(ctx)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(*pickle.Dict); ok {
		return m, nil
	}
	return nil, fmt.Errorf("manager: %w: #GETVALUE returned %T", ErrProtocol, v)
}

// IteratorProxy is a proxy for a server-side iterator (Python's
// IteratorProxy), returned by DictProxy.Iter. Close it when done.
type IteratorProxy struct{ *Proxy }

// Next returns the next item; ok is false at the end.
func (it *IteratorProxy) Next(ctx context.Context) (v any, ok bool, err error) {
	v, err = it.Call(ctx, "__next__", nil, nil)
	if errors.Is(err, ErrStopIteration) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// ---- list ----

// ListProxy is a proxy for a shared list (Python's ListProxy).
type ListProxy struct{ *Proxy }

// List creates a shared list holding items (manager.list(items)).
func (c *Client) List(ctx context.Context, items []any) (*ListProxy, error) {
	var args []any
	if items != nil {
		args = []any{items}
	}
	p, err := c.Create(ctx, "list", args, nil)
	if err != nil {
		return nil, err
	}
	return &ListProxy{p}, nil
}

// Append does l.append(v).
func (l *ListProxy) Append(ctx context.Context, v any) error {
	return noResult(l.Call(ctx, "append", []any{v}, nil))
}

// Extend does l.extend(items).
func (l *ListProxy) Extend(ctx context.Context, items []any) error {
	return noResult(l.Call(ctx, "extend", []any{items}, nil))
}

// Insert does l.insert(i, v).
func (l *ListProxy) Insert(ctx context.Context, i int, v any) error {
	return noResult(l.Call(ctx, "insert", []any{i, v}, nil))
}

// Get returns l[i] (negative i counts from the end; IndexError if out of range).
func (l *ListProxy) Get(ctx context.Context, i int) (any, error) {
	return l.Call(ctx, "__getitem__", []any{i}, nil)
}

// Slice returns l[start:stop] (nil for an open end).
func (l *ListProxy) Slice(ctx context.Context, start, stop any) ([]any, error) {
	return asList(l.Call(ctx, "__getitem__", []any{Slice(start, stop, nil)}, nil))
}

// Set does l[i] = v.
func (l *ListProxy) Set(ctx context.Context, i int, v any) error {
	return noResult(l.Call(ctx, "__setitem__", []any{i, v}, nil))
}

// Delete does del l[i].
func (l *ListProxy) Delete(ctx context.Context, i int) error {
	return noResult(l.Call(ctx, "__delitem__", []any{i}, nil))
}

// Pop removes and returns l[-1] (IndexError if empty).
func (l *ListProxy) Pop(ctx context.Context) (any, error) { return l.Call(ctx, "pop", nil, nil) }

// PopAt removes and returns l[i].
func (l *ListProxy) PopAt(ctx context.Context, i int) (any, error) {
	return l.Call(ctx, "pop", []any{i}, nil)
}

// Remove removes the first item equal to v (ValueError if none).
func (l *ListProxy) Remove(ctx context.Context, v any) error {
	return noResult(l.Call(ctx, "remove", []any{v}, nil))
}

// Index returns the index of the first item equal to v (ValueError if none).
func (l *ListProxy) Index(ctx context.Context, v any) (int, error) {
	return asInt(l.Call(ctx, "index", []any{v}, nil))
}

// Count returns how many items equal v.
func (l *ListProxy) Count(ctx context.Context, v any) (int, error) {
	return asInt(l.Call(ctx, "count", []any{v}, nil))
}

// Contains reports v in l.
func (l *ListProxy) Contains(ctx context.Context, v any) (bool, error) {
	return asBool(l.Call(ctx, "__contains__", []any{v}, nil))
}

// Len returns len(l).
func (l *ListProxy) Len(ctx context.Context) (int, error) {
	return asInt(l.Call(ctx, "__len__", nil, nil))
}

// Reverse reverses l in place.
func (l *ListProxy) Reverse(ctx context.Context) error {
	return noResult(l.Call(ctx, "reverse", nil, nil))
}

// Sort sorts l in place (l.sort(reverse=reverse)); a key function cannot
// cross the wire.
func (l *ListProxy) Sort(ctx context.Context, reverse bool) error {
	var kw map[string]any
	if reverse {
		kw = map[string]any{"reverse": true}
	}
	return noResult(l.Call(ctx, "sort", nil, kw))
}

// Add returns l + other as a new (unshared) list.
func (l *ListProxy) Add(ctx context.Context, other []any) ([]any, error) {
	return asList(l.Call(ctx, "__add__", []any{other}, nil))
}

// Mul returns l * n as a new (unshared) list.
func (l *ListProxy) Mul(ctx context.Context, n int) ([]any, error) {
	return asList(l.Call(ctx, "__mul__", []any{n}, nil))
}

// IMul does l *= n.
func (l *ListProxy) IMul(ctx context.Context, n int) error {
	return noResult(l.Call(ctx, "__imul__", []any{n}, nil))
}

// Value returns a copy of the whole list (#GETVALUE).
func (l *ListProxy) Value(ctx context.Context) ([]any, error) { return asList(l.GetValue(ctx)) }

// ---- Namespace ----

// NamespaceProxy is a proxy for a shared Namespace (attribute bag).
type NamespaceProxy struct{ *Proxy }

// Namespace creates a shared Namespace with initial attributes.
func (c *Client) Namespace(ctx context.Context, attrs map[string]any) (*NamespaceProxy, error) {
	p, err := c.Create(ctx, "Namespace", nil, attrs)
	if err != nil {
		return nil, err
	}
	return &NamespaceProxy{p}, nil
}

// Get returns ns.name (AttributeError if unset).
func (n *NamespaceProxy) Get(ctx context.Context, name string) (any, error) {
	return n.Call(ctx, "__getattribute__", []any{name}, nil)
}

// Set does ns.name = v.
func (n *NamespaceProxy) Set(ctx context.Context, name string, v any) error {
	return noResult(n.Call(ctx, "__setattr__", []any{name, v}, nil))
}

// Delete does del ns.name.
func (n *NamespaceProxy) Delete(ctx context.Context, name string) error {
	return noResult(n.Call(ctx, "__delattr__", []any{name}, nil))
}

// Attrs returns a copy of all attributes (the #GETVALUE Namespace's __dict__).
func (n *NamespaceProxy) Attrs(ctx context.Context) (*pickle.Dict, error) {
	v, err := n.GetValue(ctx)
	if err != nil {
		return nil, err
	}
	if o, ok := v.(*pickle.Object); ok {
		switch st := o.State.(type) {
		case *pickle.Dict:
			return st, nil
		case nil:
			return pickle.NewDict(), nil
		}
	}
	return nil, fmt.Errorf("manager: %w: #GETVALUE of a Namespace returned %T", ErrProtocol, v)
}

// ---- Queue ----

// QueueProxy is a proxy for a shared queue.Queue (manager.Queue() and
// manager.JoinableQueue(), both AutoProxy in Python).
type QueueProxy struct{ *Proxy }

// Queue creates a shared queue; maxsize <= 0 means unbounded.
func (c *Client) Queue(ctx context.Context, maxsize int) (*QueueProxy, error) {
	return c.queue(ctx, "Queue", maxsize)
}

// JoinableQueue creates a shared queue supporting TaskDone and Join.
func (c *Client) JoinableQueue(ctx context.Context, maxsize int) (*QueueProxy, error) {
	return c.queue(ctx, "JoinableQueue", maxsize)
}

func (c *Client) queue(ctx context.Context, typeid string, maxsize int) (*QueueProxy, error) {
	var args []any
	if maxsize > 0 {
		args = []any{maxsize}
	}
	p, err := c.Create(ctx, typeid, args, nil)
	if err != nil {
		return nil, err
	}
	return &QueueProxy{p}, nil
}

// Put puts v, waiting for a free slot until ctx ends.
func (q *QueueProxy) Put(ctx context.Context, v any) error {
	for {
		secs, err := sliceFor(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := waitCtx(ctx, secs)
		_, err = q.Call(wctx, "put", []any{v, true, secs}, nil)
		cancel()
		if !errors.Is(err, ErrFull) {
			return err
		}
	}
}

// PutTimeout is q.put(v, True, timeout) (ErrFull on timeout).
func (q *QueueProxy) PutTimeout(ctx context.Context, timeout time.Duration, v any) error {
	return noResult(q.Call(ctx, "put", []any{v, true, timeoutArg(timeout)}, nil))
}

// PutNowait is q.put_nowait(v) (ErrFull if full).
func (q *QueueProxy) PutNowait(ctx context.Context, v any) error {
	return noResult(q.Call(ctx, "put_nowait", []any{v}, nil))
}

// Get removes and returns an item, waiting until ctx ends. A cancelled Get
// never loses an item.
func (q *QueueProxy) Get(ctx context.Context) (any, error) {
	for {
		secs, err := sliceFor(ctx)
		if err != nil {
			return nil, err
		}
		wctx, cancel := waitCtx(ctx, secs)
		v, err := q.Call(wctx, "get", []any{true, secs}, nil)
		cancel()
		if !errors.Is(err, ErrEmpty) {
			return v, err
		}
	}
}

// GetTimeout is q.get(True, timeout) (ErrEmpty on timeout).
func (q *QueueProxy) GetTimeout(ctx context.Context, timeout time.Duration) (any, error) {
	return q.Call(ctx, "get", []any{true, timeoutArg(timeout)}, nil)
}

// GetNowait is q.get_nowait() (ErrEmpty if empty).
func (q *QueueProxy) GetNowait(ctx context.Context) (any, error) {
	return q.Call(ctx, "get_nowait", nil, nil)
}

// Qsize returns the approximate size.
func (q *QueueProxy) Qsize(ctx context.Context) (int, error) {
	return asInt(q.Call(ctx, "qsize", nil, nil))
}

// Empty reports q.empty().
func (q *QueueProxy) Empty(ctx context.Context) (bool, error) {
	return asBool(q.Call(ctx, "empty", nil, nil))
}

// Full reports q.full().
func (q *QueueProxy) Full(ctx context.Context) (bool, error) {
	return asBool(q.Call(ctx, "full", nil, nil))
}

// TaskDone is q.task_done() (ValueError if called too often).
func (q *QueueProxy) TaskDone(ctx context.Context) error {
	return noResult(q.Call(ctx, "task_done", nil, nil))
}

// Join is q.join(): it waits until every item put has been marked done.
// The server call cannot be bounded; ctx cancellation closes its connection.
func (q *QueueProxy) Join(ctx context.Context) error { return noResult(q.Call(ctx, "join", nil, nil)) }

// ---- Lock, RLock, Semaphore, BoundedSemaphore ----

// AcquirerProxy is a proxy for a shared Lock, RLock, Semaphore or
// BoundedSemaphore (Python's AcquirerProxy). RLock proxies use a dedicated
// connection (see Proxy): the proxy is the owner.
type AcquirerProxy struct{ *Proxy }

func (c *Client) acquirer(ctx context.Context, typeid string, args []any) (*AcquirerProxy, error) {
	p, err := c.Create(ctx, typeid, args, nil)
	if err != nil {
		return nil, err
	}
	return &AcquirerProxy{p}, nil
}

// Lock creates a shared threading.Lock.
func (c *Client) Lock(ctx context.Context) (*AcquirerProxy, error) {
	return c.acquirer(ctx, "Lock", nil)
}

// RLock creates a shared threading.RLock.
func (c *Client) RLock(ctx context.Context) (*AcquirerProxy, error) {
	return c.acquirer(ctx, "RLock", nil)
}

// Semaphore creates a shared threading.Semaphore(value).
func (c *Client) Semaphore(ctx context.Context, value int) (*AcquirerProxy, error) {
	return c.acquirer(ctx, "Semaphore", []any{value})
}

// BoundedSemaphore creates a shared threading.BoundedSemaphore(value).
func (c *Client) BoundedSemaphore(ctx context.Context, value int) (*AcquirerProxy, error) {
	return c.acquirer(ctx, "BoundedSemaphore", []any{value})
}

// Acquire acquires, waiting until ctx ends.
func (a *AcquirerProxy) Acquire(ctx context.Context) error {
	for {
		secs, err := sliceFor(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := waitCtx(ctx, secs)
		ok, err := asBool(a.Call(wctx, "acquire", []any{true, secs}, nil))
		cancel()
		if err != nil || ok {
			return err
		}
	}
}

// AcquireTimeout is acquire(True, timeout); it reports whether it acquired.
func (a *AcquirerProxy) AcquireTimeout(ctx context.Context, timeout time.Duration) (bool, error) {
	return asBool(a.Call(ctx, "acquire", []any{true, timeoutArg(timeout)}, nil))
}

// TryAcquire is acquire(False).
func (a *AcquirerProxy) TryAcquire(ctx context.Context) (bool, error) {
	return asBool(a.Call(ctx, "acquire", []any{false}, nil))
}

// Release releases (RuntimeError/ValueError from Python if not held or
// over-released).
func (a *AcquirerProxy) Release(ctx context.Context) error {
	return noResult(a.Call(ctx, "release", nil, nil))
}

// ---- Condition ----

// ConditionProxy is a proxy for a shared threading.Condition (over an
// RLock). It uses a dedicated connection: Clone it for each goroutine that
// acts as a separate thread (e.g. a waiter and a notifier).
type ConditionProxy struct{ AcquirerProxy }

// Condition creates a shared threading.Condition().
func (c *Client) Condition(ctx context.Context) (*ConditionProxy, error) {
	p, err := c.Create(ctx, "Condition", nil, nil)
	if err != nil {
		return nil, err
	}
	return &ConditionProxy{AcquirerProxy{p}}, nil
}

// Clone returns a proxy for the same Condition acting as another thread.
func (cv *ConditionProxy) Clone(ctx context.Context) (*ConditionProxy, error) {
	p, err := cv.Proxy.Clone(ctx)
	if err != nil {
		return nil, err
	}
	return &ConditionProxy{AcquirerProxy{p}}, nil
}

// Wait releases the lock, waits for a notification and reacquires the
// lock, until ctx ends (the lock must be held).
func (cv *ConditionProxy) Wait(ctx context.Context) error {
	for {
		secs, err := sliceFor(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := waitCtx(ctx, secs)
		ok, err := asBool(cv.Call(wctx, "wait", []any{secs}, nil))
		cancel()
		if err != nil || ok {
			return err
		}
	}
}

// WaitTimeout is wait(timeout); it reports whether it was notified.
func (cv *ConditionProxy) WaitTimeout(ctx context.Context, timeout time.Duration) (bool, error) {
	return asBool(cv.Call(ctx, "wait", []any{timeoutArg(timeout)}, nil))
}

// Notify wakes up to n waiters.
func (cv *ConditionProxy) Notify(ctx context.Context, n int) error {
	return noResult(cv.Call(ctx, "notify", []any{n}, nil))
}

// NotifyAll wakes all waiters.
func (cv *ConditionProxy) NotifyAll(ctx context.Context) error {
	return noResult(cv.Call(ctx, "notify_all", nil, nil))
}

// ---- Event ----

// EventProxy is a proxy for a shared threading.Event.
type EventProxy struct{ *Proxy }

// Event creates a shared threading.Event.
func (c *Client) Event(ctx context.Context) (*EventProxy, error) {
	p, err := c.Create(ctx, "Event", nil, nil)
	if err != nil {
		return nil, err
	}
	return &EventProxy{p}, nil
}

// IsSet reports whether the flag is set.
func (e *EventProxy) IsSet(ctx context.Context) (bool, error) {
	return asBool(e.Call(ctx, "is_set", nil, nil))
}

// Set sets the flag, waking waiters.
func (e *EventProxy) Set(ctx context.Context) error { return noResult(e.Call(ctx, "set", nil, nil)) }

// Clear clears the flag.
func (e *EventProxy) Clear(ctx context.Context) error {
	return noResult(e.Call(ctx, "clear", nil, nil))
}

// Wait waits until the flag is set or ctx ends.
func (e *EventProxy) Wait(ctx context.Context) error {
	for {
		secs, err := sliceFor(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := waitCtx(ctx, secs)
		ok, err := asBool(e.Call(wctx, "wait", []any{secs}, nil))
		cancel()
		if err != nil || ok {
			return err
		}
	}
}

// WaitTimeout is wait(timeout): it reports whether the flag is set.
func (e *EventProxy) WaitTimeout(ctx context.Context, timeout time.Duration) (bool, error) {
	return asBool(e.Call(ctx, "wait", []any{timeoutArg(timeout)}, nil))
}

// ---- Barrier ----

// BarrierProxy is a proxy for a shared threading.Barrier.
type BarrierProxy struct{ *Proxy }

// Barrier creates a shared threading.Barrier(parties, timeout=timeout);
// timeout < 0 means None.
func (c *Client) Barrier(ctx context.Context, parties int, timeout time.Duration) (*BarrierProxy, error) {
	var kw map[string]any
	if timeout >= 0 {
		kw = map[string]any{"timeout": timeout.Seconds()}
	}
	p, err := c.Create(ctx, "Barrier", []any{parties}, kw)
	if err != nil {
		return nil, err
	}
	return &BarrierProxy{p}, nil
}

// Wait is wait() with the barrier's default timeout; it returns the
// arrival index (ErrBrokenBarrier if the barrier breaks). The server call
// cannot be bounded by ctx (a timeout breaks the barrier): cancellation
// closes the connection.
func (b *BarrierProxy) Wait(ctx context.Context) (int, error) {
	return asInt(b.Call(ctx, "wait", []any{nil}, nil))
}

// WaitTimeout is wait(timeout).
func (b *BarrierProxy) WaitTimeout(ctx context.Context, timeout time.Duration) (int, error) {
	return asInt(b.Call(ctx, "wait", []any{timeoutArg(timeout)}, nil))
}

// Abort puts the barrier into the broken state.
func (b *BarrierProxy) Abort(ctx context.Context) error {
	return noResult(b.Call(ctx, "abort", nil, nil))
}

// Reset returns the barrier to the initial state.
func (b *BarrierProxy) Reset(ctx context.Context) error {
	return noResult(b.Call(ctx, "reset", nil, nil))
}

// Parties returns the number of parties.
func (b *BarrierProxy) Parties(ctx context.Context) (int, error) {
	return asInt(b.Call(ctx, "__getattribute__", []any{"parties"}, nil))
}

// NWaiting returns the number of parties waiting.
func (b *BarrierProxy) NWaiting(ctx context.Context) (int, error) {
	return asInt(b.Call(ctx, "__getattribute__", []any{"n_waiting"}, nil))
}

// Broken reports whether the barrier is broken.
func (b *BarrierProxy) Broken(ctx context.Context) (bool, error) {
	return asBool(b.Call(ctx, "__getattribute__", []any{"broken"}, nil))
}

// ---- Value ----

// ValueProxy is a proxy for a shared managers.Value.
type ValueProxy struct{ *Proxy }

// Value creates a shared Value(typecode, v). The typecode is only
// recorded, as in Python's manager Value.
func (c *Client) Value(ctx context.Context, typecode string, v any) (*ValueProxy, error) {
	p, err := c.Create(ctx, "Value", []any{typecode, v}, nil)
	if err != nil {
		return nil, err
	}
	return &ValueProxy{p}, nil
}

// Get returns the value.
func (v *ValueProxy) Get(ctx context.Context) (any, error) { return v.Call(ctx, "get", nil, nil) }

// Set sets the value.
func (v *ValueProxy) Set(ctx context.Context, x any) error {
	return noResult(v.Call(ctx, "set", []any{x}, nil))
}

// ---- Array ----

// ArrayProxy is a proxy for a shared array.array (manager.Array).
type ArrayProxy struct{ *Proxy }

// Array creates a shared array.array(typecode, items).
func (c *Client) Array(ctx context.Context, typecode string, items []any) (*ArrayProxy, error) {
	if items == nil {
		items = []any{}
	}
	p, err := c.Create(ctx, "Array", []any{typecode, items}, nil)
	if err != nil {
		return nil, err
	}
	return &ArrayProxy{p}, nil
}

// Len returns len(a).
func (a *ArrayProxy) Len(ctx context.Context) (int, error) {
	return asInt(a.Call(ctx, "__len__", nil, nil))
}

// Get returns a[i].
func (a *ArrayProxy) Get(ctx context.Context, i int) (any, error) {
	return a.Call(ctx, "__getitem__", []any{i}, nil)
}

// Set does a[i] = v (TypeError/OverflowError for a value the typecode
// cannot hold).
func (a *ArrayProxy) Set(ctx context.Context, i int, v any) error {
	return noResult(a.Call(ctx, "__setitem__", []any{i, v}, nil))
}

// Value returns a copy of the whole array as its items.
func (a *ArrayProxy) Value(ctx context.Context) ([]any, error) {
	v, err := a.GetValue(ctx)
	if err != nil {
		return nil, err
	}
	return ArrayItems(v)
}

// ArrayItems decodes a pickled array.array — REDUCE(array.array,
// (typecode, bytes)) as multiprocessing pickles it, or (typecode, list) —
// into its items (int64 or float64; str for 'u').
func ArrayItems(v any) ([]any, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != (pickle.Global{Module: "array", Name: "array"}) || len(o.Args) != 2 {
		if o != nil && o.Class() == (pickle.Global{Module: "array", Name: "_array_reconstructor"}) && len(o.Args) == 4 {
			tc, _ := o.Args[1].(string)
			b, _ := o.Args[3].([]byte)
			return decodeArray(tc, b)
		}
		return nil, fmt.Errorf("manager: %w: not an array.array: %T", ErrProtocol, v)
	}
	tc, _ := o.Args[0].(string)
	switch x := o.Args[1].(type) {
	case []byte:
		return decodeArray(tc, x)
	case []any:
		return x, nil
	}
	return nil, fmt.Errorf("manager: %w: array.array data is %T", ErrProtocol, o.Args[1])
}

func decodeArray(tc string, b []byte) ([]any, error) {
	size, ok := wire.ArraySizes[tc]
	if !ok || len(b)%size != 0 {
		return nil, fmt.Errorf("manager: %w: array typecode %q with %d bytes", ErrProtocol, tc, len(b))
	}
	le := binary.LittleEndian
	out := make([]any, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		c := b[i : i+size]
		var v any
		switch tc {
		case "b":
			v = int64(int8(c[0]))
		case "B":
			v = int64(c[0])
		case "h":
			v = int64(int16(le.Uint16(c)))
		case "H":
			v = int64(le.Uint16(c))
		case "i":
			v = int64(int32(le.Uint32(c)))
		case "I":
			v = int64(le.Uint32(c))
		case "l", "q":
			v = int64(le.Uint64(c))
		case "L", "Q":
			u := le.Uint64(c)
			if u > math.MaxInt64 {
				v = new(big.Int).SetUint64(u)
			} else {
				v = int64(u)
			}
		case "f":
			v = float64(math.Float32frombits(le.Uint32(c)))
		case "d":
			v = math.Float64frombits(le.Uint64(c))
		case "u":
			v = string(rune(le.Uint32(c)))
		}
		out = append(out, v)
	}
	return out, nil
}
