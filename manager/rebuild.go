package manager

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// Rebuild turns a pickled proxy — RebuildProxy(cls, Token, 'pickle', kwds),
// as a Python process pickles a DictProxy, ListProxy, AutoProxy, … — into a
// Proxy with its own Client. It takes a reference (incref) as Python does
// when unpickling a proxy. The authkey is the one the pickle carries, else
// nil (Config.Rebuild: Config.Dialer.Authkey, as Python falls back on
// current_process().authkey).
func Rebuild(ctx context.Context, v any) (*Proxy, error) { return Config{}.Rebuild(ctx, v) }

// Rebuild is the package-level Rebuild with these settings.
func (cfg Config) Rebuild(ctx context.Context, v any) (*Proxy, error) {
	return cfg.rebuild(ctx, v, false)
}

// rebuild is Rebuild; inheriting is true for proxies received through spawn
// (the child arguments): as in Python's RebuildProxy, no reference is
// taken, so Close sends no decref; the parent's reference keeps the object
// alive.
func (cfg Config) rebuild(ctx context.Context, v any, inheriting bool) (*Proxy, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != wire.GlobalRebuildProxy || len(o.Args) != 4 {
		return nil, fmt.Errorf("manager: %w: %T is not a pickled proxy", ErrBadState, v)
	}
	cls, _ := o.Args[0].(pickle.Global)
	tok, err := tokenFrom(o.Args[1])
	if err != nil {
		return nil, err
	}
	if s, _ := o.Args[2].(string); s != "pickle" {
		return nil, fmt.Errorf("manager: %w: serializer %v is not supported", ErrBadState, o.Args[2])
	}
	authkey := cfg.Dialer.Authkey
	var exposed []string
	incref := !inheriting
	if kw, ok := o.Args[3].(*pickle.Dict); ok {
		if a, ok := kw.Get("authkey"); ok {
			if b, ok := reduction.AuthkeyBytes(a); ok {
				authkey = b
			}
		}
		if e, ok := kw.Get("exposed"); ok {
			exposed = stringsOf(e)
		}
		if i, ok := kw.Get("incref"); ok && i == false {
			incref = false
		}
	}
	network, address, err := NetAddr(tok.Address)
	if err != nil {
		return nil, err
	}
	c, err := cfg.newClient(network, address, authkey)
	if err != nil {
		return nil, err
	}
	// Keep Python's address form (e.g. 'localhost' vs '127.0.0.1').
	c.pyAddr = tok.Address
	if incref {
		if _, err := c.dispatch(ctx, "incref", []any{tok.ID}, nil); err != nil {
			return nil, err
		}
	}
	p := c.newProxy(tok, exposed, incref)
	p.ownsClient = true
	if cls.Module == "multiprocessing.managers" && cls.Name != "" {
		p.pyType = cls.Name
	}
	return p, nil
}

// FromChild rebuilds a proxy that a spawn parent passed to this Go worker
// (a spawn argument, e.g. child.Arg(i)): the pickled proxy carries the
// manager's authkey; the child's authkey is the fallback. As in Python, the
// proxy takes no reference of its own.
func FromChild(ctx context.Context, child *process.ChildProcess, v any) (*Proxy, error) {
	return Config{}.FromChild(ctx, child, v)
}

// FromChild is the package-level FromChild with these settings
// (Dialer.Authkey is replaced by the child's authkey).
func (cfg Config) FromChild(ctx context.Context, child *process.ChildProcess, v any) (*Proxy, error) {
	cfg.Dialer.Authkey = child.Authkey()
	return cfg.rebuild(ctx, v, true)
}
