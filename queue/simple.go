package queue

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// SimpleQueue is multiprocessing.SimpleQueue: a pipe with a Lock for
// readers and one for writers, no size limit, no feeder: Put pickles and
// writes the item itself under _wlock (so it blocks while the pipe is
// full); Get reads one item under _rlock.
//
// All methods are safe for concurrent use.
type SimpleQueue struct {
	q Queue
}

// NewSimple creates a SimpleQueue (Python: ctx.SimpleQueue()).
func NewSimple() (*SimpleQueue, error) { return Config{}.NewSimple() }

// NewSimple is the package-level NewSimple with these settings.
func (cfg Config) NewSimple() (*SimpleQueue, error) {
	s := &SimpleQueue{}
	q := &s.q
	q.cfg = cfg.settings()
	var err error
	if q.reader, q.writer, err = q.cfg.conn.Pipe(false); err != nil {
		return nil, fmt.Errorf("queue: pipe: %w", err)
	}
	setPipeSize(q.writer, q.cfg.pipeSize)
	if q.rlock, err = synchronize.NewLock(); err != nil {
		q.reader.Close()
		q.writer.Close()
		return nil, err
	}
	if q.wlock, err = synchronize.NewLock(); err != nil {
		q.rlock.Close()
		q.reader.Close()
		q.writer.Close()
		return nil, err
	}
	if err := q.track(q.rlock.SemLock, q.wlock.SemLock); err != nil {
		q.rlock.Close()
		q.wlock.Close()
		q.reader.Close()
		q.writer.Close()
		return nil, err
	}
	q.init()
	return s, nil
}

// Names returns the names of the semaphores (_rlock, _wlock).
func (s *SimpleQueue) Names() []string { return []string{s.q.rlock.Name(), s.q.wlock.Name()} }

// Put is put(obj): it pickles v and writes it under _wlock, waiting (for
// the lock and for room in the pipe) until ctx ends.
func (s *SimpleQueue) Put(ctx context.Context, v any) error {
	data, err := s.q.cfg.enc.Marshal(v)
	if err != nil {
		return fmt.Errorf("queue: pickling the item: %w", err)
	}
	return s.PutPickle(ctx, data)
}

// PutPickle puts an already pickled item.
func (s *SimpleQueue) PutPickle(ctx context.Context, data []byte) error {
	q := &s.q
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	if _, err := q.acquire(ctx, q.wlock.SemLock, true); err != nil {
		return waitErr(err, ErrFull)
	}
	err := q.writer.SendBytes(ctx, data)
	if rerr := q.wlock.Release(); err == nil && rerr != nil {
		err = rerr
	}
	return waitErr(err, ErrFull)
}

// Get is get(): it reads one item into v (a pointer; *any for a generic
// value), waiting until ctx ends (a deadline gives an error matching
// ErrEmpty).
func (s *SimpleQueue) Get(ctx context.Context, v any) error { return s.q.get(ctx, v, true) }

// GetValue is Get into a generic value.
func (s *SimpleQueue) GetValue(ctx context.Context) (any, error) {
	var v any
	err := s.Get(ctx, &v)
	return v, err
}

// GetPickle is Get without unpickling.
func (s *SimpleQueue) GetPickle(ctx context.Context) ([]byte, error) { return s.q.getBytes(ctx, true) }

// Empty is empty().
func (s *SimpleQueue) Empty() (bool, error) { return s.q.Empty() }

// Close is close(): it closes this process's pipe ends and semaphore
// mappings (unlinking the names if NewSimple made them), interrupting
// blocked calls.
func (s *SimpleQueue) Close() error {
	s.q.mu.Lock()
	s.q.closed = true
	s.q.mu.Unlock()
	s.q.teardown()
	return s.q.tornErr
}

// ReduceForSpawn implements process.SpawnReducer: NEWOBJ
// multiprocessing.queues.SimpleQueue + BUILD (reader, writer, rlock, wlock).
func (s *SimpleQueue) ReduceForSpawn(sp *process.Spawning) (any, error) {
	q := &s.q
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	r, err := sp.Connection(q.reader)
	if err != nil {
		return nil, err
	}
	w, err := sp.Connection(q.writer)
	if err != nil {
		return nil, err
	}
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: "SimpleQueue"}, Args: pickle.Tuple{}, NewObj: true,
		State: pickle.Tuple{r, w, q.rlock.Object(), q.wlock.Object()}}, nil
}
