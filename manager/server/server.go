package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/rewrap"
	"github.com/mpwire/mpwire/internal/schedyield"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
)

// Factory creates a shared object for a create request of its typeid,
// from the arguments the client passed (Python: the registered callable).
// An error is reported to the client as Python's server does (#TRACEBACK).
type Factory func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error)

// Config holds the settings of a Server: New uses the defaults, Config.New
// these. The zero value is usable; a Server copies its Config.
type Config struct {
	// Listener holds the settings of the listening socket and of every
	// client connection: the authkey (nil: no authentication; New's
	// argument sets it), handshake scheme (listener.DefaultScheme {sha256};
	// Python 3.8–3.11 clients answer it with MD5, which is accepted) and
	// timeout, backlog (Python's manager: 128 on 3.13, 16 before), and the
	// connection.Config whose MaxFrame bounds one request (64 MiB by
	// default; a larger frame closes that client's connection) and whose
	// DecMode decodes requests (pickle's defaults and limits if nil).
	// Listener.Conn.ReadAhead is 4 KiB for the server (0: that default;
	// negative: none): a request's header and body arrive in one read.
	Listener listener.Config
	// MaxItems bounds the items (list and Array elements, dict entries,
	// keys held by dict iterators) that the ready-made shared objects of
	// this server hold together: DefaultMaxItems if 0, no bound if
	// negative. A call that would grow past it (l *= n, l.extend(range(n)),
	// d.update(...), list(range(n))) fails with MemoryError and changes
	// nothing, so one client cannot multiply a small request into all the
	// server's memory.
	MaxItems int
	// MaxReply bounds one reply frame in bytes: if 0, the bound of a
	// request (Listener.Conn.MaxFrame, connection.DefaultMaxFrame if that
	// is 0); no bound if negative. A larger result (a repr, #GETVALUE, a
	// slice) is answered with MemoryError instead.
	MaxReply int64
	// Logger, if set, records what a hostile or broken client runs into,
	// at Warn with the client's address ("peer"), the request's method
	// and typeid where known, and the limit's name: a request frame over
	// Listener.Conn.MaxFrame, a request over a pickle decoder limit or
	// that is not a request at all, a call refused at MaxItems
	// (MemoryError), a reply over MaxReply. It is also the listener's
	// Logger (rejected handshakes) unless Listener.Logger is set. nil logs
	// nothing.
	Logger *slog.Logger
	// Pool holds the settings of the Python worker processes behind the
	// Pool typeid (manager.Pool(processes, initializer, initargs,
	// maxtasksperchild): the client's arguments set those four fields)
	// and behind Barrier actions and callbacks that are not methods of
	// this server's objects: the interpreter, Path, MainPath (the client's
	// main script, for functions defined there), Env, Dir, output. Authkey
	// defaults to the server's, so proxies among a task's arguments
	// connect back. Executable (Go workers) is not used: clients send
	// Python functions.
	Pool pool.Config
	// MaxWorkers bounds the Python worker processes the server runs for
	// clients' Pools (and its helper) together: DefaultMaxWorkers if 0,
	// no bound if negative. A Pool(n) that would pass it fails (the
	// client gets a RemoteError naming the bound), so one client cannot
	// make the server start thousands of processes; terminated, joined or
	// released pools give their workers back.
	MaxWorkers int
	// ThreadWaitConns: while at most this many client connections are
	// being served (those that asked to be, Python's accept_connection:
	// one per thread of each client process that uses a proxy), each
	// waits for its next request the way a CPython server's thread does,
	// in ppoll(2) on its own OS thread (connection.Config.ThreadWait),
	// woken by the kernel alone, instead of in an event loop (EventLoops)
	// or, without loops, parking on the Go runtime's network poller and
	// being woken through the scheduler. When more are open, none does.
	// If 0: none while there are event loops (they cost even one caller
	// less CPU per call), DefaultThreadWaitConns without them; never if
	// negative. Linux only: elsewhere every connection uses the poller.
	// See docs/benchmarks.md, "Manager servers".
	ThreadWaitConns int
	// EventLoops: connections beyond ThreadWaitConns are served by this
	// many event loops (Linux): each an epoll instance of the server's
	// own and one OS thread that reads requests, makes the cheap calls
	// that cannot wait (a dict's or list's item, append, a Value's get
	// or set, a Namespace's attribute, an iterator's next) and sends
	// their replies itself, with no goroutine woken per call; other calls
	// (a Queue's get, a repr, a sort) and anything unusual go to the
	// connection's own goroutine as before. Each loop serves at most
	// one core's worth of such calls. DefaultEventLoops if 0; none if
	// negative (connections then wait on the Go runtime's network
	// poller). See docs/benchmarks.md, "Manager servers".
	EventLoops int
}

// DefaultEventLoops is Config.EventLoops's default: one loop per two Ps
// (GOMAXPROCS at New), at least one, leaving the other cores to the
// goroutines of calls that may wait and to clients on the same machine.
func DefaultEventLoops() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// DefaultThreadWaitConns is Config.ThreadWaitConns's default when there
// are no event loops (EventLoops negative): a client thread that calls a
// proxy in a loop and the connection of its idle main thread.
const DefaultThreadWaitConns = 2

// Server is a Go-hosted manager server that Python clients use unchanged
// (SyncManager(address=…, authkey=…).connect(), BaseManager.register'ed
// typeids, proxies passed to other processes). Each client connection is
// served by its own goroutine; objects guard their own state, so
// concurrent clients are safe. Methods are safe for concurrent use.
type Server struct {
	authkey  []byte
	cfg      listener.Config
	logger   *slog.Logger
	dec      pickle.DecMode
	maxReply int64 // < 0: no bound
	items    *itemBudget
	// callCtx is ctx carrying the item budget: the context of every call.
	callCtx context.Context

	ln     *listener.Listener
	pyAddr any
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	callers atomic.Uint64
	// served: open connections past accept_connection; while at most
	// twMax, they use connection.Config.ThreadWait. twConns counts those
	// that do.
	served  atomic.Int64
	twConns atomic.Int64
	twMax   int64
	// Event loops (Config.EventLoops), started with the first connection
	// that needs one; loopConns counts the connections in them.
	nLoops    int
	loopsOnce sync.Once
	loops     []*evLoop
	loopConns atomic.Int64
	workers   pyWorkers // Python processes behind Pool, Barrier actions, callbacks

	mu       sync.Mutex
	registry map[string]Factory
	objs     map[string]*served
	// local holds objects whose proxies were stored inside other shared
	// objects (Python's id_to_local_proxy_obj): they outlive their external
	// references, and an incref revives them.
	local  map[string]*served
	refs   map[string]int
	idents map[any]string
	nextID uint64
	conns  map[*connection.Conn]struct{}
}

type served struct {
	typeid  string
	obj     Object
	exposed map[string]bool
	reply   pickle.Tuple // exposed as sent to clients
	m2t     map[string]string
}

// New returns a server with SyncManager's typeids registered and authkey
// as the shared secret (nil: no authentication). Call Listen to start
// serving.
func New(authkey []byte) *Server {
	return Config{Listener: listener.Config{Authkey: authkey}}.New()
}

// New is the package-level New with these settings; the authkey is
// Listener.Authkey.
func (c Config) New() *Server {
	cfg := c.Listener
	if cfg.Logger == nil {
		cfg.Logger = c.Logger
	}
	if cfg.Conn.ReadAhead == 0 {
		cfg.Conn.ReadAhead = wire.ReadAhead
	}
	// Accepted connections start on the runtime poller; ThreadWaitConns
	// and the event loops decide how each waits from then on.
	cfg.Conn.ThreadWait = false
	dec := cfg.Conn.DecMode
	if dec == nil {
		dec = defaultDec
	}
	s := &Server{authkey: cfg.Authkey, cfg: cfg, logger: c.Logger, dec: dec,
		done: make(chan struct{}), registry: map[string]Factory{}, objs: map[string]*served{},
		refs: map[string]int{}, local: map[string]*served{}, idents: map[any]string{}, nextID: 0x7f0000001000,
		conns: map[*connection.Conn]struct{}{}}
	switch s.maxReply = c.MaxReply; {
	case s.maxReply == 0 && cfg.Conn.MaxFrame == 0:
		s.maxReply = connection.DefaultMaxFrame
	case s.maxReply == 0:
		s.maxReply = cfg.Conn.MaxFrame
	}
	switch s.nLoops = c.EventLoops; {
	case !loopSupported, s.nLoops < 0:
		s.nLoops = 0
	case s.nLoops == 0:
		s.nLoops = DefaultEventLoops()
	}
	switch s.twMax = int64(c.ThreadWaitConns); {
	case s.twMax == 0 && s.nLoops > 0:
		// The loops serve even one caller with less CPU per call than a
		// thread in ppoll (docs/benchmarks.md, "Manager servers").
	case s.twMax == 0:
		s.twMax = DefaultThreadWaitConns
	case s.twMax < 0, runtime.GOOS != "linux": // where connection.Config.ThreadWait works
		s.twMax = 0
	}
	s.items = &itemBudget{max: int64(c.MaxItems)}
	switch {
	case c.MaxItems == 0:
		s.items.max = DefaultMaxItems
	case c.MaxItems < 0:
		s.items.max = math.MaxInt64
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.callCtx = context.WithValue(s.ctx, budgetKey{}, s.items)
	for typeid, f := range syncManagerTypes(s.callCtx) {
		s.registry[typeid] = f
	}
	s.workers.init(c.Pool, cfg.Authkey, c.MaxWorkers)
	s.registry["Pool"] = s.poolFactory
	s.registry["Barrier"] = s.barrierFactory
	s.registry["set"] = setFactory(s.callCtx)
	return s
}

// Register serves obj under typeid: every create of typeid (Python:
// manager.typeid()) returns a proxy for this same object, like
// BaseManager.register('get_jobs', callable=lambda: jobs).
func (s *Server) Register(typeid string, obj Object) {
	s.RegisterFactory(typeid, func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		if len(args) > 0 || (kwargs != nil && kwargs.Len() > 0) {
			return nil, wire.PyErr("TypeError", typeid+"() takes no arguments")
		}
		return obj, nil
	})
}

// RegisterFactory registers typeid with a function creating its objects.
// It replaces an existing registration, including SyncManager's.
func (s *Server) RegisterFactory(typeid string, f Factory) {
	s.mu.Lock()
	s.registry[typeid] = f
	s.mu.Unlock()
}

// Listen starts serving on network ("tcp", "tcp4", "tcp6", "unix") at
// address, in background goroutines.
func (s *Server) Listen(network, address string) error {
	ln, err := s.cfg.Listen(network, address)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if network == "unix" && strings.HasPrefix(address, "\x00") {
		addr = "@" + address[1:]
	}
	pa, err := manager.PyAddr(network, addr)
	if err != nil {
		ln.Close()
		return err
	}
	s.mu.Lock()
	if s.ln != nil {
		s.mu.Unlock()
		ln.Close()
		return errors.New("manager/server: already listening")
	}
	s.ln, s.pyAddr = ln, pa
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept()
	return nil
}

// Addr returns the listening address, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Address returns the address as Python clients spell it: a (host, port)
// tuple, a socket path, or b'\x00name'; nil before Listen.
func (s *Server) Address() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pyAddr
}

// Done is closed when the server stops: a client sent shutdown, or Close.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the server: it stops listening, closes every client
// connection, ends blocked calls and waits for its goroutines. It is
// idempotent.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		s.cancel()
		if s.ln != nil {
			err = s.ln.Close()
		}
		s.closeLoops()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.workers.close()
	})
	return err
}

// NumberOfObjects returns how many objects have references
// (number_of_objects).
func (s *Server) NumberOfObjects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.refs)
}

// DebugInfo returns debug_info's text: each object's ident, refcount and
// repr.
func (s *Server) DebugInfo() string {
	s.mu.Lock()
	ids := make([]string, 0, len(s.refs))
	for id := range s.refs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type row struct {
		id  string
		n   int
		obj Object
	}
	rows := make([]row, len(ids))
	for i, id := range ids {
		rows[i] = row{id, s.refs[id], s.objs[id].obj}
	}
	s.mu.Unlock()
	lines := make([]string, len(rows))
	for i, r := range rows {
		str := reprOf(r.obj, 75)
		if len(str) > 75 {
			str = str[:75]
		}
		lines[i] = fmt.Sprintf("  %s:       refcount=%d\n    %s", r.id, r.n, str)
	}
	return strings.Join(lines, "\n")
}

// reprOf is repr(o), at most about max bytes for the ready-made objects
// (and cut to max for other Reprers).
func reprOf(o Object, max int) string {
	if r, ok := o.(boundedReprer); ok {
		return r.reprN(max)
	}
	if r, ok := o.(Reprer); ok {
		s := r.Repr()
		if len(s) > max {
			s = s[:max] + pickle.ReprTruncated
		}
		return s
	}
	return fmt.Sprintf("<Go %T object>", o)
}

// pyClass is repr(type(o)) as Python's server prints it in errors.
func pyClass(o Object) string {
	name := fmt.Sprintf("Go %T", o)
	switch x := o.(type) {
	case *Dict:
		name = "dict"
	case *List:
		name = "list"
	case *Set:
		name = "set"
	case *Namespace:
		name = "multiprocessing.managers.Namespace"
	case *Value:
		name = "multiprocessing.managers.Value"
	case *Array:
		name = "array.array"
	case *Iterator:
		name = "dict_keyiterator"
	case *Queue:
		name = "queue.Queue"
	case *Event:
		name = "threading.Event"
	case *Condition:
		name = "threading.Condition"
	case *Barrier:
		name = "threading.Barrier"
	case *Lock:
		switch x.kind {
		case "Lock":
			name = "_thread.lock"
		case "RLock":
			name = "_thread.RLock"
		default:
			name = "threading." + x.kind
		}
	}
	return "<class '" + name + "'>"
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept(s.ctx)
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(conn)
	}
}

// Python's Server.public: the only requests a new connection may make.
var defaultDec, _ = pickle.DecOptions{}.DecMode()

// replyEnc pickles replies: protocol 4, as Python's server sends them.
var replyEnc, _ = pickle.EncOptions{}.EncMode()

var publicRequests = map[string]bool{"shutdown": true, "create": true, "accept_connection": true,
	"get_methods": true, "debug_info": true, "number_of_objects": true, "dummy": true, "incref": true, "decref": true}

func (s *Server) handle(conn *connection.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	r := &request{peer: peerOf(conn)}
	v, err := wire.Recv(context.Background(), conn, s.dec)
	if err != nil {
		s.logRecvErr(r, err)
		if errors.Is(err, manager.ErrProtocol) {
			s.send(conn, pickle.Tuple{wire.KindTraceback, traceback(err)}, r)
		}
		return
	}
	_, method, args, kwargs, err := parseRequest(v)
	r.method = method
	if err == nil && !publicRequests[method] {
		err = wire.PyErr("AssertionError", fmt.Sprintf("'%s' unrecognized", method))
	}
	if err != nil {
		s.logReq(slog.LevelWarn, "manager server: bad request", r, slog.Any("err", err))
		s.send(conn, pickle.Tuple{wire.KindTraceback, traceback(err)}, r)
		return
	}
	switch method {
	case "accept_connection":
		if !s.send(conn, pickle.Tuple{wire.KindReturn, nil}, r) {
			return
		}
		conn = s.serveClient(conn, callerID(s.callers.Add(1)), r.peer) // closed and forgotten by the deferred function
		return
	case "shutdown":
		s.logReq(slog.LevelInfo, "manager server: shutdown requested", r)
		s.send(conn, pickle.Tuple{wire.KindReturn, nil}, r)
		go s.Close()
		return
	}
	if method == "create" && len(args) > 0 {
		r.typeid, _ = args[0].(string)
	}
	res, err := s.control(method, args, kwargs)
	if err != nil {
		s.logCallErr(r, err)
		s.send(conn, pickle.Tuple{wire.KindTraceback, traceback(err)}, r)
		return
	}
	s.send(conn, pickle.Tuple{wire.KindReturn, res}, r)
}

// rewrap returns a Conn for conn's socket that waits in ppoll(2)
// (connection.Config.ThreadWait) if threadWait, on the runtime poller
// otherwise, puts it in conn's place in s.conns and closes conn. It runs
// between a reply and the next request: nothing may have been read ahead
// into conn's buffer, so if anything is there to receive (from a client
// that sends before it has its reply) conn stays as it is (nil result).
// Bytes that arrive meanwhile wait in the socket, which the new Conn
// shares.
func (s *Server) rewrap(conn *connection.Conn, threadWait bool) *connection.Conn {
	cfg := s.cfg.Conn
	cfg.ThreadWait = threadWait
	nc := rewrap.Conn(conn, cfg)
	if nc == nil {
		return nil
	}
	s.mu.Lock()
	if s.ctx.Err() != nil { // Close ran or runs: conn is closed or will be
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	delete(s.conns, conn)
	s.conns[nc] = struct{}{}
	s.mu.Unlock()
	conn.Close()
	return nc
}

// request says who sent a request and what it was, for the log.
type request struct {
	peer   string
	method string
	typeid string
}

func peerOf(conn *connection.Conn) string {
	if a := conn.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

func (s *Server) logReq(level slog.Level, msg string, r *request, attrs ...slog.Attr) {
	if s.logger == nil {
		return
	}
	all := []slog.Attr{slog.String("peer", r.peer)}
	if r.method != "" {
		all = append(all, slog.String("method", r.method))
	}
	if r.typeid != "" {
		all = append(all, slog.String("typeid", r.typeid))
	}
	s.logger.LogAttrs(context.Background(), level, msg, append(all, attrs...)...)
}

// logRecvErr records a request the server could not take: over the frame
// limit, over a decoder limit, not a pickle. A client that just went away
// is not logged.
func (s *Server) logRecvErr(r *request, err error) {
	switch {
	case errors.Is(err, connection.ErrFrameTooLarge):
		s.logReq(slog.LevelWarn, "manager server: request over the frame limit; connection closed", r,
			slog.String("limit", "server.Config.Listener.Conn.MaxFrame"), slog.Any("err", err))
	case errors.Is(err, pickle.ErrLimit):
		s.logReq(slog.LevelWarn, "manager server: request over a decoder limit", r,
			slog.String("limit", "server.Config.Listener.Conn.DecMode"), slog.Any("err", err))
	case errors.Is(err, manager.ErrProtocol):
		s.logReq(slog.LevelWarn, "manager server: request is not a pickle", r, slog.Any("err", err))
	case errors.Is(err, connection.ErrBroken):
		s.logReq(slog.LevelWarn, "manager server: client connection broken in the middle of a request", r, slog.Any("err", err))
	}
}

// logCallErr records a call refused at the server's item bound
// (MemoryError: MaxItems, or a result that would pass it).
func (s *Server) logCallErr(r *request, err error) {
	var pe *pickle.PythonError
	if errors.As(err, &pe) && pe.Type.Module == "builtins" && pe.Type.Name == "MemoryError" {
		s.logReq(slog.LevelWarn, "manager server: call refused at the item bound (MemoryError)", r,
			slog.String("limit", "server.Config.MaxItems"), slog.Any("err", err))
	}
}

// send pickles and sends a reply; a reply that cannot be pickled becomes
// #UNSERIALIZABLE, as in Python's serve_client.
func (s *Server) send(conn *connection.Conn, msg pickle.Tuple, r *request) bool {
	var out []byte
	return s.sendBuf(conn, msg, r, &out)
}

// sendBuf is send pickling into *out, kept (up to 1 MiB) for the next
// reply on the connection.
func (s *Server) sendBuf(conn *connection.Conn, msg pickle.Tuple, r *request, out *[]byte) bool {
	b, ok := s.encodeReply(msg, r, out, 0)
	if !ok {
		return false
	}
	// No per-call context: Close closes every connection, which unblocks
	// a send to a client that stopped reading.
	return conn.SendBytes(context.Background(), b) == nil
}

// encodeReply pickles a reply after the first room bytes of *out (kept,
// up to 1 MiB, for the next reply): b[room:] is the pickle, or, for a
// reply that cannot be pickled or passes MaxReply, what Python's server
// sends instead (then b may be a fresh slice, with room bytes in front
// all the same). false: not even that could be pickled.
func (s *Server) encodeReply(msg pickle.Tuple, r *request, out *[]byte, room int) ([]byte, bool) {
	if cap(*out) < room {
		*out = make([]byte, room, 512)
	}
	b, err := replyEnc.AppendMarshal((*out)[:room], msg)
	if cap(b) <= 1<<20 {
		*out = b[:0]
	}
	if err != nil {
		b, err = replyEnc.AppendMarshal(make([]byte, room), pickle.Tuple{wire.KindUnserializable, traceback(err)})
		if err != nil {
			return nil, false
		}
	}
	if n := len(b) - room; s.maxReply >= 0 && int64(n) > s.maxReply {
		s.logReq(slog.LevelWarn, "manager server: reply over MaxReply; answered with MemoryError", r,
			slog.String("limit", "server.Config.MaxReply"), slog.Int("bytes", n), slog.Int64("max", s.maxReply))
		b, err = replyEnc.AppendMarshal(make([]byte, room), pickle.Tuple{wire.KindError, wire.PyErr("MemoryError", fmt.Sprintf("reply of %d bytes exceeds the Go manager server's bound (server.Config.MaxReply %d)", n, s.maxReply))})
		if err != nil {
			return nil, false
		}
	}
	return b, true
}

func parseRequest(v any) (ident any, method string, args pickle.Tuple, kwargs *pickle.Dict, err error) {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 4 {
		return nil, "", nil, nil, wire.PyErr("ValueError", fmt.Sprintf("request is %s, not a 4-tuple (ident, methodname, args, kwds)", typeName(v)))
	}
	method, ok = t[1].(string)
	if !ok {
		return nil, "", nil, nil, wire.PyErr("TypeError", "methodname must be str, not "+typeName(t[1]))
	}
	switch a := t[2].(type) {
	case pickle.Tuple:
		args = a
	case []any:
		args = pickle.Tuple(a)
	default:
		return nil, "", nil, nil, wire.PyErr("TypeError", "args must be a tuple, not "+typeName(t[2]))
	}
	switch k := t[3].(type) {
	case *pickle.Dict:
		kwargs = k
		for _, key := range k.Keys() {
			if _, ok := key.(string); !ok {
				return nil, "", nil, nil, wire.PyErr("TypeError", "keywords must be strings")
			}
		}
	case nil:
	default:
		return nil, "", nil, nil, wire.PyErr("TypeError", "kwds must be a dict, not "+typeName(t[3]))
	}
	return t[0], method, args, kwargs, nil
}

// traceback formats err as the text of a #TRACEBACK reply.
func traceback(err error) string {
	var pe *pickle.PythonError
	line := "RuntimeError: " + err.Error()
	if errors.As(err, &pe) {
		line = pe.Type.Name
		switch {
		case pe.Type.Name == "KeyError" && len(pe.Args) == 1:
			line += ": " + pickle.Repr(pe.Args[0])
		case len(pe.Args) == 1:
			line += ": " + fmt.Sprint(strArg(pe.Args[0]))
		case len(pe.Args) > 1:
			line += ": " + pickle.Repr(pe.Args)
		}
	}
	return "Traceback (most recent call last):\n  File \"<mpwire Go manager server>\"\n" + line + "\n"
}

func strArg(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pickle.Repr(v)
}

func exposedTuple(names []string, m2t map[string]string) pickle.Tuple {
	t := make(pickle.Tuple, 0, len(names)+len(m2t))
	for _, n := range names {
		t = append(t, n)
	}
	keys := make([]string, 0, len(m2t))
	for k := range m2t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t = append(t, k)
	}
	return t
}

// identKey is the identity under which obj is registered: the same object
// created twice gets the same ident, as Python's '%x' % id(obj).
func identKey(obj Object) any {
	v := reflect.ValueOf(obj)
	switch v.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Slice:
		return [2]uintptr{v.Pointer(), uintptr(v.Kind())}
	}
	if v.Type().Comparable() {
		return obj
	}
	return new(int) // not identifiable: always a new ident
}

// register records obj (created for typeid) and takes one reference, like
// Python's Server.create after the callable returned.
func (s *Server) register(obj Object, typeid string) (string, pickle.Tuple) {
	var m2t map[string]string
	if pm, ok := obj.(ProxyMethods); ok {
		m2t = pm.MethodToTypeID()
	}
	key := identKey(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.idents[key]
	if !ok {
		id = fmt.Sprintf("%x", s.nextID)
		s.nextID += 0x10
		s.idents[key] = id
	}
	e := s.objs[id]
	if e == nil {
		names := obj.Exposed()
		e = &served{typeid: typeid, obj: obj, exposed: map[string]bool{}, reply: exposedTuple(names, m2t), m2t: m2t}
		for _, n := range names {
			e.exposed[n] = true
		}
		for n := range m2t {
			e.exposed[n] = true
		}
		s.objs[id] = e
		e.obj = obj
	}
	s.refs[id]++
	return id, e.reply
}

func identArg(args pickle.Tuple) (string, error) {
	if len(args) != 1 {
		return "", wire.PyErr("TypeError", fmt.Sprintf("expected 1 argument, got %d", len(args)))
	}
	id, ok := args[0].(string)
	if !ok {
		return "", keyErr(args[0])
	}
	return id, nil
}

// control answers the one-shot requests.
func (s *Server) control(method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	switch method {
	case "dummy":
		return nil, nil
	case "number_of_objects":
		return s.NumberOfObjects(), nil
	case "debug_info":
		return s.DebugInfo(), nil
	case "create":
		if len(args) < 1 {
			return nil, wire.PyErr("TypeError", "create() missing required argument 'typeid'")
		}
		typeid, ok := args[0].(string)
		s.mu.Lock()
		f, found := s.registry[typeid]
		s.mu.Unlock()
		if !ok || !found {
			return nil, keyErr(args[0])
		}
		s.stashProxies(args[1:], 0)
		if kwargs != nil {
			s.stashProxies(kwargs.Values(), 0)
		}
		obj, err := recovering("the factory of "+typeid, func() (Object, error) { return f(args[1:], kwargs) })
		if err != nil {
			return nil, err
		}
		if obj == nil {
			return nil, wire.PyErr("TypeError", "the factory of "+typeid+" returned no object")
		}
		if err := s.attach(obj); err != nil {
			return nil, err
		}
		id, exposed := s.register(obj, typeid)
		return pickle.Tuple{id, exposed}, nil
	case "incref":
		id, err := identArg(args)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.refs[id]; !ok {
			e, stashed := s.local[id]
			if !stashed {
				return nil, keyErr(id)
			}
			// Python: re-enable tracking from the internal reference.
			s.objs[id] = e
			s.idents[identKey(e.obj)] = id
		}
		s.refs[id]++
		return nil, nil
	case "decref":
		id, err := identArg(args)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		n, ok := s.refs[id]
		if !ok {
			if _, stashed := s.local[id]; stashed {
				return nil, nil // Python: "Server DECREF skipping"
			}
			return nil, keyErr(id)
		}
		if n <= 1 {
			delete(s.refs, id)
			if e := s.objs[id]; e != nil {
				delete(s.idents, identKey(e.obj))
				if b, ok := e.obj.(budgeted); ok && s.local[id] == nil {
					b.detach() // its items no longer count against MaxItems
				}
				if d, ok := e.obj.(dropper); ok && s.local[id] == nil {
					d.drop()
				}
			}
			delete(s.objs, id)
		} else {
			s.refs[id] = n - 1
		}
		return nil, nil
	case "get_methods":
		if len(args) != 1 {
			return nil, wire.PyErr("TypeError", "get_methods() takes 1 argument")
		}
		var tok manager.Token
		if err := tok.UnmarshalPickle(args[0]); err != nil {
			return nil, wire.PyErr("TypeError", err.Error())
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e, ok := s.objs[tok.ID]
		if !ok {
			return nil, keyErr(tok.ID)
		}
		return e.reply, nil
	}
	return nil, wire.PyErr("AssertionError", fmt.Sprintf("'%s' unrecognized", method))
}

// serveClient is Python's Server.serve_client: calls on one connection
// until EOF. It returns the Conn it ended with (see ThreadWaitConns: the
// connection's socket may have moved to a new Conn), for the caller to
// close. Between a reply and the next request, the connection moves to a
// ThreadWait Conn or back to the poller as ThreadWaitConns says.
func (s *Server) serveClient(conn *connection.Conn, caller Caller, peer string) *connection.Conn {
	var in, out []byte // one request, one reply: reused
	tw := false        // conn is a ThreadWait Conn (waiting in ppoll or in a loop)
	var lc *loopConn   // conn is in an event loop
	var yield schedyield.Every
	s.served.Add(1)
	defer func() {
		s.served.Add(-1)
		if lc != nil {
			lc.remove()
			s.loopConns.Add(-1)
		} else if tw {
			s.twConns.Add(-1)
		}
	}()
	for {
		r := &request{peer: peer}
		// Where to wait: in ppoll while few are served, else in an event
		// loop (a ThreadWait Conn too: off the runtime poller), else on
		// the poller.
		n := s.served.Load()
		wantLoop := n > s.twMax && s.nLoops > 0
		if want := n <= s.twMax || wantLoop; want != tw {
			if lc != nil { // leaving the loop for the poller
				lc.remove()
				lc = nil
				s.loopConns.Add(-1)
			}
			if nc := s.rewrap(conn, want); nc != nil {
				conn, tw = nc, want
				if tw {
					s.twConns.Add(1)
				} else {
					s.twConns.Add(-1)
				}
			}
		}
		if tw && wantLoop != (lc != nil) {
			switch {
			case lc != nil: // back to ppoll
				lc.remove()
				lc = nil
				s.loopConns.Add(-1)
				s.twConns.Add(1)
			case conn.Buffered() == 0:
				if lc = s.loopFor(conn, caller, peer); lc != nil {
					s.twConns.Add(-1)
					s.loopConns.Add(1)
				}
			}
		}
		if lc != nil && conn.Buffered() == 0 {
			h, ok := s.loopWait(lc)
			if !ok {
				return conn
			}
			if h.unread != nil && conn.Unread(h.unread) != nil {
				return conn
			}
			switch {
			case h.v == rawReply:
				if !lc.writeRaw(h.reply) {
					return conn
				}
				continue
			case h.reply != nil:
				if conn.SendBytes(context.Background(), h.reply) != nil {
					return conn
				}
				continue
			case h.call:
				if !s.sendBuf(conn, s.call(caller, h.v, r), r, &out) {
					return conn
				}
				continue
			}
			// Receive the usual way (the bytes the loop read are back).
		} else if tw && lc == nil {
			// Only system calls from here on: without this, sysmon's
			// polling took 9% of the server's CPU with one caller.
			yield.Maybe()
			// Wait first: a receive would try the socket once before its
			// wait, a system call that finds nothing.
			_, _ = conn.PollTimeout(context.Background(), -1)
		}
		v, err := wire.RecvBuf(context.Background(), conn, s.dec, &in)
		if err != nil {
			s.logRecvErr(r, err)
			if errors.Is(err, manager.ErrProtocol) && conn.Readable() {
				if s.sendBuf(conn, pickle.Tuple{wire.KindTraceback, traceback(err)}, r, &out) {
					continue
				}
			}
			return conn
		}
		if !s.sendBuf(conn, s.call(caller, v, r), r, &out) {
			return conn
		}
	}
}

// loopFor puts conn (a ThreadWait Conn) in one of the event loops,
// starting them if needed; nil if that failed (conn then waits in ppoll).
func (s *Server) loopFor(conn *connection.Conn, caller Caller, peer string) *loopConn {
	s.loopsOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ctx.Err() != nil {
			return
		}
		for i := 0; i < s.nLoops; i++ {
			l, err := newLoop(s)
			if err != nil || l == nil {
				break
			}
			s.loops = append(s.loops, l)
		}
	})
	if len(s.loops) == 0 {
		return nil
	}
	l := s.loops[0]
	if c, ok := caller.(callerID); ok {
		l = s.loops[uint64(c)%uint64(len(s.loops))]
	}
	return l.add(conn, caller, peer)
}

// loopWait gives lc to its loop, if its goroutine holds it, and waits until
// the loop hands it back; false when the server closes.
func (s *Server) loopWait(lc *loopConn) (handoff, bool) {
	if !lc.arm() {
		return handoff{}, false
	}
	select {
	case h := <-lc.hand:
		return h, true
	case <-s.ctx.Done():
		return handoff{}, false
	}
}

// closeLoops stops the event loops (Close, before it closes connections).
func (s *Server) closeLoops() {
	s.loopsOnce.Do(func() {}) // none start after this
	s.mu.Lock()
	loops := s.loops
	s.mu.Unlock()
	for _, l := range loops {
		l.close()
	}
}

// call runs one request on a served connection and returns the reply; it
// fills r in.
func (s *Server) call(caller Caller, v any, r *request) pickle.Tuple {
	identV, method, args, kwargs, err := parseRequest(v)
	r.method = method
	if err != nil {
		s.logReq(slog.LevelWarn, "manager server: bad request", r, slog.Any("err", err))
		return pickle.Tuple{wire.KindTraceback, traceback(err)}
	}
	ident, _ := identV.(string)
	s.mu.Lock()
	e, ok := s.objs[ident]
	if !ok {
		e, ok = s.local[ident]
	}
	s.mu.Unlock()
	s.stashProxies(args, 0)
	if kwargs != nil {
		s.stashProxies(kwargs.Values(), 0)
	}
	if !ok {
		return pickle.Tuple{wire.KindTraceback, traceback(keyErr(identV))}
	}
	r.typeid = e.typeid
	if !e.exposed[method] {
		// As Python: name the type; the object's repr may be huge.
		return s.fallback(e, method, wire.PyErr("AttributeError", fmt.Sprintf("method %s of %s object is not in exposed=%s", pickle.Repr(method), pyClass(e.obj), pickle.Repr(e.reply))))
	}
	res, err := recovering(method, func() (any, error) { return e.obj.CallMethod(s.callCtx, caller, method, args, kwargs) })
	if errors.Is(err, errNoMethod) {
		return s.fallback(e, method, wire.PyErr("AttributeError", fmt.Sprintf("object has no attribute '%s'", method)))
	}
	if err != nil {
		s.logCallErr(r, err)
		return pickle.Tuple{wire.KindError, exceptionValue(err)}
	}
	if typeid := e.m2t[method]; typeid != "" {
		obj, ok := res.(Object)
		if !ok {
			return pickle.Tuple{wire.KindTraceback, traceback(wire.PyErr("TypeError", fmt.Sprintf("%s returned %T, not a shared object", method, res)))}
		}
		if err := s.attach(obj); err != nil {
			s.logCallErr(r, err)
			return pickle.Tuple{wire.KindError, exceptionValue(err)}
		}
		id, exposed := s.register(obj, typeid)
		return pickle.Tuple{wire.KindProxy, pickle.Tuple{exposed, manager.Token{TypeID: typeid, Address: s.pyAddr, ID: id}}}
	}
	return pickle.Tuple{wire.KindReturn, res}
}

// attach charges a new shared object's items to MaxItems.
func (s *Server) attach(obj Object) error {
	if b, ok := obj.(budgeted); ok {
		return b.attach(s.callCtx)
	}
	return nil
}

// recovering runs user code (an Object's method, a Factory) and turns a
// panic into an error: a client's arguments reach that code (Methods
// functions type-assert them), and one bad call must fail like a Python
// exception in that call, not take down a server that holds every other
// client's objects.
func recovering[T any](what string, f func() (T, error)) (res T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			res, err = zero, wire.PyErr("RuntimeError", fmt.Sprintf("Go panic in %s: %v", what, r))
		}
	}()
	return f()
}

// fallback implements Python's fallback_mapping: #GETVALUE, __str__ and
// __repr__ work on every object.
func (s *Server) fallback(e *served, method string, orig error) pickle.Tuple {
	switch method {
	case "#GETVALUE":
		if v, ok := e.obj.(Valuer); ok {
			val, err := v.PickleValue()
			if err != nil {
				return pickle.Tuple{wire.KindTraceback, traceback(err)}
			}
			return pickle.Tuple{wire.KindReturn, val}
		}
		return pickle.Tuple{wire.KindUnserializable, traceback(wire.PyErr("TypeError", fmt.Sprintf("cannot pickle '%T' object", e.obj)))}
	case "__str__", "__repr__":
		return pickle.Tuple{wire.KindReturn, reprOf(e.obj, pickle.DefaultMaxRepr)}
	}
	return pickle.Tuple{wire.KindTraceback, traceback(orig)}
}

// exceptionValue is what #ERROR carries for err.
func exceptionValue(err error) *pickle.PythonError {
	var pe *pickle.PythonError
	if errors.As(err, &pe) {
		return pe
	}
	return wire.PyErr("RuntimeError", err.Error())
}

// syncManagerTypes are SyncManager's registrations (managers.py), minus
// Pool and Barrier, which run Python code (New registers them with the
// server's workers: poolFactory, barrierFactory), and AsyncResult and
// Iterator, which only methods return; ctx carries the server's item
// bound, which also bounds what list(range(n)) may materialize.
func syncManagerTypes(ctx context.Context) map[string]Factory {
	return map[string]Factory{
		"Queue":         queueFactory,
		"JoinableQueue": queueFactory,
		"Event": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			if _, err := bind("Event", args, kwargs, nil, 0); err != nil {
				return nil, err
			}
			return NewEvent(), nil
		},
		"Lock": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			if _, err := bind("Lock", args, kwargs, nil, 0); err != nil {
				return nil, err
			}
			return NewLock(), nil
		},
		"RLock": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			if _, err := bind("RLock", args, kwargs, nil, 0); err != nil {
				return nil, err
			}
			return NewRLock(), nil
		},
		"Semaphore":        semaphoreFactory("Semaphore"),
		"BoundedSemaphore": semaphoreFactory("BoundedSemaphore"),
		"Condition": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			p, err := bind("Condition", args, kwargs, []string{"lock"}, 0)
			if err != nil {
				return nil, err
			}
			if p.get(0, nil) != nil {
				return nil, wire.PyErr("TypeError", "Condition(lock) with an explicit lock is not supported by a Go-hosted manager")
			}
			return NewCondition(), nil
		},
		"list": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			p, err := bind("list", args, kwargs, []string{"iterable"}, 0)
			if err != nil {
				return nil, err
			}
			if !p.set[0] {
				return NewList(nil), nil
			}
			items, err := iterableN(p.vals[0], room(ctx, maxRange))
			if err != nil {
				return nil, err
			}
			return NewList(items), nil
		},
		"dict": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			d := NewDict()
			if err := updateDict(d.d, args, kwargs); err != nil {
				return nil, err
			}
			return d, nil
		},
		"Value": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			p, err := bind("Value", args, kwargs, []string{"typecode", "value", "lock"}, 2)
			if err != nil {
				return nil, err
			}
			return &Value{typecode: p.vals[0], value: p.vals[1]}, nil
		},
		"Array": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			p, err := bind("Array", args, kwargs, []string{"typecode", "sequence", "lock"}, 2)
			if err != nil {
				return nil, err
			}
			tc, ok := p.vals[0].(string)
			if !ok {
				return nil, wire.PyErr("TypeError", "array() argument 1 must be a unicode character, not "+typeName(p.vals[0]))
			}
			items, err := iterableN(p.vals[1], room(ctx, maxRange))
			if err != nil {
				return nil, err
			}
			return NewArray(tc, items)
		},
		"Namespace": func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			if len(args) > 0 {
				return nil, wire.PyErr("TypeError", "Namespace() takes no positional arguments")
			}
			n := NewNamespace(nil)
			if kwargs != nil {
				for _, kv := range kwargs.Items() {
					_ = n.attrs.Set(kv[0], kv[1])
				}
			}
			return n, nil
		},
	}
}

func queueFactory(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
	p, err := bind("Queue", args, kwargs, []string{"maxsize"}, 0)
	if err != nil {
		return nil, err
	}
	n, err := toInt(p.get(0, int64(0)), "")
	if err != nil {
		return nil, err
	}
	return NewQueue(n), nil
}

func semaphoreFactory(kind string) Factory {
	return func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		p, err := bind(kind, args, kwargs, []string{"value"}, 0)
		if err != nil {
			return nil, err
		}
		n, err := toInt(p.get(0, int64(1)), "")
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, wire.PyErr("ValueError", "semaphore initial value must be >= 0")
		}
		if kind == "BoundedSemaphore" {
			return NewBoundedSemaphore(n), nil
		}
		return NewSemaphore(n), nil
	}
}

// stashProxies finds pickled proxies of this server's objects among call
// arguments (a client storing a proxy inside a shared container) and keeps
// their objects alive, as Python's RebuildProxy does inside the server.
func (s *Server) stashProxies(vals []any, depth int) {
	if depth > maxProxyDepth {
		return
	}
	for _, v := range vals {
		switch x := v.(type) {
		case []any:
			s.stashProxies(x, depth+1)
		case pickle.Tuple:
			s.stashProxies(x, depth+1)
		case *pickle.Dict:
			s.stashProxies(x.Values(), depth+1)
		case *pickle.Object:
			if x.Class() != wire.GlobalRebuildProxy || len(x.Args) != 4 {
				continue
			}
			var tok manager.Token
			if err := tok.UnmarshalPickle(x.Args[1]); err != nil || !sameAddress(tok.Address, s.pyAddr) {
				continue
			}
			s.mu.Lock()
			if e, ok := s.objs[tok.ID]; ok {
				if _, done := s.local[tok.ID]; !done {
					s.local[tok.ID] = e
				}
			}
			s.mu.Unlock()
		}
	}
}

func sameAddress(a, b any) bool {
	n1, a1, err1 := manager.NetAddr(a)
	n2, a2, err2 := manager.NetAddr(b)
	if err1 != nil || err2 != nil || n1 != n2 {
		return false
	}
	if a1 == a2 {
		return true
	}
	// 'localhost' vs '127.0.0.1' and the like: compare ports of loopback hosts.
	h1, p1, e1 := net.SplitHostPort(a1)
	h2, p2, e2 := net.SplitHostPort(a2)
	return e1 == nil && e2 == nil && p1 == p2 && isLoopback(h1) && isLoopback(h2)
}

func isLoopback(h string) bool {
	if h == "localhost" || h == "" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}
