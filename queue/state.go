package queue

import (
	"fmt"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// connFunc turns a pickled Connection (rebuild_connection(_DupFd(fd), r,
// w)) into a *connection.Conn: (*process.ChildProcess).ConnFrom, or a
// stand-in in tests.
type connFunc func(v any, cfg connection.Config) (*connection.Conn, error)

// className returns the multiprocessing.queues class name of a pickled
// queue ("Queue", "JoinableQueue", "SimpleQueue"), or "" for anything else.
func className(v any) string {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class().Module != module {
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
	if !ok || o.Class() != (pickle.Global{Module: module, Name: class}) {
		return nil, fmt.Errorf("%w: %s is not a pickled %s.%s", ErrBadState, describeValue(v), module, class)
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

// Open rebuilds a pickled multiprocessing.queues.Queue that a spawn parent
// passed to this Go worker: v is the *pickle.Object the worker received
// (child.Arg(i), or a value found inside an argument), NEWOBJ Queue + BUILD
// (ignore_epipe, maxsize, reader, writer, rlock, wlock, sem, opid). It
// opens the semaphores by name and takes the inherited pipe ends from child
// (each can be taken once). The result does not own the names: Close only
// closes this process's handles.
func Open(child *process.ChildProcess, v any) (*Queue, error) { return Config{}.Open(child, v) }

// Open is the package-level Open with these settings.
func (cfg Config) Open(child *process.ChildProcess, v any) (*Queue, error) {
	return openQueueState(v, child.ConnFrom, cfg)
}

// OpenJoinable rebuilds a pickled multiprocessing.queues.JoinableQueue
// (the Queue state followed by (cond, unfinished_tasks)); see Open.
func OpenJoinable(child *process.ChildProcess, v any) (*JoinableQueue, error) {
	return Config{}.OpenJoinable(child, v)
}

// OpenJoinable is the package-level OpenJoinable with these settings.
func (cfg Config) OpenJoinable(child *process.ChildProcess, v any) (*JoinableQueue, error) {
	return openJoinableState(v, child.ConnFrom, cfg)
}

// OpenSimple rebuilds a pickled multiprocessing.queues.SimpleQueue (BUILD
// (reader, writer, rlock, wlock)); see Open.
func OpenSimple(child *process.ChildProcess, v any) (*SimpleQueue, error) {
	return Config{}.OpenSimple(child, v)
}

// OpenSimple is the package-level OpenSimple with these settings.
func (cfg Config) OpenSimple(child *process.ChildProcess, v any) (*SimpleQueue, error) {
	return openSimpleState(v, child.ConnFrom, cfg)
}

func openQueueState(v any, conn connFunc, cfg Config) (*Queue, error) {
	t, err := stateOf(v, "Queue", 8)
	if err != nil {
		return nil, err
	}
	return openQueue(t, conn, cfg)
}

func openJoinableState(v any, conn connFunc, cfg Config) (*JoinableQueue, error) {
	t, err := stateOf(v, "JoinableQueue", 10)
	if err != nil {
		return nil, err
	}
	q, err := openQueue(t[:8], conn, cfg)
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

func openSimpleState(v any, conn connFunc, cfg Config) (*SimpleQueue, error) {
	t, err := stateOf(v, "SimpleQueue", 4)
	if err != nil {
		return nil, err
	}
	s := &SimpleQueue{}
	if err := s.q.openCommon(t[0], t[1], t[2], t[3], conn, cfg); err != nil {
		return nil, err
	}
	return s, nil
}

func openQueue(t pickle.Tuple, conn connFunc, cfg Config) (*Queue, error) {
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
	if err := q.openCommon(t[2], t[3], t[4], t[5], conn, cfg); err != nil {
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
func (q *Queue) openCommon(rv, wv, rl, wl any, conn connFunc, cfg Config) (err error) {
	q.cfg = cfg.settings()
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
