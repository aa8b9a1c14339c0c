package server

import (
	"fmt"
	"unsafe"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// A client that stores a proxy in a shared container (outer.append(inner))
// sends RebuildProxy(func, token, serializer, kwds), which the server keeps
// as it came. CPython's server rebuilds it into a proxy object instead, so
// str(outer) prints it as BaseProxy.__repr__ does:
// <ListProxy object, typeid 'list' at 0x…> (AutoProxy[Queue] for
// AutoProxy). reprValue prints the same, looking through lists, tuples and
// dicts down to the depth stashProxies looks; other values print as
// pickle.Repr prints them.

// maxProxyDepth is how deep reprValue and stashProxies look for proxies.
const maxProxyDepth = 8

// reprValue is Python's repr of a served container's value v within max
// bytes.
func reprValue(v any, max int) string {
	if !holdsProxy(v, 0) {
		return pickle.ReprOptions{MaxLen: max}.Repr(v)
	}
	r := newReprBuf(max)
	r.proxies(v, 0, map[unsafe.Pointer]bool{})
	return r.String()
}

// proxyRepr is BaseProxy.__repr__ of the proxy a RebuildProxy object
// rebuilds, or "" if o is not one.
func proxyRepr(o *pickle.Object) string {
	if o.Class() != wire.GlobalRebuildProxy || len(o.Args) != 4 {
		return ""
	}
	var tok manager.Token
	if err := tok.UnmarshalPickle(o.Args[1]); err != nil {
		return ""
	}
	name := "BaseProxy"
	if g, ok := o.Args[0].(pickle.Global); ok {
		name = g.Name
		if g == wire.GlobalAutoProxy {
			name = "AutoProxy[" + tok.TypeID + "]"
		}
	}
	return fmt.Sprintf("<%s object, typeid %s at %p>", name, pickle.Repr(tok.TypeID), o)
}

func holdsProxy(v any, depth int) bool {
	if depth > maxProxyDepth {
		return false
	}
	switch x := v.(type) {
	case *pickle.Object:
		return proxyRepr(x) != ""
	case []any:
		for _, e := range x {
			if holdsProxy(e, depth+1) {
				return true
			}
		}
	case pickle.Tuple:
		return holdsProxy([]any(x), depth)
	case *pickle.Dict:
		return holdsProxy(x.Values(), depth)
	}
	return false
}

// proxies writes v's repr with nested proxies printed as proxies; seen
// holds the containers being printed (a list inside itself prints [...],
// as in Python).
func (r *reprBuf) proxies(v any, depth int, seen map[unsafe.Pointer]bool) {
	if r.cut || depth > maxProxyDepth {
		r.val(v)
		return
	}
	switch x := v.(type) {
	case *pickle.Object:
		if s := proxyRepr(x); s != "" {
			r.lit(s)
			return
		}
	case []any:
		r.seq("[", "]", x, depth, seen, false)
		return
	case pickle.Tuple:
		r.seq("(", ")", x, depth, seen, len(x) == 1)
		return
	case *pickle.Dict:
		if seen[unsafe.Pointer(x)] {
			r.lit("{...}")
			return
		}
		seen[unsafe.Pointer(x)] = true
		r.lit("{")
		i := 0
		for k, e := range x.All() {
			if i > 0 {
				r.lit(", ")
			}
			i++
			r.val(k)
			r.lit(": ")
			r.proxies(e, depth+1, seen)
			if r.cut {
				break
			}
		}
		r.lit("}")
		delete(seen, unsafe.Pointer(x))
		return
	}
	r.val(v)
}

func (r *reprBuf) seq(open, close string, xs []any, depth int, seen map[unsafe.Pointer]bool, comma bool) {
	var key unsafe.Pointer
	if len(xs) > 0 {
		key = unsafe.Pointer(&xs[0])
		if seen[key] {
			r.lit(open + "..." + close)
			return
		}
		seen[key] = true
		defer delete(seen, key)
	}
	r.lit(open)
	for i, e := range xs {
		if i > 0 {
			r.lit(", ")
		}
		r.proxies(e, depth+1, seen)
		if r.cut {
			break
		}
	}
	if comma {
		r.lit(",")
	}
	r.lit(close)
}
