package manager

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// RebuildOptions configure Rebuild.
type RebuildOptions struct {
	// Authkey is used when the pickled proxy carries none (Python: the
	// process's current_process().authkey).
	Authkey []byte
	// Inheriting is true for proxies received through spawn (the child
	// arguments): as in Python's RebuildProxy, no reference is taken, so
	// Close sends no decref; the parent's reference keeps the object alive.
	Inheriting bool
	// Options configure the client the proxy calls through.
	Options Options
}

// Rebuild turns a pickled proxy — RebuildProxy(cls, Token, 'pickle', kwds),
// as a Python process pickles a DictProxy, ListProxy, AutoProxy, … — into a
// Proxy with its own Client. Unless opts.Inheriting, it takes a reference
// (incref) as Python does when unpickling a proxy.
func Rebuild(ctx context.Context, v any, opts RebuildOptions) (*Proxy, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != globalRebuildProxy || len(o.Args) != 4 {
		return nil, fmt.Errorf("%w (%T)", ErrNotProxy, v)
	}
	cls, _ := o.Args[0].(pickle.Global)
	tok, err := tokenFrom(o.Args[1])
	if err != nil {
		return nil, err
	}
	if s, _ := o.Args[2].(string); s != "pickle" {
		return nil, fmt.Errorf("%w: serializer %v is not supported", ErrNotProxy, o.Args[2])
	}
	authkey := opts.Authkey
	var exposed []string
	incref := !opts.Inheriting
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
	c, err := opts.Options.newClient(network, address, authkey)
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

// FromChild rebuilds a proxy that a Python parent passed to this Go worker
// (a spawn argument, e.g. process.ChildProcess.Arg(i)): the pickled proxy
// carries the manager's authkey; the child's authkey is the fallback.
func FromChild(ctx context.Context, child *process.ChildProcess, v any) (*Proxy, error) {
	return Rebuild(ctx, v, RebuildOptions{Authkey: child.Authkey(), Inheriting: true})
}
