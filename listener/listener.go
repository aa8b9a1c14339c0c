package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/sysfd"
)

// Config holds the settings of a Listener or a dialer, in the style of
// net.ListenConfig and net.Dialer: Listen and Dial use the defaults, and the
// methods of the same names take the settings. The zero value is usable: no
// authentication (nil Authkey), DefaultScheme, DefaultBacklog,
// DefaultHandshakeTimeout, DefaultMaxHandshakes, connection defaults. A
// Listener copies its Config.
type Config struct {
	// Authkey is the shared secret. nil means no authentication at all, as
	// Python's authkey=None. A non-nil empty key is a real (weak) key, as in
	// Python 3.13; note that a Python ≤3.12 Listener treats b'' as "no
	// authentication", so a Go client with an empty key would then fail
	// its handshake by timeout.
	Authkey []byte
	// Scheme is the challenge this side sends (DefaultScheme if empty).
	Scheme Scheme
	// Backlog is listen(2)'s backlog (DefaultBacklog if <= 0; Python's
	// Listener uses 1, its managers 16, 128 from 3.13).
	Backlog int
	// HandshakeTimeout bounds each connection's authentication (both
	// halves), for accepted and dialed connections:
	// DefaultHandshakeTimeout if 0, no limit if negative (Python has none;
	// a dial is still bounded by its context).
	HandshakeTimeout time.Duration
	// MaxHandshakes caps how many accepted connections may be
	// authenticating (or, authenticated, waiting for Accept) at once:
	// DefaultMaxHandshakes if 0, no cap if negative. A connection arriving
	// at the cap waits (in the kernel's backlog, Accept paused) for a free
	// slot. If a handshake has then been in progress for longer than an
	// honest one takes (EvictAfter: one second, or HandshakeTimeout if
	// that is shorter), the oldest such handshake from the peer address
	// with the most of them is dropped (ErrTooManyHandshakes) to make
	// room, so clients that connect and stall cannot lock others out until
	// HandshakeTimeout, while a burst of honest clients (many processes
	// starting at once) all get through. When the cap is all
	// authenticated connections that nobody Accepts, new ones wait.
	MaxHandshakes int
	// Conn holds the settings of every Conn made (frame limit, pickle
	// modes).
	Conn connection.Config
	// OnHandshakeError, if set, is called (from the handshake's goroutine)
	// with each accepted connection that failed to authenticate or was
	// dropped at MaxHandshakes; such connections are closed and never
	// returned by Accept. Logger records the same events.
	OnHandshakeError func(remote net.Addr, err error)
	// Logger, if set, receives the listener's events: rejected and dropped
	// handshakes (Warn, with the peer address and the error), accept
	// failures (Warn when retried, Error when Accept stops). nil logs
	// nothing.
	Logger *slog.Logger
}

// ErrTooManyHandshakes is the error of a handshake dropped because
// MaxHandshakes connections were already authenticating when another
// client connected.
var ErrTooManyHandshakes = errors.New("listener: handshake dropped: too many pending handshakes (Config.MaxHandshakes)")

// Defaults for Config's zero fields.
const (
	DefaultBacklog          = 128
	DefaultHandshakeTimeout = 20 * time.Second
	DefaultMaxHandshakes    = 64
)

func (cfg Config) withDefaults() Config {
	if cfg.Scheme == "" {
		cfg.Scheme = DefaultScheme
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxHandshakes == 0 {
		cfg.MaxHandshakes = DefaultMaxHandshakes
	}
	return cfg
}

// handshakeContext bounds one handshake by HandshakeTimeout (none if it is
// negative).
func (cfg Config) handshakeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if cfg.HandshakeTimeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, cfg.HandshakeTimeout)
}

// Listener accepts authenticated multiprocessing connections, like Python's
// multiprocessing.connection.Listener. Handshakes run concurrently in the
// background with a timeout, so a client that connects and stalls never
// holds up others; Accept returns only connections that passed
// authentication. All methods are safe for concurrent use.
type Listener struct {
	cfg    Config
	ln     net.Listener
	path   string // socket file to remove on Close
	tmpDir string // directory Listen made for an automatic unix address
	conns  chan *connection.Conn
	done   chan struct{}
	dead   chan struct{} // closed when the accept loop stops on an error
	errAcc error
	once   sync.Once
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending map[*connection.Conn]*pendingHandshake
	seq     uint64
	// slots caps handshakes plus authenticated connections waiting for
	// Accept (MaxHandshakes); nil means no cap.
	slots chan struct{}
}

// pendingHandshake is a connection still authenticating.
type pendingHandshake struct {
	peer    string    // the remote host (no port); "" for unix sockets
	seq     uint64    // arrival order
	start   time.Time // when the handshake began
	dropped bool      // closed by evictLocked
}

// EvictAfter is how long a handshake must have been in progress before a
// connection arriving at Config.MaxHandshakes may drop it (or
// HandshakeTimeout, if shorter): far longer than an honest client's two
// round trips take, even on a loaded machine.
const EvictAfter = time.Second

// Listen listens on network ("tcp", "tcp4", "tcp6" or "unix") at address
// ("host:port"; a socket path; "@name" or "\x00name" for a Linux abstract
// socket) and authenticates clients with authkey (nil: no authentication),
// as Python's Listener(address, family, authkey=authkey).
func Listen(network, address string, authkey []byte) (*Listener, error) {
	return Config{Authkey: authkey}.Listen(network, address)
}

// Listen is the package-level Listen with these settings.
//
// An empty address picks one, as Python's Listener(address=None) does:
// 127.0.0.1 with a free port for tcp, a socket in a fresh private
// directory for unix (the directory is removed on Close).
func (cfg Config) Listen(network, address string) (*Listener, error) {
	cfg = cfg.withDefaults()
	var tmpDir string
	if address == "" {
		switch network {
		case "tcp", "tcp4":
			address = "127.0.0.1:0"
		case "tcp6":
			address = "[::1]:0"
		case "unix":
			d, err := os.MkdirTemp("", "pymp-")
			if err != nil {
				return nil, fmt.Errorf("listener: %w", err)
			}
			tmpDir, address = d, filepath.Join(d, "listener")
		}
	}
	ln, path, err := listen(network, address, cfg.Backlog)
	if err != nil {
		if tmpDir != "" {
			os.RemoveAll(tmpDir)
		}
		return nil, err
	}
	l := &Listener{
		cfg: cfg, ln: ln, path: path, tmpDir: tmpDir,
		conns:   make(chan *connection.Conn),
		done:    make(chan struct{}),
		dead:    make(chan struct{}),
		pending: map[*connection.Conn]*pendingHandshake{},
	}
	if cfg.MaxHandshakes > 0 {
		l.slots = make(chan struct{}, cfg.MaxHandshakes)
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// normalizeUnix turns Python's "\x00name" abstract form into Go's "@name".
func normalizeUnix(address string) string {
	if strings.HasPrefix(address, "\x00") {
		return "@" + address[1:]
	}
	return address
}

// listen creates the socket with SO_REUSEADDR (as Python does) and the
// requested backlog, which net.Listen does not expose.
func listen(network, address string, backlog int) (net.Listener, string, error) {
	var (
		family int
		sa     unix.Sockaddr
		path   string
	)
	switch network {
	case "unix":
		address = normalizeUnix(address)
		if address == "" {
			return nil, "", errors.New("listener: empty unix address")
		}
		family, sa = unix.AF_UNIX, &unix.SockaddrUnix{Name: address}
		if address[0] != '@' {
			path = address
		}
	case "tcp", "tcp4", "tcp6":
		a, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return nil, "", fmt.Errorf("listener: %w", err)
		}
		ip4 := a.IP.To4()
		switch {
		case network == "tcp4" || (ip4 != nil && network != "tcp6"):
			s := &unix.SockaddrInet4{Port: a.Port}
			if ip4 != nil {
				copy(s.Addr[:], ip4)
			}
			family, sa = unix.AF_INET, s
		case a.IP == nil && network == "tcp":
			family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: a.Port} // dual stack
		default:
			s := &unix.SockaddrInet6{Port: a.Port}
			copy(s.Addr[:], a.IP.To16())
			if a.Zone != "" {
				if ifi, err := net.InterfaceByName(a.Zone); err == nil {
					s.ZoneId = uint32(ifi.Index)
				}
			}
			family, sa = unix.AF_INET6, s
		}
	default:
		return nil, "", fmt.Errorf("listener: unsupported network %q (want tcp, tcp4, tcp6 or unix)", network)
	}
	fd, err := sysfd.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, "", fmt.Errorf("listener: socket: %w", err)
	}
	fail := func(op string, err error) (net.Listener, string, error) {
		unix.Close(fd)
		return nil, "", &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError(op, err)}
	}
	if family != unix.AF_UNIX {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail("setsockopt", err)
		}
	}
	if family == unix.AF_INET6 && network == "tcp" {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		if path != "" {
			os.Remove(path)
		}
		return fail("listen", err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		if path != "" {
			os.Remove(path)
		}
		return nil, "", fmt.Errorf("listener: %w", err)
	}
	return ln, path, nil
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
				errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				l.log(slog.LevelWarn, "listener: accept failed; retrying", slog.Any("err", err), slog.Duration("backoff", backoff))
				select {
				case <-time.After(backoff):
				case <-l.done:
					return
				}
				continue
			}
			l.log(slog.LevelError, "listener: accept failed; no more connections will be accepted", slog.Any("err", err))
			l.errAcc = err
			close(l.dead)
			return
		}
		backoff = 0
		if !l.takeSlot() {
			nc.Close()
			return
		}
		c := l.cfg.Conn.NewConn(nc)
		remote := nc.RemoteAddr()
		l.mu.Lock()
		l.seq++
		l.pending[c] = &pendingHandshake{peer: peerHost(remote), seq: l.seq, start: time.Now()}
		l.mu.Unlock()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.releaseSlot()
			l.handshake(c, remote)
		}()
	}
}

// takeSlot waits for room under MaxHandshakes for a connection just
// accepted. At the cap it waits for a handshake to end, dropping one that
// has been in progress for longer than evictAfter (evictLocked), so that
// a flood of silent clients delays a new client by about evictAfter
// rather than by HandshakeTimeout, and honest clients arriving together
// wait for each other instead of being dropped. It reports false when the
// listener is closing.
func (l *Listener) takeSlot() bool {
	if l.slots == nil {
		return true
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return true
		default:
		}
		l.mu.Lock()
		wait := l.evictLocked(time.Now())
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case l.slots <- struct{}{}:
			t.Stop()
			return true
		case <-l.done:
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

func (l *Listener) releaseSlot() {
	if l.slots != nil {
		<-l.slots
	}
}

// evictAfter is EvictAfter, or HandshakeTimeout if that is shorter.
func (l *Listener) evictAfter() time.Duration {
	if t := l.cfg.HandshakeTimeout; t > 0 && t < EvictAfter {
		return t
	}
	return EvictAfter
}

// evictLocked closes, among the handshakes in progress for longer than
// evictAfter, the oldest of the peer with the most: a flooding peer loses
// its own connections first, and among equals (every client on one host,
// or unix sockets) the oldest goes. Closing the Conn ends its handshake
// goroutine, which frees the slot. It returns how long to wait before
// looking again: until the oldest younger handshake reaches evictAfter,
// or evictAfter when nothing is in progress (the slots are authenticated
// connections waiting for Accept) or something was just dropped (its slot
// frees when its goroutine ends).
func (l *Listener) evictLocked(now time.Time) time.Duration {
	age := l.evictAfter()
	count := map[string]int{}
	for _, p := range l.pending {
		if !p.dropped && now.Sub(p.start) >= age {
			count[p.peer]++
		}
	}
	wait := age
	var victim *connection.Conn
	var vp *pendingHandshake
	for c, p := range l.pending {
		if p.dropped {
			continue
		}
		if d := age - now.Sub(p.start); d > 0 {
			wait = min(wait, d)
			continue
		}
		if vp == nil || count[p.peer] > count[vp.peer] || (count[p.peer] == count[vp.peer] && p.seq < vp.seq) {
			victim, vp = c, p
		}
	}
	if victim != nil {
		vp.dropped = true
		victim.Close()
		return age
	}
	return wait
}

// peerHost is the part of a remote address that identifies a client host:
// the IP of a TCP peer, "" for unix sockets (whose peers have no address).
func peerHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	return ""
}

func (l *Listener) handshake(c *connection.Conn, remote net.Addr) {
	var err error
	if l.cfg.Authkey != nil {
		// Python's accept order: challenge the client, then answer its
		// challenge. Closing the listener closes pending conns, which
		// unblocks this.
		ctx, cancel := l.cfg.handshakeContext(context.Background())
		if err = DeliverChallenge(ctx, c, l.cfg.Authkey, l.cfg.Scheme); err == nil {
			err = AnswerChallenge(ctx, c, l.cfg.Authkey)
		}
		cancel()
	}
	l.mu.Lock()
	if p := l.pending[c]; p != nil && p.dropped {
		err = ErrTooManyHandshakes
	}
	delete(l.pending, c)
	l.mu.Unlock()
	if err != nil {
		c.Close()
		select {
		case <-l.done:
			if errors.Is(err, ErrClosed) {
				return // Close ended it: not the client's doing
			}
		default:
		}
		l.log(slog.LevelWarn, "listener: handshake failed", slog.String("peer", addrString(remote)), slog.Any("err", err))
		if h := l.cfg.OnHandshakeError; h != nil {
			h(remote, err)
		}
		return
	}
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *Listener) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if lg := l.cfg.Logger; lg != nil {
		lg.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("listener", l.ln.Addr().String()))...)
	}
}

// addrString is a's text, "" for a nil or unnamed address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Accept waits for the next authenticated connection, or until ctx ends
// (an error matching ctx.Err()). After Close it returns an error wrapping
// ErrClosed (which matches net.ErrClosed).
func (l *Listener) Accept(ctx context.Context) (*connection.Conn, error) {
	select {
	case <-l.done:
		return nil, l.closedErr()
	default:
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.closedErr()
	case <-l.dead:
		return nil, &net.OpError{Op: "accept", Net: l.ln.Addr().Network(), Addr: l.ln.Addr(), Err: l.errAcc}
	case <-ctx.Done():
		return nil, fmt.Errorf("listener: accept: %w", ctx.Err())
	}
}

func (l *Listener) closedErr() error {
	return &net.OpError{Op: "accept", Net: l.ln.Addr().Network(), Addr: l.ln.Addr(), Err: ErrClosed}
}

// Addr returns the listening address (Python's Listener.address). For an
// abstract unix socket the name starts with '@'.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening, unblocks Accept (ErrClosed), closes
// connections still authenticating, waits for the background goroutines
// and removes the socket file it created. It is idempotent.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.ln.Close()
		l.mu.Lock()
		for c := range l.pending {
			c.Close()
		}
		l.mu.Unlock()
		l.wg.Wait()
		if l.path != "" {
			if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
				err = rerr
			}
		}
		if l.tmpDir != "" {
			os.RemoveAll(l.tmpDir)
		}
	})
	return err
}

// Dial connects to a Listener at address and authenticates with authkey
// (nil: no authentication), as Python's Client(address, authkey=authkey).
// ctx bounds the connect and the handshake.
func Dial(ctx context.Context, network, address string, authkey []byte) (*connection.Conn, error) {
	return Config{Authkey: authkey}.Dial(ctx, network, address)
}

// Dial connects and, with an Authkey, runs the client's halves of the
// handshake in Python's order: answer the server's challenge, then
// challenge the server. The handshake is bounded by ctx and by
// HandshakeTimeout.
func (cfg Config) Dial(ctx context.Context, network, address string) (*connection.Conn, error) {
	cfg = cfg.withDefaults()
	switch network {
	case "unix":
		address = normalizeUnix(address)
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("listener: unsupported network %q (want tcp, tcp4, tcp6 or unix)", network)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("listener: %w", err)
	}
	c := cfg.Conn.NewConn(nc)
	if cfg.Authkey == nil {
		return c, nil
	}
	hctx, cancel := cfg.handshakeContext(ctx)
	defer cancel()
	if err := AnswerChallenge(hctx, c, cfg.Authkey); err != nil {
		c.Close()
		return nil, err
	}
	if err := DeliverChallenge(hctx, c, cfg.Authkey, cfg.Scheme); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
