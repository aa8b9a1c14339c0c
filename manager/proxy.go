package manager

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// proxyTypes maps SyncManager typeids to the Python proxy class that
// represents them (used when a proxy is pickled for a Python process).
var proxyTypes = map[string]string{
	"Queue": "AutoProxy", "JoinableQueue": "AutoProxy",
	"Event": "EventProxy", "Lock": "AcquirerProxy", "RLock": "AcquirerProxy",
	"Semaphore": "AcquirerProxy", "BoundedSemaphore": "AcquirerProxy",
	"Condition": "ConditionProxy", "Barrier": "BarrierProxy", "Pool": "PoolProxy",
	"list": "ListProxy", "dict": "DictProxy", "set": "SetProxy", "Value": "ValueProxy",
	"Array": "ArrayProxy", "Namespace": "NamespaceProxy", "Iterator": "IteratorProxy",
	"AsyncResult": "AutoProxy",
}

// ownerSensitive typeids keep per-caller ownership on the server (RLock,
// Condition: release and wait must come from the acquiring thread, which the
// server identifies by its connection).
var ownerSensitive = map[string]bool{"RLock": true, "Condition": true}

// Proxy refers to a shared object on a manager server, like Python's
// BaseProxy. It holds one server-side reference until Close.
//
// Proxies are safe for concurrent use. Calls go through the Client's pool
// (see Client), so concurrent calls on one proxy run in parallel on the
// server. Proxies of owner-sensitive objects — RLock and Condition, where
// Python's server identifies the owning thread by its connection — instead
// use one dedicated connection: such a proxy behaves as one Python thread,
// and its calls are serialized. To act as several owners (for example two
// goroutines contending for an RLock, or one waiting on a Condition while
// another notifies), give each its own proxy with Clone.
type Proxy struct {
	client     *Client
	ownsClient bool
	token      Token
	exposed    []string
	pyType     string
	counted    bool // holds a server reference released by Close
	dedicated  bool

	dmu   sync.Mutex // serializes calls on the dedicated connection
	dconn *connection.Conn

	mu     sync.Mutex
	closed bool
}

func (c *Client) newProxy(tok Token, exposed []string, counted bool) *Proxy {
	pt, ok := proxyTypes[tok.TypeID]
	if !ok {
		pt = "AutoProxy"
	}
	return &Proxy{client: c, token: tok, exposed: exposed, pyType: pt, counted: counted, dedicated: ownerSensitive[tok.TypeID]}
}

// Token returns the proxy's token.
func (p *Proxy) Token() Token { return p.token }

// TypeID returns the object's registered type name.
func (p *Proxy) TypeID() string { return p.token.TypeID }

// Exposed returns the method names the server reported for the object
// (for objects created through this client or returned as #PROXY).
func (p *Proxy) Exposed() []string { return slices.Clone(p.exposed) }

// Client returns the client the proxy calls through.
func (p *Proxy) Client() *Client { return p.client }

// Call calls method on the referent with args and kwargs and returns the
// result (Python's proxy._callmethod). A #PROXY result (a method that
// returns a shared object, such as dict.__iter__) is returned as a *Proxy,
// which the caller must Close. A Python exception is returned as an
// *Exception; a server-side failure as a *RemoteError.
func (p *Proxy) Call(ctx context.Context, method string, args []any, kwargs map[string]any) (any, error) {
	if err := p.checkOpen(); err != nil {
		return nil, err
	}
	var (
		kind    string
		payload any
		err     error
	)
	if p.dedicated {
		kind, payload, err = p.callDedicated(ctx, method, args, kwargs)
	} else {
		kind, payload, err = p.callPooled(ctx, method, args, kwargs)
	}
	if err != nil {
		return nil, err
	}
	switch kind {
	case wire.KindReturn:
		return payload, nil
	case wire.KindProxy:
		t, ok := payload.(pickle.Tuple)
		if !ok || len(t) != 2 {
			return nil, fmt.Errorf("manager: %w: #PROXY payload is %T", ErrProtocol, payload)
		}
		tok, err := tokenFrom(t[1])
		if err != nil {
			return nil, err
		}
		// As Python: the returned token's address is replaced by ours.
		tok.Address = p.token.Address
		return p.client.newProxy(tok, stringsOf(t[0]), true), nil
	}
	return nil, fmt.Errorf("manager: %s.%s: %w", p.token.TypeID, method, replyError(kind, payload))
}

// CallInto is Call that converts the result into out (a pointer) with the
// pickle package's typed decoding rules.
func (p *Proxy) CallInto(ctx context.Context, out any, method string, args []any, kwargs map[string]any) error {
	v, err := p.Call(ctx, method, args, kwargs)
	if err != nil {
		return err
	}
	return convert(v, out)
}

func convert(v, out any) error {
	b, err := pickle.Marshal(v)
	if err != nil {
		return err
	}
	return pickle.Unmarshal(b, out)
}

func (p *Proxy) callPooled(ctx context.Context, method string, args []any, kwargs map[string]any) (string, any, error) {
	conn, err := p.client.getConn(ctx)
	if err != nil {
		return "", nil, err
	}
	kind, payload, broken, err := p.client.callOn(ctx, conn, p.token.ID, method, args, kwargs)
	if broken {
		p.client.dropConn(conn)
	} else {
		p.client.putConn(conn)
	}
	return kind, payload, err
}

func (p *Proxy) callDedicated(ctx context.Context, method string, args []any, kwargs map[string]any) (string, any, error) {
	p.dmu.Lock()
	defer p.dmu.Unlock()
	if p.dconn == nil {
		conn, err := p.client.openServing(ctx)
		if err != nil {
			return "", nil, err
		}
		p.dconn = conn
	}
	kind, payload, broken, err := p.client.callOn(ctx, p.dconn, p.token.ID, method, args, kwargs)
	if broken {
		p.dconn.Close()
		p.dconn = nil
	}
	return kind, payload, err
}

func (p *Proxy) checkOpen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	return nil
}

// GetValue returns a copy of the referent (Python's proxy._getvalue(), the
// #GETVALUE fallback).
func (p *Proxy) GetValue(ctx context.Context) (any, error) {
	return p.Call(ctx, "#GETVALUE", nil, nil)
}

// Repr returns repr() of the referent, computed by the server.
func (p *Proxy) Repr(ctx context.Context) (string, error) {
	v, err := p.Call(ctx, "__repr__", nil, nil)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// Str returns str() of the referent, computed by the server.
func (p *Proxy) Str(ctx context.Context) (string, error) {
	v, err := p.Call(ctx, "__str__", nil, nil)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// Clone returns a new proxy for the same referent with its own reference
// (incref) and, for owner-sensitive objects, its own connection — what a
// Python proxy is in another thread.
func (p *Proxy) Clone(ctx context.Context) (*Proxy, error) {
	if err := p.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := p.client.dispatch(ctx, "incref", []any{p.token.ID}, nil); err != nil {
		return nil, err
	}
	q := p.client.newProxy(p.token, p.exposed, true)
	q.pyType = p.pyType
	return q, nil
}

// Close releases the proxy's reference (decref) so the server can free the
// object when no proxy refers to it, and closes its dedicated connection.
// It is idempotent. A proxy received through spawn (FromChild) holds no
// reference of its own, as in Python. The decref request is bounded by the
// Client's handshake timeout (Config.Dialer.HandshakeTimeout, 20 s by
// default), so Close never hangs on an unresponsive server.
func (p *Proxy) Close() error {
	ctx, cancel := p.client.closeContext()
	defer cancel()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.dmu.Lock()
	if p.dconn != nil {
		p.dconn.Close()
		p.dconn = nil
	}
	p.dmu.Unlock()
	var err error
	if p.counted {
		_, err = p.client.dispatch(ctx, "decref", []any{p.token.ID}, nil)
	}
	if p.ownsClient {
		p.client.Close()
	}
	return err
}

// reduced returns RebuildProxy(ProxyClass, token, 'pickle', kwds) as
// Python's BaseProxy.__reduce__ does.
func (p *Proxy) reduced(authkey []byte) *pickle.Object {
	kw := pickle.NewDict()
	if authkey != nil {
		_ = kw.Set("authkey", reduction.AuthenticationString(authkey))
	}
	cls := pickle.Global{Module: "multiprocessing.managers", Name: p.pyType}
	if p.pyType == "AutoProxy" {
		ex := make(pickle.Tuple, len(p.exposed))
		for i, s := range p.exposed {
			ex[i] = s
		}
		_ = kw.Set("exposed", ex)
		cls = wire.GlobalAutoProxy
	}
	return &pickle.Object{Callable: wire.GlobalRebuildProxy, Args: pickle.Tuple{cls, p.token.pickled(), "pickle", kw}}
}

// MarshalPickle implements pickle.Marshaler: a proxy pickles as Python's
// proxies do outside spawning, RebuildProxy(cls, token, 'pickle', {}) with
// no authkey (the unpickling Python process uses its own
// current_process().authkey and increfs).
func (p *Proxy) MarshalPickle() (any, error) { return p.reduced(nil), nil }

// ReduceForSpawn implements process.SpawnReducer: handed to a child
// started with process.Start, the proxy pickles with the authkey, as
// Python's proxies do while spawning; the child rebuilds a working proxy
// without taking a reference of its own.
func (p *Proxy) ReduceForSpawn(*process.Spawning) (any, error) {
	return p.reduced(p.client.cfg.Authkey), nil
}

var (
	_ pickle.Marshaler     = (*Proxy)(nil)
	_ process.SpawnReducer = (*Proxy)(nil)
	_ pickle.Marshaler     = Token{}
)
