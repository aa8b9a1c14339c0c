package queue

import (
	"fmt"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// ConnFunc turns a pickled Connection (rebuild_connection(_DupFd(fd), r,
// w)) into a *connection.Conn; (*process.ChildProcess).ConnFrom is one.
type ConnFunc func(v any, cfg connection.Config) (*connection.Conn, error)

// InheritedConn is a ConnFunc for descriptors inherited at the numbers the
// pickle names (what spawn guarantees): it wraps the fd with
// connection.FromFD. In a Go worker prefer the ChildProcess's ConnFrom,
// which also checks that each fd is taken once.
func InheritedConn(v any, cfg connection.Config) (*connection.Conn, error) {
	fd, r, w, err := reduction.ConnectionArgs(v)
	if err != nil {
		return nil, err
	}
	return cfg.FromFD(fd, r, w)
}

// Class returns the multiprocessing.queues class name of a pickled queue
// ("Queue", "JoinableQueue", "SimpleQueue"), or "" for anything else.
func Class(v any) string {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class().Module != Module {
		return ""
	}
	switch n := o.Class().Name; n {
	case "Queue", "JoinableQueue", "SimpleQueue":
		return n
	}
	return ""
}

func stateOf(v any, class string, n int) (pickle.Tuple, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != (pickle.Global{Module: Module, Name: class}) {
		return nil, fmt.Errorf("%w: %s is not a pickled %s.%s", ErrBadState, describeValue(v), Module, class)
	}
	t, ok := o.State.(pickle.Tuple)
	if !ok || len(t) != n {
		return nil, fmt.Errorf("%w: %s state is %s, want a %d-tuple", ErrBadState, class, describeValue(o.State), n)
	}
	return t, nil
}

func describeValue(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Callable.Module + "." + x.Callable.Name
	case nil:
		return "None"
	case pickle.Tuple:
		return fmt.Sprintf("a %d-tuple", len(x))
	}
	return fmt.Sprintf("%T", v)
}

// Open rebuilds a pickled multiprocessing.queues.Queue: the
// *pickle.Object a Go worker receives for a Queue argument (NEWOBJ Queue +
// BUILD (ignore_epipe, maxsize, reader, writer, rlock, wlock, sem, opid)),
// opening the semaphores by name and taking the pipe ends through conn
// (nil: InheritedConn). The result does not own the names: Close only
// closes this process's handles.
func Open(v any, conn ConnFunc, opts ...Option) (*Queue, error) {
	t, err := stateOf(v, "Queue", 8)
	if err != nil {
		return nil, err
	}
	return openQueue(t, conn, opts)
}

// OpenJoinable rebuilds a pickled multiprocessing.queues.JoinableQueue
// (the Queue state followed by (cond, unfinished_tasks)).
func OpenJoinable(v any, conn ConnFunc, opts ...Option) (*JoinableQueue, error) {
	t, err := stateOf(v, "JoinableQueue", 10)
	if err != nil {
		return nil, err
	}
	q, err := openQueue(t[:8], conn, opts)
	if err != nil {
		return nil, err
	}
	if q.cond, err = synchronize.OpenCondition(t[8]); err != nil {
		q.teardown()
		return nil, err
	}
	if q.unfinished, err = synchronize.OpenSemaphore(t[9]); err != nil {
		q.cond.Close()
		q.cond = nil
		q.teardown()
		return nil, err
	}
	return &JoinableQueue{q}, nil
}

// OpenSimple rebuilds a pickled multiprocessing.queues.SimpleQueue
// (BUILD (reader, writer, rlock, wlock)).
func OpenSimple(v any, conn ConnFunc, opts ...Option) (*SimpleQueue, error) {
	t, err := stateOf(v, "SimpleQueue", 4)
	if err != nil {
		return nil, err
	}
	s := &SimpleQueue{}
	if err := s.q.openCommon(t[0], t[1], t[2], t[3], conn, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenAny rebuilds whichever queue v is: a *Queue, *JoinableQueue or
// *SimpleQueue.
func OpenAny(v any, conn ConnFunc, opts ...Option) (any, error) {
	switch Class(v) {
	case "Queue":
		return Open(v, conn, opts...)
	case "JoinableQueue":
		return OpenJoinable(v, conn, opts...)
	case "SimpleQueue":
		return OpenSimple(v, conn, opts...)
	}
	return nil, fmt.Errorf("%w: %s is not a pickled multiprocessing queue", ErrBadState, describeValue(v))
}

// FromChildArg rebuilds the Queue passed as positional argument i to this
// Go worker (process.Child).
func FromChildArg(c *process.ChildProcess, i int, opts ...Option) (*Queue, error) {
	return Open(c.Arg(i), c.ConnFrom, opts...)
}

// JoinableFromChildArg rebuilds the JoinableQueue passed as argument i.
func JoinableFromChildArg(c *process.ChildProcess, i int, opts ...Option) (*JoinableQueue, error) {
	return OpenJoinable(c.Arg(i), c.ConnFrom, opts...)
}

// SimpleFromChildArg rebuilds the SimpleQueue passed as argument i.
func SimpleFromChildArg(c *process.ChildProcess, i int, opts ...Option) (*SimpleQueue, error) {
	return OpenSimple(c.Arg(i), c.ConnFrom, opts...)
}

func openQueue(t pickle.Tuple, conn ConnFunc, opts []Option) (*Queue, error) {
	ign, ok1 := t[0].(bool)
	maxsize, ok2 := t[1].(int64)
	opid, ok3 := t[7].(int64)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%w: Queue state (ignore_epipe, maxsize, …, opid) holds %T, %T, %T", ErrBadState, t[0], t[1], t[7])
	}
	if maxsize <= 0 || maxsize > SemValueMax {
		return nil, fmt.Errorf("%w: maxsize %d", ErrBadState, maxsize)
	}
	q := &Queue{maxsize: int(maxsize), ignoreEpipe: ign, opid: opid}
	if err := q.openCommon(t[2], t[3], t[4], t[5], conn, opts); err != nil {
		return nil, err
	}
	var err error
	if q.sem, err = synchronize.OpenBoundedSemaphore(t[6]); err != nil {
		q.teardown()
		return nil, err
	}
	if q.sem.MaxValue() != q.maxsize {
		q.teardown()
		return nil, fmt.Errorf("%w: _sem maxvalue %d != maxsize %d", ErrBadState, q.sem.MaxValue(), q.maxsize)
	}
	return q, nil
}

// openCommon opens the pipe ends and the two locks and initialises q.
func (q *Queue) openCommon(rv, wv, rl, wl any, conn ConnFunc, opts []Option) (err error) {
	if conn == nil {
		conn = InheritedConn
	}
	q.cfg = buildConfig(opts)
	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range closers {
				_ = c()
			}
		}
	}()
	if q.rlock, err = synchronize.OpenLock(rl); err != nil {
		return err
	}
	closers = append(closers, q.rlock.Close)
	if q.wlock, err = synchronize.OpenLock(wl); err != nil {
		return err
	}
	closers = append(closers, q.wlock.Close)
	if q.reader, err = conn(rv, q.cfg.conn); err != nil {
		return fmt.Errorf("queue: reader: %w", err)
	}
	closers = append(closers, q.reader.Close)
	if q.writer, err = conn(wv, q.cfg.conn); err != nil {
		return fmt.Errorf("queue: writer: %w", err)
	}
	if !q.reader.Readable() || !q.writer.Writable() {
		q.writer.Close()
		return fmt.Errorf("%w: reader/writer flags", ErrBadState)
	}
	q.init()
	return nil
}
