package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// Object is a shared object served by a Go Server. Implementations must be
// safe for concurrent use: the server calls them from one goroutine per
// client connection. The ready-made objects (NewDict, NewList, NewQueue, …)
// and Methods implement it.
type Object interface {
	// Exposed lists the method names clients may call (Python's exposed).
	Exposed() []string
	// CallMethod runs method. A *pickle.PythonError (or *manager.Exception) result
	// error is sent to the client as that Python exception (#ERROR); other
	// errors as builtins.RuntimeError. ctx ends when the server closes;
	// caller identifies the client thread (one per connection), for
	// objects with ownership such as RLock.
	CallMethod(ctx context.Context, caller Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error)
}

// Caller identifies the client thread a call comes from: Python's server
// runs each client connection in its own thread, and thread-owned objects
// (RLock, Condition) compare callers.
type Caller interface{ callerID() uint64 }

type callerID uint64

func (c callerID) callerID() uint64 { return uint64(c) }

// Optional interfaces of an Object.
type (
	// ProxyMethods lists methods whose result is itself served as a new
	// shared object of the given typeid and returned to the client as a
	// proxy (Python's method_to_typeid), e.g. dict's __iter__ → "Iterator".
	// Such methods must return an Object.
	ProxyMethods interface {
		MethodToTypeID() map[string]string
	}
	// Valuer returns a picklable copy of the object, sent for #GETVALUE
	// (proxy._getvalue()).
	Valuer interface {
		PickleValue() (any, error)
	}
	// Reprer returns the object's repr(), used for __repr__/__str__ and
	// debug_info.
	Reprer interface {
		Repr() string
	}
)

// dropper is implemented by objects that hold resources beyond memory (a
// Pool's worker processes, an imap's pending jobs): drop is called, and
// must not block, when the server lets go of the object (its last
// reference is gone).
type dropper interface{ drop() }

// MethodFunc is one method of a Methods object.
type MethodFunc func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error)

// Methods is an Object made of Go functions, for custom typeids:
//
//	srv.Register("get_jobs", server.Methods{"count": func(...) (any, error) { ... }})
//
// The functions must be safe for concurrent use.
type Methods map[string]MethodFunc

// Exposed returns the method names, sorted.
func (m Methods) Exposed() []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// CallMethod calls the named function.
func (m Methods) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	f, ok := m[method]
	if !ok {
		return nil, errNoMethod
	}
	return f(ctx, args, kwargs)
}

// errNoMethod makes the server answer as Python does when getattr fails:
// the fallbacks (#GETVALUE, __repr__, __str__), else #TRACEBACK.
var errNoMethod = errors.New("no such method")

// builtin is one method of a ready-made shared object (Dict, List, …), an
// entry of its method table: Python's parameter names, how many of them
// are required, and the body, which dispatch calls with the arguments bound
// (so a wrong call gets Python's TypeError) and the object's lock held. A
// raw method binds its own arguments from p.args and p.kwargs (dict.update's
// *args/**kwargs, list.sort's keyword-only parameters). p.ctx is the call's
// context, which carries the server's item bound (methods that grow a
// container charge it).
type builtin[T any] struct {
	params   []string
	required int
	raw      bool
	call     func(o T, p *params) (any, error)
}

// builtins is a method table, the ready-made objects' counterpart of
// Methods.
type builtins[T any] map[string]builtin[T]

// dispatch binds the arguments of method and runs it on o; errNoMethod if
// the table has no such method.
func (t builtins[T]) dispatch(ctx context.Context, o T, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	m, ok := t[method]
	if !ok {
		return nil, errNoMethod
	}
	if m.raw {
		return m.call(o, &params{ctx: ctx, fn: method, args: args, kwargs: kwargs})
	}
	p, err := bind(method, args, kwargs, m.params, m.required)
	if err != nil {
		return nil, err
	}
	p.ctx = ctx
	return m.call(o, p)
}

// params binds positional and keyword arguments to parameter names like a
// Python signature, reporting TypeError for unknown or missing ones.
type params struct {
	// ctx is the call's context (set by dispatch).
	ctx  context.Context
	fn   string
	vals []any
	set  []bool
	// args and kwargs are the call's arguments as they came.
	args   pickle.Tuple
	kwargs *pickle.Dict
	// Storage of vals and set for the usual few parameters: a call binds
	// with one allocation.
	valsA [maxInline]any
	setA  [maxInline]bool
}

// maxInline is how many parameters params holds without more allocation.
const maxInline = 5

func bind(fn string, args pickle.Tuple, kwargs *pickle.Dict, names []string, required int) (*params, error) {
	p := &params{fn: fn, args: args, kwargs: kwargs}
	if len(names) <= maxInline {
		p.vals, p.set = p.valsA[:len(names)], p.setA[:len(names)]
	} else {
		p.vals, p.set = make([]any, len(names)), make([]bool, len(names))
	}
	if len(args) > len(names) {
		return nil, wire.PyErr("TypeError", fmt.Sprintf("%s() takes at most %d arguments (%d given)", fn, len(names), len(args)))
	}
	for i, a := range args {
		p.vals[i], p.set[i] = a, true
	}
	if kwargs != nil {
		for _, kv := range kwargs.Items() {
			k, _ := kv[0].(string)
			i := indexOf(names, k)
			if i < 0 {
				return nil, wire.PyErr("TypeError", fmt.Sprintf("%s() got an unexpected keyword argument '%s'", fn, k))
			}
			if p.set[i] {
				return nil, wire.PyErr("TypeError", fmt.Sprintf("%s() got multiple values for argument '%s'", fn, k))
			}
			p.vals[i], p.set[i] = kv[1], true
		}
	}
	for i := 0; i < required; i++ {
		if !p.set[i] {
			return nil, wire.PyErr("TypeError", fmt.Sprintf("%s() missing required argument '%s'", fn, names[i]))
		}
	}
	return p, nil
}

func indexOf(names []string, k string) int {
	for i, n := range names {
		if n == k {
			return i
		}
	}
	return -1
}

func (p *params) get(i int, def any) any {
	if p.set[i] {
		return p.vals[i]
	}
	return def
}

// toInt converts a Python int (or bool) argument.
func toInt(v any, what string) (int, error) {
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case int:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, wire.PyErr("TypeError", fmt.Sprintf("'%s' object cannot be interpreted as an integer", typeName(v))+what)
}

// toTimeout converts a timeout argument: nil means none (-1).
func toTimeout(v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return x, true, nil
	case int64:
		return float64(x), true, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	}
	return 0, false, wire.PyErr("TypeError", fmt.Sprintf("'%s' object cannot be interpreted as a timeout", typeName(v)))
}

// seconds converts a client's timeout in seconds to a Duration, saturating:
// converting an out-of-range float is implementation-defined in Go (on
// amd64 1e300 seconds becomes a negative Duration, an instant timeout).
// NaN is 0, as Python's Event/Condition/Barrier waits test "timeout > 0".
func seconds(t float64) time.Duration {
	const limit = float64(math.MaxInt64) / float64(time.Second)
	switch {
	case math.IsNaN(t):
		return 0
	case t >= limit:
		return math.MaxInt64
	case t <= -limit:
		return math.MinInt64
	}
	return time.Duration(t * float64(time.Second))
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) != 0
	case []any:
		return len(x) != 0
	case pickle.Tuple:
		return len(x) != 0
	case *pickle.Dict:
		return x.Len() != 0
	}
	return true
}
