package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/sem"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// module is the Python module defining the queue classes.
const module = "multiprocessing.queues"

// SemValueMax is SEM_VALUE_MAX, the maxsize of an unbounded Queue.
const SemValueMax = sem.SemValueMax

// Config holds the settings of the queues made by its methods (New,
// NewJoinable, NewSimple, Open, OpenJoinable, OpenSimple); the package-level
// functions of the same names use the zero Config, which gives Python's
// behaviour with mpwire's safe limits. A queue copies its Config.
type Config struct {
	// MaxItem bounds the pickled size of one item a Get accepts (the frame
	// limit of the queue's read end): 0 means connection.DefaultMaxFrame
	// (64 MiB), a negative value no limit. A larger item fails the Get with
	// connection.ErrFrameTooLarge and, as in Python, leaves the pipe
	// unreadable.
	MaxItem int64
	// EncMode pickles what Put puts; nil means protocol 4, what Python
	// 3.8–3.13 queues write.
	EncMode pickle.EncMode
	// DecMode unpickles what Get gets, with its limits; nil means pickle's
	// defaults.
	DecMode pickle.DecMode
	// PipeSize is the capacity of the pipe of a queue created by this
	// process (F_SETPIPE_SZ; Linux caps it at /proc/sys/fs/pipe-max-size,
	// 1 MiB by default); 0 keeps the system default (64 KiB), as Python's
	// queues have. It is best effort: a size the kernel refuses leaves the
	// default. Both languages work with any size; a larger pipe lets a
	// producer run further ahead of its consumers but was not faster in our
	// measurements for small items.
	PipeSize int
	// Tracker, if set, registers the semaphores of a queue created by this
	// process with this multiprocessing resource tracker (a
	// *process.ResourceTracker, or child.Tracker() in a Go worker) instead
	// of the process's default tracker (process.SetDefaultTracker), which
	// is used when it is nil: if this process dies before closing the
	// queue, the tracker unlinks the names once every process holding it
	// has exited, as Python's does for its own queues.
	Tracker synchronize.Tracker
	// OnFeederError is called when the feeder cannot write an item
	// (Python's Queue._on_queue_feeder_error, which prints a traceback).
	// The item is dropped and its slot released, as in Python. With
	// neither OnFeederError nor Logger, the error is printed to standard
	// error.
	OnFeederError func(error)
	// Logger, if set, records the queue's failures: feeder errors (Error),
	// and Gets that hit a limit or a broken pipe (Warn, with the limit's
	// name: "queue.Config.MaxItem" for an oversized item, the pickle
	// DecOptions field for a decoder limit). Attribute "queue" is the
	// name of the queue's _rlock. nil logs nothing.
	Logger *slog.Logger
}

// settings is a Config with its defaults resolved.
type settings struct {
	conn     connection.Config
	pipeSize int
	enc      pickle.EncMode
	dec      pickle.DecMode
	onError  func(error)
	tracker  synchronize.Tracker
	logger   *slog.Logger
}

var (
	defaultEnc, _ = pickle.EncOptions{}.EncMode()
	defaultDec, _ = pickle.DecOptions{}.DecMode()
)

func (cfg Config) settings() settings {
	// ThreadWait: a Get that nothing can interrupt early (ctx.Done() nil)
	// waits for the item in ppoll(2), as a Python get() waits in read(2);
	// under _rlock at most one such Get per process waits on the pipe.
	s := settings{conn: connection.Config{MaxFrame: cfg.MaxItem, ThreadWait: true}, pipeSize: cfg.PipeSize, enc: cfg.EncMode,
		dec: cfg.DecMode, onError: cfg.OnFeederError, tracker: cfg.Tracker, logger: cfg.Logger}
	if s.enc == nil {
		s.enc = defaultEnc
	}
	if s.dec == nil {
		s.dec = defaultDec
	}
	return s
}

// Queue is multiprocessing.Queue: a one-way pipe whose items are pickles,
// a BoundedSemaphore(maxsize) counting free slots (_sem), and two Locks
// serialising readers (_rlock) and writers (_wlock) across processes.
//
// Put, like Python's put, hands the item to a feeder goroutine that writes
// it to the pipe, so Put does not block on a full pipe (only on a full
// queue); unlike Python, Put pickles the item itself so encoding errors
// reach the caller. Items put before Close are written by the feeder after
// Close returns; JoinThread waits for that. A Get removes one item: it
// takes _rlock, reads one frame, releases _sem and _rlock, then unpickles.
//
// All methods are safe for concurrent use by many goroutines.
type Queue struct {
	maxsize     int
	ignoreEpipe bool
	opid        int64
	reader      *connection.Conn
	writer      *connection.Conn
	rlock       *synchronize.Lock
	wlock       *synchronize.Lock
	sem         *synchronize.BoundedSemaphore
	cfg         settings

	// JoinableQueue only.
	cond       *synchronize.Condition
	unfinished *synchronize.Semaphore

	mu            sync.Mutex
	buf           [][]byte // pickled items waiting for the feeder
	spare         [][]byte
	notEmpty      chan struct{} // wakes the feeder (cap 1)
	feeding       bool
	closed        bool
	torn          bool
	joinCancelled bool
	feederDone    chan struct{}

	loggedBroken atomic.Bool // a broken or unreadable pipe is logged once

	life     context.Context // ends at teardown: interrupts blocked operations
	kill     context.CancelFunc
	ops      sync.WaitGroup // operations in flight (they release what they hold before leaving)
	tornDone chan struct{}
	tornErr  error
}

// New creates a Queue like multiprocessing.Queue(maxsize) in a spawn
// context: an os pipe and three named semaphores ("/mp-xxxxxxxx"). maxsize
// <= 0 means unbounded (SEM_VALUE_MAX). The Queue owns the names and
// unlinks them as soon as it is closed (Close or Abort), even while the
// feeder is still writing buffered items; children it was passed to
// (process.Start) have opened them by then if they have started running.
func New(maxsize int) (*Queue, error) { return Config{}.New(maxsize) }

// New is the package-level New with these settings.
func (cfg Config) New(maxsize int) (*Queue, error) {
	q := &Queue{}
	if err := q.create(maxsize, cfg); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) create(maxsize int, cfg Config) (err error) {
	if maxsize <= 0 {
		maxsize = SemValueMax
	}
	if maxsize > SemValueMax {
		return fmt.Errorf("queue: maxsize %d above SEM_VALUE_MAX (%d)", maxsize, SemValueMax)
	}
	q.cfg = cfg.settings()
	q.maxsize = maxsize
	q.opid = int64(os.Getpid())
	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range closers {
				_ = c()
			}
		}
	}()
	if q.reader, q.writer, err = q.cfg.conn.Pipe(false); err != nil {
		return fmt.Errorf("queue: pipe: %w", err)
	}
	closers = append(closers, q.reader.Close, q.writer.Close)
	setPipeSize(q.writer, q.cfg.pipeSize)
	if q.rlock, err = synchronize.NewLock(); err != nil {
		return err
	}
	closers = append(closers, q.rlock.Close)
	if q.wlock, err = synchronize.NewLock(); err != nil {
		return err
	}
	closers = append(closers, q.wlock.Close)
	if q.sem, err = synchronize.NewBoundedSemaphore(maxsize); err != nil {
		return err
	}
	closers = append(closers, q.sem.Close)
	if err = q.track(q.rlock.SemLock, q.wlock.SemLock, q.sem.SemLock); err != nil {
		return err
	}
	q.init()
	return nil
}

func (q *Queue) track(ls ...*synchronize.SemLock) error {
	if q.cfg.tracker == nil {
		return nil
	}
	for _, l := range ls {
		if err := l.Track(q.cfg.tracker); err != nil {
			return fmt.Errorf("queue: registering %s with the resource tracker: %w", l.Name(), err)
		}
	}
	return nil
}

func (q *Queue) init() {
	q.notEmpty = make(chan struct{}, 1)
	q.feederDone = make(chan struct{})
	q.tornDone = make(chan struct{})
	q.life, q.kill = context.WithCancel(context.Background())
}

// Maxsize is the queue's maxsize (SemValueMax when unbounded).
func (q *Queue) Maxsize() int { return q.maxsize }

// Names returns the names of the queue's semaphores (_rlock, _wlock, _sem).
func (q *Queue) Names() []string {
	return []string{q.rlock.Name(), q.wlock.Name(), q.sem.Name()}
}

// begin registers an operation; it fails once the queue is closed.
func (q *Queue) begin() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.torn {
		return errClosed
	}
	q.ops.Add(1)
	return nil
}

// slow returns ctx merged with the queue's lifetime (so Close interrupts
// a blocked operation) and its release function.
func (q *Queue) slow(ctx context.Context) (context.Context, func()) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(q.life, cancel)
	return c, func() { stop(); cancel() }
}

// acquire takes l: a try first, then (if block) a wait bounded by ctx and
// the queue's lifetime. It reports false when !block and l was taken.
func (q *Queue) acquire(ctx context.Context, l *synchronize.SemLock, block bool) (bool, error) {
	ok, err := l.TryAcquire()
	if ok || err != nil || !block {
		return ok, err
	}
	if ctx.Done() == nil {
		// Only the queue's end can interrupt the wait: no merged context.
		err = l.Acquire(q.life)
		if err != nil && q.life.Err() != nil {
			err = errClosed
		}
		return err == nil, err
	}
	c, done := q.slow(ctx)
	defer done()
	err = l.Acquire(c)
	if err != nil && ctx.Err() == nil && q.life.Err() != nil {
		err = errClosed
	}
	return err == nil, err
}

// Put is put(obj): it waits for a free slot until ctx ends (ctx's deadline
// is Python's timeout: the error then matches ErrFull), pickles v and
// queues it for the feeder.
func (q *Queue) Put(ctx context.Context, v any) error { return q.put(ctx, v, true) }

// PutTimeout is put(obj, True, timeout=d): it fails with an error matching
// ErrFull (and context.DeadlineExceeded) when no slot frees up within d.
// d == 0 does not wait (put_nowait); a negative d waits like Put.
func (q *Queue) PutTimeout(ctx context.Context, d time.Duration, v any) error {
	return withTimeout(ctx, d, func(ctx context.Context, block bool) error { return q.put(ctx, v, block) })
}

// withTimeout calls op the way Python's (block=True, timeout=d) arguments
// ask: d < 0 blocks without a limit, d == 0 does not block, d > 0 blocks
// until d has passed.
func withTimeout(ctx context.Context, d time.Duration, op func(ctx context.Context, block bool) error) error {
	switch {
	case d < 0:
		return op(ctx, true)
	case d == 0:
		return op(ctx, false)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return op(ctx, true)
}

// PutNowait is put_nowait(obj): ErrFull if there is no free slot.
func (q *Queue) PutNowait(v any) error { return q.put(context.Background(), v, false) }

func (q *Queue) put(ctx context.Context, v any, block bool) error {
	data, err := q.cfg.enc.Marshal(v)
	if err != nil {
		return fmt.Errorf("queue: pickling the item: %w", err)
	}
	return q.putBytes(ctx, data, block)
}

// PutPickle puts an already pickled item (protocol ≤ 4 for Python 3.8's
// sake; any protocol for newer peers).
func (q *Queue) PutPickle(ctx context.Context, data []byte) error { return q.putBytes(ctx, data, true) }

func (q *Queue) putBytes(ctx context.Context, data []byte, block bool) error {
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	ok, err := q.acquire(ctx, q.sem.SemLock, block)
	if err != nil {
		return waitErr(err, ErrFull)
	}
	if !ok {
		return ErrFull
	}
	if q.cond != nil {
		// JoinableQueue.put: with self._notempty, self._cond: … self._unfinished_tasks.release()
		c, done := q.slow(ctx)
		err := q.cond.Acquire(c)
		done()
		if err != nil {
			_ = q.sem.Release()
			return waitErr(err, ErrFull)
		}
		err = q.unfinished.Release()
		if rerr := q.cond.Release(); err == nil {
			err = rerr
		}
		if err != nil {
			_ = q.sem.Release()
			return err
		}
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		_ = q.sem.Release()
		return errClosed
	}
	if !q.feeding {
		q.feeding = true
		q.ops.Add(1) // the feeder is an operation: teardown waits for it to let go of _wlock
		go q.feed()
	}
	q.buf = append(q.buf, data)
	q.mu.Unlock()
	select {
	case q.notEmpty <- struct{}{}:
	default:
	}
	return nil
}

// feed is Queue._feed: it writes buffered items to the pipe, each under
// _wlock, until the queue is closed and the buffer is empty; then it closes
// this process's pipe ends and tears the queue down.
func (q *Queue) feed() {
	defer close(q.feederDone)
	for {
		q.mu.Lock()
		if len(q.buf) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed || q.life.Err() != nil {
				q.ops.Done()
				q.teardown()
				return
			}
			<-q.notEmpty
			continue
		}
		items := q.buf
		q.buf, q.spare = q.spare, nil
		q.mu.Unlock()
		for i, data := range items {
			items[i] = nil
			if q.life.Err() != nil { // aborted: drop the item
				_ = q.sem.Release()
				continue
			}
			if err := q.write(data); err != nil {
				_ = q.sem.Release() // as if the item had been removed (Python does the same)
				if q.life.Err() != nil || (q.ignoreEpipe && errors.Is(err, syscall.EPIPE)) {
					continue
				}
				q.feederError(err)
			}
		}
		q.mu.Lock()
		q.spare = items[:0]
		q.mu.Unlock()
	}
}

func (q *Queue) write(data []byte) error {
	if _, err := q.acquire(q.life, q.wlock.SemLock, true); err != nil {
		return fmt.Errorf("queue: feeder: acquiring _wlock: %w", err)
	}
	err := q.writer.SendBytes(context.Background(), data)
	if rerr := q.wlock.Release(); err == nil && rerr != nil {
		err = fmt.Errorf("queue: feeder: releasing _wlock: %w", rerr)
	}
	return err
}

func (q *Queue) feederError(err error) {
	q.log(slog.LevelError, "queue: feeder could not write an item; dropped", slog.Any("err", err))
	if q.cfg.onError != nil {
		q.cfg.onError(err)
		return
	}
	if q.cfg.logger == nil {
		fmt.Fprintln(os.Stderr, "mpwire queue feeder:", err)
	}
}

func (q *Queue) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if q.cfg.logger != nil {
		q.cfg.logger.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("queue", q.rlock.Name()))...)
	}
}

// limitName names the pickle.DecOptions field a decoder limit error is
// about, as far as the error says ("pickle.DecOptions" alone when its
// message names none: the message then says what was exceeded).
func limitName(err error) string {
	var le *pickle.LimitError
	if errors.As(err, &le) {
		return "pickle.DecOptions." + le.Limit
	}
	return "pickle.DecOptions"
}

// logGetErr records a Get that failed on a limit or a broken pipe.
func (q *Queue) logGetErr(err error) {
	if q.cfg.logger == nil || err == nil {
		return
	}
	switch {
	case errors.Is(err, pickle.ErrLimit):
		q.log(slog.LevelWarn, "queue: item exceeds a decoder limit; dropped", slog.String("limit", limitName(err)), slog.Any("err", err))
	case errors.Is(err, connection.ErrFrameTooLarge):
		if !q.loggedBroken.Swap(true) {
			q.log(slog.LevelWarn, "queue: item exceeds the size limit; the pipe is unreadable from now on", slog.String("limit", "queue.Config.MaxItem"), slog.Any("err", err))
		}
	case errors.Is(err, ErrBroken):
		if !q.loggedBroken.Swap(true) {
			q.log(slog.LevelWarn, "queue: the pipe holds a partial item; no more items can be read", slog.Any("err", err))
		}
	}
}

// Get is get(): it removes an item and unpickles it into v (a non-nil
// pointer; *any for a generic value), waiting until ctx ends (ctx's
// deadline is Python's timeout: the error then matches ErrEmpty).
func (q *Queue) Get(ctx context.Context, v any) error { return q.get(ctx, v, true) }

// GetTimeout is get(True, timeout=d): it fails with an error matching
// ErrEmpty (and context.DeadlineExceeded) when no item arrives within d.
// d == 0 does not wait (get_nowait); a negative d waits like Get.
func (q *Queue) GetTimeout(ctx context.Context, d time.Duration, v any) error {
	return withTimeout(ctx, d, func(ctx context.Context, block bool) error { return q.get(ctx, v, block) })
}

// GetNowait is get_nowait(): ErrEmpty unless an item can be read at once.
func (q *Queue) GetNowait(v any) error { return q.get(context.Background(), v, false) }

// GetValue is Get into a generic value.
func (q *Queue) GetValue(ctx context.Context) (any, error) {
	var v any
	err := q.get(ctx, &v, true)
	return v, err
}

// GetPickle is Get without unpickling: it returns the item's pickle.
func (q *Queue) GetPickle(ctx context.Context) ([]byte, error) { return q.getBytes(ctx, true) }

func (q *Queue) get(ctx context.Context, v any, block bool) error {
	bp := getBuf()
	data, err := q.getInto(ctx, block, *bp)
	if err != nil {
		putBuf(bp, nil)
		return err
	}
	// unserialize the data after having released the lock
	if err := q.cfg.dec.Unmarshal(data, v); err != nil {
		q.logGetErr(err)
		return &ItemError{Err: err, Data: data} // data escapes: the buffer is not reused
	}
	putBuf(bp, data)
	return nil
}

// Receive buffers for Get: the item is unpickled (copied out) right after
// the read, so one buffer per concurrent Get is enough, and a large item
// does not cost a fresh allocation each time.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

const maxPooledBuf = 8 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns the buffer, or a larger one that data lives in.
func putBuf(bp *[]byte, data []byte) {
	if cap(data) > cap(*bp) && cap(data) <= maxPooledBuf {
		*bp = data[:cap(data)]
	}
	bufPool.Put(bp)
}

func (q *Queue) getBytes(ctx context.Context, block bool) ([]byte, error) {
	return q.getInto(ctx, block, nil)
}

// getInto is get's locked part; with buf it reads into buf when the item
// fits (the result then aliases buf).
func (q *Queue) getInto(ctx context.Context, block bool, buf []byte) ([]byte, error) {
	if err := q.begin(); err != nil {
		return nil, err
	}
	defer q.ops.Done()
	ok, err := q.acquire(ctx, q.rlock.SemLock, block)
	if err != nil {
		return nil, waitErr(err, ErrEmpty)
	}
	if !ok {
		return nil, ErrEmpty
	}
	var slot *synchronize.SemLock
	if q.sem != nil {
		slot = q.sem.SemLock
	}
	data, err := q.recvLocked(ctx, block, slot, buf)
	if rerr := q.rlock.Release(); err == nil && rerr != nil {
		err = fmt.Errorf("queue: releasing _rlock: %w", rerr)
	}
	q.logGetErr(err)
	return data, err
}

// recvLocked reads one frame with _rlock held, then releases slot (if not
// nil): poll for the time left, recv_bytes, _sem.release().
func (q *Queue) recvLocked(ctx context.Context, block bool, slot *synchronize.SemLock, buf []byte) ([]byte, error) {
	if block && ctx.Done() == nil {
		// get() without a timeout: Python reads straight away under
		// _rlock; Close interrupts the read by closing the pipe end.
		data, err := q.recv(ctx, buf)
		if err != nil {
			return nil, waitErr(err, ErrEmpty)
		}
		return data, q.releaseSlot(slot)
	}
	ready, err := q.reader.PollTimeout(context.Background(), 0)
	if err != nil {
		return nil, waitErr(err, ErrEmpty)
	}
	if !ready {
		if !block {
			return nil, ErrEmpty
		}
		c, done := q.slow(ctx)
		ready, err = q.reader.Poll(c)
		done()
		if err != nil {
			if ctx.Err() == nil && q.life.Err() != nil {
				err = errClosed
			}
			return nil, waitErr(err, ErrEmpty)
		}
	}
	data, err := q.recv(ctx, buf)
	if err != nil {
		return nil, waitErr(err, ErrEmpty)
	}
	return data, q.releaseSlot(slot)
}

// recv reads one frame, into buf if it fits.
func (q *Queue) recv(ctx context.Context, buf []byte) ([]byte, error) {
	if buf == nil {
		return q.reader.RecvBytes(ctx)
	}
	n, err := q.reader.RecvBytesInto(ctx, buf)
	if err == nil {
		return buf[:n], nil
	}
	var short *connection.BufferTooShortError
	if errors.As(err, &short) {
		return short.Message, nil
	}
	return nil, err
}

func (q *Queue) releaseSlot(slot *synchronize.SemLock) error {
	if slot != nil {
		if err := slot.Release(); err != nil {
			return fmt.Errorf("queue: releasing _sem after a get: %w", err)
		}
	}
	return nil
}

// Qsize is qsize(): maxsize minus the free slots, i.e. items put (in any
// process, including those still in a feeder's buffer) and not yet got.
func (q *Queue) Qsize() (int, error) {
	v, err := q.sem.GetValue()
	if err != nil {
		return 0, err
	}
	return q.maxsize - v, nil
}

// Empty is empty(): whether the pipe holds no data right now. Items still
// in a feeder's buffer (this process's or a Python producer's) do not
// count, as in Python.
func (q *Queue) Empty() (bool, error) {
	if err := q.begin(); err != nil {
		return false, err
	}
	defer q.ops.Done()
	ready, err := q.reader.PollTimeout(context.Background(), 0)
	return !ready, err
}

// Full is full(): whether there is no free slot.
func (q *Queue) Full() (bool, error) { return q.sem.IsZero() }

// Close is close(): no more Puts or Gets from this process. For a queue
// created by New it unlinks the semaphore names at once (as Python does
// when the creating object goes away; processes that opened them keep
// working). Items already put are still written by the feeder, which then
// closes this process's pipe ends and semaphores. Close does not wait for
// that; JoinThread does. A
// process that never put anything is torn down at once, which interrupts
// Gets blocked in other goroutines (they return ErrClosed). Close is
// idempotent.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	feeding := q.feeding
	q.mu.Unlock()
	if !feeding {
		q.teardown()
		return q.tornErr
	}
	// The names can go now (Python unlinks when the creator's object
	// dies): children have opened them, and the feeder keeps its mappings.
	err := q.unlinkNames()
	select {
	case q.notEmpty <- struct{}{}:
	default:
	}
	return err
}

// unlinkNames unlinks the semaphore names this process created.
func (q *Queue) unlinkNames() error {
	var errs []error
	for _, l := range []*synchronize.SemLock{q.rlock.SemLock, q.wlock.SemLock} {
		if l.Owner() {
			errs = append(errs, l.Unlink())
		}
	}
	if q.sem != nil && q.sem.Owner() {
		errs = append(errs, q.sem.Unlink())
	}
	if q.cond != nil {
		errs = append(errs, q.cond.Unlink())
		if q.unfinished.Owner() {
			errs = append(errs, q.unfinished.Unlink())
		}
	}
	return errors.Join(errs...)
}

// JoinThread is join_thread(): after Close, it waits until the feeder has
// written every item put by this process (or ctx ends). Like Python, it
// blocks while nobody reads a full pipe. After CancelJoinThread it returns
// at once.
func (q *Queue) JoinThread(ctx context.Context) error {
	q.mu.Lock()
	closed, feeding, cancelled := q.closed, q.feeding, q.joinCancelled
	q.mu.Unlock()
	if !closed {
		return ErrNotClosed
	}
	if cancelled || !feeding {
		return nil
	}
	select {
	case <-q.feederDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CancelJoinThread is cancel_join_thread(): JoinThread no longer waits.
// (Python uses it so that a process can exit without flushing; a Go
// program exits without waiting for the feeder anyway, losing what it has
// not written — call Close and JoinThread to flush.)
func (q *Queue) CancelJoinThread() {
	q.mu.Lock()
	q.joinCancelled = true
	q.mu.Unlock()
}

// Abort closes the queue without flushing: buffered items are dropped
// (their slots released) and everything is torn down now, interrupting
// blocked operations. A frame being written at that moment may be cut,
// which corrupts the pipe for its readers; use it when the queue is being
// abandoned.
func (q *Queue) Abort() error {
	q.mu.Lock()
	q.closed = true
	dropped := len(q.buf)
	q.buf = nil
	feeding := q.feeding
	q.mu.Unlock()
	for i := 0; i < dropped; i++ {
		_ = q.sem.Release()
	}
	q.teardown()
	if feeding {
		select {
		case q.notEmpty <- struct{}{}:
		default:
		}
	}
	return q.tornErr
}

// teardown closes the pipe ends, interrupts blocked operations, waits for
// them to release what they hold, then closes the semaphores. It runs
// once.
func (q *Queue) teardown() {
	q.mu.Lock()
	if q.torn {
		q.mu.Unlock()
		<-q.tornDone
		return
	}
	q.torn = true
	q.closed = true
	q.mu.Unlock()
	defer close(q.tornDone)
	var errs []error
	q.kill()
	select { // wake an idle feeder so that it leaves
	case q.notEmpty <- struct{}{}:
	default:
	}
	errs = append(errs, q.reader.Close(), q.writer.Close())
	q.ops.Wait()
	errs = append(errs, q.rlock.Close(), q.wlock.Close())
	if q.sem != nil {
		errs = append(errs, q.sem.Close())
	}
	if q.cond != nil {
		errs = append(errs, q.cond.Close(), q.unfinished.Close())
	}
	q.tornErr = errors.Join(errs...)
}

// ReduceForSpawn implements process.SpawnReducer: a Python child receives
// NEWOBJ multiprocessing.queues.Queue + BUILD (ignore_epipe, maxsize,
// reader, writer, rlock, wlock, sem, opid) and rebuilds a real
// multiprocessing.Queue on the same pipe and semaphores.
func (q *Queue) ReduceForSpawn(s *process.Spawning) (any, error) {
	st, err := q.spawnState(s)
	if err != nil {
		return nil, err
	}
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: "Queue"}, Args: pickle.Tuple{}, NewObj: true, State: st}, nil
}

func (q *Queue) spawnState(s *process.Spawning) (pickle.Tuple, error) {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	r, err := s.Connection(q.reader)
	if err != nil {
		return nil, err
	}
	w, err := s.Connection(q.writer)
	if err != nil {
		return nil, err
	}
	return pickle.Tuple{q.ignoreEpipe, int64(q.maxsize), r, w, q.rlock.Object(), q.wlock.Object(), q.sem.Object(), q.opid}, nil
}
