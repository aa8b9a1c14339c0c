package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/rewrap"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// DefaultMaxIdleConns is the number of idle per-call connections a Client
// keeps when Config.MaxIdleConns is 0.
const DefaultMaxIdleConns = 8

// Config holds the settings of a Client, in the style of net.Dialer: Dial,
// Rebuild and FromChild use the defaults, and the methods of the same names
// take the settings. The zero value is usable. A Client copies its Config.
type Config struct {
	// Dialer holds the settings of every connection to the server: the
	// authkey (nil: no authentication; Dial's authkey argument sets it),
	// handshake scheme and timeout, and the connection.Config whose
	// MaxFrame bounds one reply (64 MiB by default), whose DecMode
	// decodes replies (pickle's defaults and limits if nil) and whose
	// ReadAhead is 4 KiB if 0 (negative: none).
	Dialer listener.Config
	// MaxIdleConns bounds the pool of idle per-call connections:
	// DefaultMaxIdleConns if 0, no bound if negative.
	MaxIdleConns int
	// Name is what the server records as the connection's thread name
	// (Python: the process name plus "|thread"); default "GoClient-<pid>".
	Name string
	// ThreadWaitConns: while the pool holds at most this many per-call
	// connections (idle or in use: one per caller that calls at the same
	// time), a new one waits for its replies in ppoll(2) on the calling
	// goroutine's own OS thread (connection.Config.ThreadWait), woken by
	// the kernel alone, instead of parking on the Go runtime's network
	// poller and being woken through the scheduler: less CPU per call for
	// a lone caller. Once the pool holds more, new connections use the
	// poller and such a connection moves to the poller when its call
	// ends: with many callers, threads blocked in ppoll cost more CPU per
	// call than the poller. DefaultThreadWaitConns if 0; never if
	// negative. Linux only: elsewhere every connection uses the poller.
	// Dialer.Conn.ThreadWait true puts every connection in ThreadWait.
	// See docs/benchmarks.md, "Manager clients".
	ThreadWaitConns int
}

// DefaultThreadWaitConns is Config.ThreadWaitConns's default: one caller.
const DefaultThreadWaitConns = 1

// Client is a connection to a manager server (Python's BaseManager after
// connect(), or a Go Server). It is safe for concurrent use.
//
// Connections: control requests (create, incref, decref, shutdown,
// number_of_objects, debug_info, get_methods) each use a new connection,
// as in Python. Method calls on proxies use a pool of connections that the
// server serves with accept_connection, one call at a time per connection:
// each call takes an idle connection (or dials a new one), so concurrent
// calls — including blocking ones such as Queue.Get or Lock.Acquire — run in
// parallel on the server, each in its own server thread, like calls from
// different Python threads. Idle connections beyond MaxIdleConns are closed.
// A call whose context ends while it waits for the reply closes its
// connection (the server may still complete the call). Owner-sensitive
// objects (RLock, Condition) use a dedicated connection per proxy instead;
// see Proxy.
type Client struct {
	network, address string
	pyAddr           any
	cfg              listener.Config
	maxIdle          int // < 0: no bound
	name             string
	twMax            int // Config.ThreadWaitConns resolved (0: never)

	mu     sync.Mutex
	idle   []*connection.Conn
	open   int                       // per-call connections, idle or in use
	tw     map[*connection.Conn]bool // those of them in ThreadWait (twMax)
	closed bool
}

// Dial connects to the manager server at address ("tcp" host:port, "unix"
// path or "@abstract") with authkey (nil: no authentication) and checks it
// answers, like Python's BaseManager(address, authkey).connect(). ctx
// bounds the connect, the handshake and the check.
func Dial(ctx context.Context, network, address string, authkey []byte) (*Client, error) {
	return Config{Dialer: listener.Config{Authkey: authkey}}.Dial(ctx, network, address)
}

// Dial is the package-level Dial with these settings; the authkey is
// Dialer.Authkey.
func (cfg Config) Dial(ctx context.Context, network, address string) (*Client, error) {
	c, err := cfg.newClient(network, address, cfg.Dialer.Authkey)
	if err != nil {
		return nil, err
	}
	if _, err := c.dispatch(ctx, "dummy", nil, nil); err != nil {
		return nil, err
	}
	return c, nil
}

func (cfg Config) newClient(network, address string, authkey []byte) (*Client, error) {
	pa, err := PyAddr(network, address)
	if err != nil {
		return nil, err
	}
	lc := cfg.Dialer
	lc.Authkey = authkey
	if lc.Conn.ReadAhead == 0 {
		lc.Conn.ReadAhead = wire.ReadAhead
	}
	c := &Client{network: network, address: address, pyAddr: pa, cfg: lc, maxIdle: cfg.MaxIdleConns, name: cfg.Name}
	if c.maxIdle == 0 {
		c.maxIdle = DefaultMaxIdleConns
	}
	if c.name == "" {
		c.name = "GoClient-" + strconv.Itoa(os.Getpid())
	}
	switch c.twMax = cfg.ThreadWaitConns; {
	case c.twMax < 0, runtime.GOOS != "linux", lc.Conn.ThreadWait: // where ThreadWait works, and not everywhere already
		c.twMax = 0
	case c.twMax == 0:
		c.twMax = DefaultThreadWaitConns
	}
	return c, nil
}

// closeContext bounds the requests a Close sends (decref) by the
// handshake timeout: Close takes no context.
func (c *Client) closeContext() (context.Context, context.CancelFunc) {
	d := c.cfg.HandshakeTimeout
	switch {
	case d == 0:
		d = listener.DefaultHandshakeTimeout
	case d < 0:
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), d)
}

// Address returns the server address as Python writes it in Tokens.
func (c *Client) Address() any { return c.pyAddr }

// dial opens an authenticated connection to the server. A unix socket
// whose accept backlog is full refuses a connect with EAGAIN at once (Go
// dials non-blocking; Python's blocking connect waits instead, and its
// manager's backlog is 16 before 3.13): the dial is retried, with a short
// growing pause, until ctx ends.
func (c *Client) dial(ctx context.Context) (*connection.Conn, error) {
	return c.dialCfg(ctx, &c.cfg)
}

func (c *Client) dialCfg(ctx context.Context, cfg *listener.Config) (*connection.Conn, error) {
	pause := time.Millisecond
	for {
		conn, err := cfg.Dial(ctx, c.network, c.address)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EAGAIN) || ctx.Err() != nil {
			return nil, fmt.Errorf("manager: connecting to %s %s: %w", c.network, c.address, err)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("manager: connecting to %s %s: %w (%w)", c.network, c.address, ctx.Err(), err)
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// replyBufs are receive buffers for replies, shared by the Client's calls.
var replyBufs = sync.Pool{New: func() any { return new([]byte) }}

// roundTrip sends one request and reads one reply.
func (c *Client) roundTrip(ctx context.Context, conn *connection.Conn, req pickle.Tuple) (string, any, error) {
	buf := replyBufs.Get().(*[]byte)
	v, sent, err := wire.RoundTripBuf(ctx, conn, req, c.cfg.Conn.DecMode, buf)
	replyBufs.Put(buf)
	switch {
	case err != nil && !sent:
		return "", nil, fmt.Errorf("manager: sending %v: %w", req[1], err)
	case err != nil:
		return "", nil, fmt.Errorf("manager: reply to %v: %w", req[1], err)
	}
	return wire.Reply(v)
}

// dispatch runs a control request on a new connection (Python's
// dispatch(Client(address), None, method, args, kwds)).
func (c *Client) dispatch(ctx context.Context, method string, args []any, kwargs map[string]any) (any, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	kind, payload, err := c.roundTrip(ctx, conn, wire.Request(nil, method, args, kwargs))
	if err != nil {
		return nil, err
	}
	if kind == wire.KindReturn {
		return payload, nil
	}
	return nil, fmt.Errorf("manager: %s: %w", method, replyError(kind, payload))
}

// getConn returns an idle per-thread connection or opens a new one.
func (c *Client) getConn(ctx context.Context) (*connection.Conn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(c.idle); n > 0 {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return conn, nil
	}
	c.open++
	tw := c.open <= c.twMax
	c.mu.Unlock()
	cfg := &c.cfg
	if tw {
		twc := c.cfg
		twc.Conn.ThreadWait = true
		cfg = &twc
	}
	conn, err := c.openServingCfg(ctx, cfg)
	c.mu.Lock()
	switch {
	case err != nil:
		c.open--
	case tw:
		if c.tw == nil {
			c.tw = make(map[*connection.Conn]bool)
		}
		c.tw[conn] = true
	}
	c.mu.Unlock()
	return conn, err
}

// openServing dials and turns the connection into a served one
// (accept_connection).
func (c *Client) openServing(ctx context.Context) (*connection.Conn, error) {
	return c.openServingCfg(ctx, &c.cfg)
}

func (c *Client) openServingCfg(ctx context.Context, cfg *listener.Config) (*connection.Conn, error) {
	conn, err := c.dialCfg(ctx, cfg)
	if err != nil {
		return nil, err
	}
	kind, payload, err := c.roundTrip(ctx, conn, wire.Request(nil, "accept_connection", []any{c.name}, nil))
	if err == nil && kind != wire.KindReturn {
		err = fmt.Errorf("manager: accept_connection: %w", replyError(kind, payload))
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// putConn returns a per-call connection to the pool after a call.
func (c *Client) putConn(conn *connection.Conn) {
	c.mu.Lock()
	if len(c.tw) > 0 && c.tw[conn] && c.open > c.twMax && !c.closed {
		delete(c.tw, conn)
		c.mu.Unlock()
		nc := c.toPoller(conn)
		c.mu.Lock()
		if nc == nil {
			c.open--
			c.mu.Unlock()
			return
		}
		conn = nc
	}
	if !c.closed && (c.maxIdle < 0 || len(c.idle) < c.maxIdle) {
		c.idle = append(c.idle, conn)
		conn = nil
	}
	c.mu.Unlock()
	if conn != nil {
		c.dropConn(conn)
	}
}

// dropConn closes a per-call connection that leaves the pool.
func (c *Client) dropConn(conn *connection.Conn) {
	c.mu.Lock()
	c.open--
	delete(c.tw, conn)
	c.mu.Unlock()
	conn.Close()
}

// toPoller returns a Conn on the runtime poller for the socket of conn, a
// ThreadWait connection between calls, and closes conn; nil (conn
// closed) if that fails or if something arrived unasked.
func (c *Client) toPoller(conn *connection.Conn) *connection.Conn {
	defer conn.Close()
	cfg := c.cfg.Conn
	cfg.ThreadWait = false
	return rewrap.Conn(conn, cfg)
}

// callOn runs one method call on a served connection. An I/O error
// (including a context ending mid-call) leaves the connection unusable;
// the caller closes it when broken is true.
func (c *Client) callOn(ctx context.Context, conn *connection.Conn, ident, method string, args []any, kwargs map[string]any) (kind string, payload any, broken bool, err error) {
	kind, payload, err = c.roundTrip(ctx, conn, wire.Request(ident, method, args, kwargs))
	if err != nil {
		return "", nil, true, err
	}
	return kind, payload, false, nil
}

// Create asks the server to create a shared object of a registered typeid
// with args and kwargs (Python: manager.<typeid>(*args, **kwargs)) and
// returns a proxy for it. The proxy holds one reference, released by
// Close. Typed constructors (Dict, List, Queue, ...) wrap Create.
func (c *Client) Create(ctx context.Context, typeid string, args []any, kwargs map[string]any) (*Proxy, error) {
	res, err := c.dispatch(ctx, "create", append([]any{typeid}, args...), kwargs)
	if err != nil {
		return nil, err
	}
	t, ok := res.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return nil, fmt.Errorf("manager: %w: create returned %T", ErrProtocol, res)
	}
	id, ok := t[0].(string)
	if !ok {
		return nil, fmt.Errorf("manager: %w: create returned ident %T", ErrProtocol, t[0])
	}
	// The server's create() took one reference for us (Python's proxy
	// constructor increfs and the creator then decrefs: the same net count
	// with two fewer round trips).
	return c.newProxy(Token{TypeID: typeid, Address: c.pyAddr, ID: id}, stringsOf(t[1]), true), nil
}

// NumberOfObjects returns how many shared objects the server holds
// (Python's manager._number_of_objects()).
func (c *Client) NumberOfObjects(ctx context.Context) (int, error) {
	v, err := c.dispatch(ctx, "number_of_objects", nil, nil)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("manager: %w: number_of_objects returned %T", ErrProtocol, v)
	}
	return int(n), nil
}

// DebugInfo returns the server's description of its objects and refcounts
// (Python's manager._debug_info()).
func (c *Client) DebugInfo(ctx context.Context) (string, error) {
	v, err := c.dispatch(ctx, "debug_info", nil, nil)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("manager: %w: debug_info returned %T", ErrProtocol, v)
	}
	return s, nil
}

// GetMethods returns the methods the server exposes for the object of tok
// (the get_methods request AutoProxy uses).
func (c *Client) GetMethods(ctx context.Context, tok Token) ([]string, error) {
	v, err := c.dispatch(ctx, "get_methods", []any{tok.pickled()}, nil)
	if err != nil {
		return nil, err
	}
	return stringsOf(v), nil
}

// Shutdown asks the server to stop (Python's manager.shutdown() for a
// manager started elsewhere) and closes the client.
func (c *Client) Shutdown(ctx context.Context) error {
	_, err := c.dispatch(ctx, "shutdown", nil, nil)
	c.Close()
	return err
}

// Close closes the pooled connections; later calls through the client
// fail with ErrClosed (proxies can still be closed, which sends decref).
// It is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.closed = true
	c.mu.Unlock()
	for _, conn := range idle {
		conn.Close()
	}
	return nil
}

func stringsOf(v any) []string {
	var items []any
	switch x := v.(type) {
	case pickle.Tuple:
		items = x
	case []any:
		items = x
	}
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		if s, ok := it.(string); ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
