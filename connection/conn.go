package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

// DefaultMaxFrame is the receive limit of a Conn whose Config leaves
// MaxFrame at 0: 64 MiB. A larger frame fails with ErrFrameTooLarge before
// its body is read. Python has no such limit; raise it with Config.MaxFrame
// (negative for none) when a peer legitimately sends bigger messages.
const DefaultMaxFrame = 64 << 20

// Config holds the settings of a Conn. The zero value gives the defaults:
// DefaultMaxFrame and the pickle package's default modes (protocol 4 and the
// decoder's safe limits). A Conn copies its Config when it is made.
type Config struct {
	// MaxFrame is the largest frame the Conn accepts when receiving, in
	// bytes: 0 means DefaultMaxFrame, a negative value means no limit
	// (frames up to the 8-byte length's range). Even without a limit,
	// memory is allocated as bytes arrive, never up front for a claimed
	// length.
	MaxFrame int64
	// EncMode pickles what Send sends; nil means protocol 4 (Python's
	// Connection.send). Python's recv accepts every protocol; use
	// pickle.EncOptions{Protocol: p}.EncMode() for another one.
	EncMode pickle.EncMode
	// DecMode unpickles what Recv receives, with its limits; nil means
	// pickle's defaults.
	DecMode pickle.DecMode
	// ReadAhead, if positive, is the size of a receive buffer: a receive
	// then reads up to ReadAhead bytes in one system call (the header and
	// payload of a small frame together, where Python reads them with two)
	// and keeps what arrived beyond its frame for the next receive. 0 or
	// negative: none, every read asks for exactly what the frame needs.
	// Bytes read ahead exist only in this Conn (Poll and Wait count them):
	// do not hand the descriptor of such a Conn to another process (Fd,
	// File). Request-reply peers such as manager clients and servers gain
	// one system call per message.
	ReadAhead int
	// ThreadWait makes the Conn wait the way a Python process does: a
	// receive that must wait for data, a send that must wait for room, and
	// Poll block their OS thread in ppoll(2) on the descriptor, instead of
	// parking the goroutine on the Go runtime's network poller, and the
	// descriptor is not registered with that poller at all. A process that
	// waits on one Conn at a time between short pieces of work (a pool
	// worker between tasks) then wakes up with the kernel's wake-up alone:
	// no poller thread, no thread hand-offs, and no wake-up of a thread
	// that waits in the poller for other reasons (a timer) on every message
	// that arrives. Each waiting call holds an OS thread. Contexts,
	// deadlines and Close work as usual (an eventfd interrupts the wait).
	// It applies to pipes (reopened as a private description, as always),
	// to sockets whose description is blocking, and to the sockets of
	// NewConn (a duplicate of the descriptor, made blocking; nc is
	// closed); other descriptors use the poller. Default false: the runtime poller. Linux only: elsewhere
	// the flag is ignored and every Conn waits on the runtime poller.
	ThreadWait bool
}

// settings is a Config with its defaults resolved.
type settings struct {
	maxFrame int64
	enc      pickle.EncMode
	dec      pickle.DecMode
	// decOwned decodes a frame buffer that is not kept for reuse (see
	// Recv): defaultDecOwned with the default DecMode, else dec.
	decOwned   pickle.DecMode
	readAhead  int
	threadWait bool
}

func (cfg Config) settings() settings {
	s := settings{maxFrame: cfg.MaxFrame, enc: cfg.EncMode, dec: cfg.DecMode, readAhead: max(cfg.ReadAhead, 0),
		threadWait: cfg.ThreadWait && threadWaitSupported}
	switch {
	case s.maxFrame < 0:
		s.maxFrame = math.MaxInt64
	case s.maxFrame == 0:
		s.maxFrame = DefaultMaxFrame
	}
	if s.enc == nil {
		s.enc = defaultEnc
	}
	s.decOwned = s.dec
	if s.dec == nil {
		s.dec, s.decOwned = defaultDec, defaultDecOwned
	}
	return s
}

// Conn is one end of a multiprocessing connection: a stream of frames over a
// socket, a pipe or an inherited file descriptor, like Python's
// multiprocessing.connection.Connection.
//
// Goroutine safety: all methods may be called concurrently. Sends are
// serialized among themselves and receives among themselves, so one
// goroutine may send while another receives, and concurrent senders never
// interleave their frames. Poll and Wait take the receive side's lock.
// Close and the deadline setters may be called at any time; Close unblocks
// every blocked call.
type Conn struct {
	rmu sync.Mutex // receive side
	wmu sync.Mutex // send side

	f  *os.File // fd-backed conns
	nc net.Conn // NewConn
	// NewConn with ThreadWait (offPoller): nc's addresses, nc closed.
	laddr, raddr net.Addr
	rc           syscall.RawConn // nil when there is no fd
	sock         bool            // use recv/sendmsg with MSG_DONTWAIT (the description may be blocking)
	name         string

	readable atomic.Bool
	writable bool
	closed   atomic.Bool
	opts     settings

	dlMu     sync.Mutex
	readDL   time.Time // the deadlines the user set, restored after Poll and context calls
	writeDL  time.Time
	rBroken  error // receive side unusable (rmu)
	wBroken  error // send side unusable (wmu)
	closeErr error
	closeMu  sync.Once

	// The contexts of receives and sends (withCtx).
	rwatch, wwatch ctxWatch

	// ThreadWait (nopoll): the descriptor is not registered with the
	// runtime poller and every wait is waitFD; rdl and wdl are the user's
	// deadlines in Unix ns (0: none) for the waiting thread to read.
	nopoll       bool
	rside, wside sideWait
	rdl, wdl     atomic.Int64

	// Receive state, guarded by rmu. readFn is allocated once so the
	// raw-conn callback does not allocate per call.
	hdr    [largeHeaderLen]byte
	rp     []byte
	rn     int
	rerr   error
	readFn func(fd uintptr) bool
	rbuf   []byte // reused payload buffer for Recv
	// Read-ahead (Config.ReadAhead): ahead[aheadAt:aheadEnd] arrived
	// beyond the frames received so far.
	ahead             []byte
	aheadAt, aheadEnd int

	// SendRecvBytesInto: waitFirst means the descriptor can be waited on
	// before reading (the runtime poller, or ThreadWait's ppoll); xFn is
	// doExchange, xstate its progress (rmu and wmu held).
	waitFirst bool
	xFn       func(fd uintptr) bool
	xstate    int

	pollReady bool
	pollFn    func(fd uintptr) bool
	pollFds   [1]unix.PollFd

	// Send state, guarded by wmu.
	whdr    [12]byte
	wiov    [2]unix.Iovec
	wcnt    int
	wmsg    unix.Msghdr
	wdone   int
	werr    error
	writeFn func(fd uintptr) bool
	wbuf    []byte // reused frame buffer for Send
	wsmall  []byte // small frames are copied here and written at once
}

func newConn(o settings, readable, writable bool) *Conn {
	c := &Conn{opts: o, writable: writable}
	c.readable.Store(readable)
	c.readFn = c.doRead
	c.writeFn = c.doWrite
	c.pollFn = c.doPoll
	c.xFn = c.doExchange
	return c
}

// FromFD wraps an open file descriptor — a socket or pipe inherited from a
// Python parent, say — as a Conn, like Python's Connection(fd, readable,
// writable). The Conn owns fd and closes it on Close.
//
// The fd's open file description may be shared with Python processes, which
// need it in blocking mode, so FromFD never leaves a shared description
// non-blocking: a socket is read and written with MSG_DONTWAIT through the
// runtime poller; on Linux a pipe is reopened through /proc/self/fd as a
// private non-blocking description and installed under the same fd
// number. Both support deadlines and Close-unblocks-reads. Other kinds of
// files, and a blocking pipe that cannot be reopened (always on macOS), are
// used in blocking mode, where deadlines and contexts do not interrupt a
// read (SetDeadline returns an error).
// With Config.ThreadWait (Linux), pipes and blocking sockets stay off the
// runtime poller and wait in ppoll(2) instead (see ThreadWait).
func FromFD(fd int, readable, writable bool) (*Conn, error) {
	return Config{}.FromFD(fd, readable, writable)
}

// FromFD is the package-level FromFD with these settings.
func (cfg Config) FromFD(fd int, readable, writable bool) (*Conn, error) {
	return fromFD(cfg.settings(), fd, readable, writable)
}

func fromFD(o settings, fd int, readable, writable bool) (*Conn, error) {
	if !readable && !writable {
		return nil, badArg("at least one of readable or writable must be true")
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("connection: fd %d: %w", fd, err)
	}
	c := newConn(o, readable, writable)
	c.name = "fd " + strconv.Itoa(fd)
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, fmt.Errorf("connection: fd %d: %w", fd, err)
	}
	switch kind := st.Mode & unix.S_IFMT; {
	case c.opts.threadWait && (kind == unix.S_IFSOCK && flags&unix.O_NONBLOCK == 0 || kind == unix.S_IFIFO && reopenPrivate(fd, flags, false)):
		// ThreadWait: a blocking descriptor, so that os.NewFile does not
		// register it with the poller; then a pipe's private description
		// becomes non-blocking (sockets use MSG_DONTWAIT).
		c.sock = kind == unix.S_IFSOCK
		c.f = os.NewFile(uintptr(fd), c.name)
		if !c.sock {
			if err := unix.SetNonblock(fd, true); err != nil {
				c.f.Close()
				return nil, fmt.Errorf("connection: fd %d: %w", fd, err)
			}
		}
		c.nopoll = true
		c.waitFirst = c.sock
		c.readFn, c.writeFn = c.doReadWait, c.doWriteWait
	case kind == unix.S_IFSOCK:
		c.sock = true
		c.waitFirst = true // registered with the poller below
		if flags&unix.O_NONBLOCK == 0 {
			// Register with the poller (os.NewFile does so only for a
			// non-blocking fd), then give the description back its
			// blocking mode: all our I/O uses MSG_DONTWAIT.
			if err := unix.SetNonblock(fd, true); err != nil {
				return nil, fmt.Errorf("connection: fd %d: %w", fd, err)
			}
			c.f = os.NewFile(uintptr(fd), c.name)
			_ = unix.SetNonblock(fd, false)
		} else {
			c.f = os.NewFile(uintptr(fd), c.name)
		}
	case kind == unix.S_IFIFO:
		if flags&unix.O_NONBLOCK == 0 {
			reopenPrivate(fd, flags, true)
		}
		c.f = os.NewFile(uintptr(fd), c.name)
	default:
		c.f = os.NewFile(uintptr(fd), c.name)
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		c.f.Close()
		return nil, fmt.Errorf("connection: fd %d: %w", fd, err)
	}
	c.rc = rc
	return c, nil
}

// reopenPrivate replaces the pipe behind fd by a fresh open file
// description of the same pipe (opened through /proc/self/fd), so that
// other processes sharing the old description keep their blocking mode;
// nonblock chooses the new description's mode. It leaves fd untouched and
// reports false if that is impossible (always on macOS, which has no
// /proc/self/fd).
func reopenPrivate(fd, flags int, nonblock bool) bool {
	nfd, err := sysfd.ReopenPipe(fd, flags&unix.O_ACCMODE, nonblock)
	if err != nil {
		return false
	}
	if err := sysfd.Replace(nfd, fd); err != nil {
		unix.Close(nfd)
		return false
	}
	return true
}

// FromFile wraps f as a Conn (see FromFD). The Conn takes ownership: f is
// closed and must not be used afterwards (its descriptor is duplicated
// without changing f's blocking mode).
func FromFile(f *os.File, readable, writable bool) (*Conn, error) {
	return Config{}.FromFile(f, readable, writable)
}

// FromFile is the package-level FromFile with these settings.
func (cfg Config) FromFile(f *os.File, readable, writable bool) (*Conn, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("connection: %s: %w", f.Name(), err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("connection: %s: %w", f.Name(), err)
	}
	if derr != nil {
		return nil, fmt.Errorf("connection: dup %s: %w", f.Name(), derr)
	}
	c, err := cfg.FromFD(nfd, readable, writable)
	if err != nil {
		unix.Close(nfd)
		return nil, err
	}
	f.Close()
	return c, nil
}

// NewConn wraps a connected net.Conn (a *net.UnixConn or *net.TCPConn from
// the listener package, for example) as a duplex Conn. When nc has a file
// descriptor (syscall.Conn), frames are moved with direct syscalls through
// the runtime poller; otherwise through nc's Read and Write, and Poll, Wait,
// Fd and File report ErrNoFD. With Config.ThreadWait (Linux) a socket is
// taken off the runtime poller: the Conn keeps a duplicate of its
// descriptor, in blocking mode, and closes nc (LocalAddr and RemoteAddr
// still report nc's addresses).
func NewConn(nc net.Conn) *Conn { return Config{}.NewConn(nc) }

// NewConn is the package-level NewConn with these settings.
func (cfg Config) NewConn(nc net.Conn) *Conn {
	c := newConn(cfg.settings(), true, true)
	c.nc = nc
	c.name = "conn"
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.sock = true
			var isSock bool
			_ = rc.Control(func(fd uintptr) {
				var st unix.Stat_t
				isSock = unix.Fstat(int(fd), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
			})
			c.sock = isSock
		}
	}
	if c.opts.threadWait && c.sock {
		if tc := c.offPoller(); tc != nil {
			return tc
		}
	}
	c.waitFirst = c.sock // the net package's sockets are on the poller
	return c
}

// offPoller returns a ThreadWait Conn (see Config.ThreadWait) for the
// socket of c, a new Conn of NewConn, and closes c.nc; or nil, with c
// unchanged, if the descriptor cannot be duplicated.
func (c *Conn) offPoller() *Conn {
	nfd := -1
	if err := c.rc.Control(func(fd uintptr) {
		nfd, _ = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || nfd < 0 {
		return nil
	}
	// The description is shared with c.nc's descriptor, which is closed
	// below without further use: blocking mode keeps the new one off the
	// poller (FromFD), and our I/O on a socket uses MSG_DONTWAIT.
	if err := unix.SetNonblock(nfd, false); err != nil {
		unix.Close(nfd)
		return nil
	}
	tc, err := fromFD(c.opts, nfd, true, true)
	if err != nil || !tc.nopoll {
		_ = unix.SetNonblock(nfd, true)
		if tc != nil {
			tc.Close()
		} else {
			unix.Close(nfd)
		}
		return nil
	}
	tc.laddr, tc.raddr = c.nc.LocalAddr(), c.nc.RemoteAddr()
	tc.name = c.name
	_ = c.nc.Close() // removes its descriptor from the poller; the socket stays open in nfd
	return tc
}

// Pipe returns a pair of connected Conns, like Python's
// multiprocessing.Pipe(duplex). With duplex both ends can send and receive
// (a socketpair); otherwise it is an OS pipe and, as in Python, the first
// Conn is receive-only and the second send-only.
func Pipe(duplex bool) (*Conn, *Conn, error) { return Config{}.Pipe(duplex) }

// Pipe is the package-level Pipe with these settings (both ends get them).
func (cfg Config) Pipe(duplex bool) (*Conn, *Conn, error) {
	if duplex {
		fds, err := sysfd.Socketpair()
		if err != nil {
			return nil, nil, fmt.Errorf("connection: socketpair: %w", err)
		}
		a, err := cfg.FromFD(fds[0], true, true)
		if err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return nil, nil, err
		}
		b, err := cfg.FromFD(fds[1], true, true)
		if err != nil {
			a.Close()
			unix.Close(fds[1])
			return nil, nil, err
		}
		return a, b, nil
	}
	var p [2]int
	var err error
	if p[0], p[1], err = sysfd.Pipe(true); err != nil {
		return nil, nil, fmt.Errorf("connection: pipe: %w", err)
	}
	r, err := cfg.FromFD(p[0], true, false)
	if err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, err
	}
	w, err := cfg.FromFD(p[1], false, true)
	if err != nil {
		r.Close()
		unix.Close(p[1])
		return nil, nil, err
	}
	return r, w, nil
}

// LocalAddr returns the local network address of a Conn made by NewConn,
// nil otherwise.
func (c *Conn) LocalAddr() net.Addr {
	if c.nc == nil {
		return c.laddr
	}
	return c.nc.LocalAddr()
}

// RemoteAddr returns the peer's network address of a Conn made by NewConn
// (Python's Listener.last_accepted), nil otherwise.
func (c *Conn) RemoteAddr() net.Addr {
	if c.nc == nil {
		return c.raddr
	}
	return c.nc.RemoteAddr()
}

// Readable reports whether the Conn can receive (Python's readable).
func (c *Conn) Readable() bool { return c.readable.Load() }

// Writable reports whether the Conn can send (Python's writable).
func (c *Conn) Writable() bool { return c.writable }

// Closed reports whether Close has been called (Python's closed).
func (c *Conn) Closed() bool { return c.closed.Load() }

// Close closes the connection. It is idempotent and unblocks every call
// blocked in Send, Recv, Poll or Wait, which then return ErrClosed.
func (c *Conn) Close() error {
	c.closeMu.Do(func() {
		c.closed.Store(true)
		for _, w := range [2]*ctxWatch{&c.rwatch, &c.wwatch} {
			w.mu.Lock()
			w.release() // w.done stays: only the side's operations touch it
			w.mu.Unlock()
		}
		if c.nopoll {
			c.rside.shutdown()
			c.wside.shutdown()
		}
		if c.f != nil {
			c.closeErr = c.f.Close()
		} else {
			c.closeErr = c.nc.Close()
		}
	})
	return c.closeErr
}

// Fd returns the file descriptor number (Python's fileno()), or -1 after
// Close or for a Conn without a descriptor (see NewConn). The Conn still
// owns the descriptor. Fd does not change its blocking mode.
func (c *Conn) Fd() int {
	if c.closed.Load() || c.rc == nil {
		return -1
	}
	fd := -1
	if err := c.rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1
	}
	return fd
}

// File returns a new *os.File for the connection's descriptor, in blocking
// mode, ready to hand to a Python process (exec.Cmd.ExtraFiles, pass_fds)
// which will use it as a multiprocessing Connection. The Conn keeps working
// and closing either does not affect the other. For a socket the new file
// shares the Conn's open file description, which File puts in blocking
// mode if it was not (the Conn drives sockets with MSG_DONTWAIT, so it is
// unaffected); for a pipe it is a fresh description of the same pipe.
func (c *Conn) File() (*os.File, error) {
	if c.closed.Load() {
		return nil, c.closedErr("file")
	}
	if c.rc == nil {
		return nil, fmt.Errorf("connection: %w", ErrNoFD)
	}
	nfd := -1
	var derr error
	err := c.rc.Control(func(u uintptr) {
		fd := int(u)
		flags, err := unix.FcntlInt(u, unix.F_GETFL, 0)
		if err != nil {
			derr = err
			return
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			// O_NONBLOCK so opening a write end never waits; cleared below.
			if n, err := sysfd.ReopenPipe(fd, flags&unix.O_ACCMODE, true); err == nil {
				if err := unix.SetNonblock(n, false); err != nil {
					unix.Close(n)
					derr = err
					return
				}
				nfd = n
				return
			}
		}
		nfd, derr = unix.FcntlInt(u, unix.F_DUPFD_CLOEXEC, 0)
		if derr == nil && flags&unix.O_NONBLOCK != 0 {
			// A non-blocking description would make Python's os.read fail
			// with BlockingIOError. The dup shares it, so this also makes
			// ours blocking: harmless for a socket, which we drive with
			// MSG_DONTWAIT (a net.Conn from the listener, say); for a pipe
			// that could not be reopened it is a last resort that costs
			// this Conn its deadlines.
			derr = unix.SetNonblock(nfd, false)
		}
	})
	if err != nil {
		return nil, c.ioErr("file", err)
	}
	if derr != nil {
		if nfd >= 0 {
			unix.Close(nfd)
		}
		return nil, fmt.Errorf("connection: file: %w", derr)
	}
	return os.NewFile(uintptr(nfd), c.name), nil
}

// SetDeadline sets the read and write deadlines (zero means none). A call
// blocked past its deadline fails with an error for which
// errors.Is(err, os.ErrDeadlineExceeded) holds and that is a net.Error
// with Timeout() true. A deadline that expires before a frame's first byte
// leaves the connection usable; one that expires in the middle of a frame
// breaks that direction (ErrBroken).
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for Recv*, Poll and Wait.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.readDL = t
	return c.setReadDL(t)
}

// SetWriteDeadline sets the deadline for Send*.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.writeDL = t
	return c.setWriteDL(t)
}

func (c *Conn) setReadDL(t time.Time) error {
	if c.nopoll {
		c.rdl.Store(unixNano(t))
		c.rside.wake()
		return nil
	}
	if c.f != nil {
		return c.f.SetReadDeadline(t)
	}
	return c.nc.SetReadDeadline(t)
}

func (c *Conn) setWriteDL(t time.Time) error {
	if c.nopoll {
		c.wdl.Store(unixNano(t))
		c.wside.wake()
		return nil
	}
	if c.f != nil {
		return c.f.SetWriteDeadline(t)
	}
	return c.nc.SetWriteDeadline(t)
}

// withCtx runs op under ctx: when ctx is done the side's deadline is moved
// to the past (unblocking op) and the user's deadline is restored after.
func (c *Conn) withCtx(ctx context.Context, write bool, op func() error) error {
	if ctx == nil || ctx.Done() == nil {
		return op()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.nopoll {
		return c.withCtxNopoll(ctx, write, op)
	}
	w := &c.rwatch
	if write {
		w = &c.wwatch
	}
	if w.done != ctx.Done() && !c.watch(w, ctx, write) {
		return c.closedErr("context")
	}
	w.active.Store(true)
	var err error
	if err = ctx.Err(); err == nil {
		err = op()
	}
	w.active.Store(false)
	if ctx.Err() == nil {
		// Keep watching ctx for the side's next operation only if it was
		// the last one's too: a context per call (WithTimeout) is
		// released now, before its cancel would run the callback.
		if !w.keep {
			w.unwatch()
		}
		return err
	}
	w.unwatch() // the callback has run, or never will
	c.dlMu.Lock()
	moved := w.moved
	if moved {
		w.moved = false
		if write {
			_ = c.setWriteDL(c.writeDL)
		} else {
			_ = c.setReadDL(c.readDL)
		}
	}
	c.dlMu.Unlock()
	if moved && err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// ctxWatch watches the end of the context of one side's operations
// (withCtx): when it ends during an operation the side's deadline moves to
// the past, which unblocks the operation. A context.AfterFunc per
// operation cost two allocations and a lock of the parent context, which
// all the goroutines using it share (a manager client's callers); a Conn
// used with the same context over and over registers once. Contexts are
// told apart by their Done channels (a context need not be comparable;
// two with one Done end together). done, last and keep are used under the side's lock (rmu, wmu); stop and fired under mu,
// which Close takes too; moved under dlMu.
type ctxWatch struct {
	done   <-chan struct{} // Done of the context registered (nil: none)
	last   <-chan struct{} // Done of the last operation's context
	keep   bool            // the registration stays after an operation
	active atomic.Bool     // an operation of the side runs
	moved  bool            // the callback moved the side's deadline

	mu    sync.Mutex
	stop  func() bool   // nil: not registered
	fired chan struct{} // closed when the callback has run
}

// release ends the registration (w.mu held): afterwards its callback has
// run to the end or will never run.
func (w *ctxWatch) release() {
	if w.stop != nil && !w.stop() {
		<-w.fired
	}
	w.stop = nil
}

// unwatch releases the registration (the side's lock held).
func (w *ctxWatch) unwatch() {
	w.mu.Lock()
	w.release()
	w.mu.Unlock()
	w.done = nil
}

// watch registers ctx as the side's context (the side's lock held); false
// if the Conn is closed.
func (c *Conn) watch(w *ctxWatch, ctx context.Context, write bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.release()
	w.done = nil
	if c.closed.Load() {
		return false
	}
	fired := make(chan struct{})
	done := ctx.Done()
	w.done, w.keep, w.last, w.fired = done, w.last == done, done, fired
	w.stop = context.AfterFunc(ctx, func() {
		defer close(fired)
		c.dlMu.Lock()
		defer c.dlMu.Unlock()
		if !w.active.Load() {
			return
		}
		w.moved = true
		past := time.Unix(1, 0)
		if write {
			_ = c.setWriteDL(past)
		} else {
			_ = c.setReadDL(past)
		}
	})
	return true
}

func (c *Conn) closedErr(op string) error {
	return fmt.Errorf("connection: %s: %w", op, ErrClosed)
}

// ioErr normalises an I/O error: after Close every error becomes ErrClosed.
func (c *Conn) ioErr(op string, err error) error {
	if c.closed.Load() || errors.Is(err, os.ErrClosed) {
		return c.closedErr(op)
	}
	return fmt.Errorf("connection: %s: %w", op, err)
}

var _ io.Closer = (*Conn)(nil)
