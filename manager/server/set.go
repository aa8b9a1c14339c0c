package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// setExposed is what Python 3.14's SetProxy (_BaseSetProxy) exposes
// (docs/spec.md#manager): the 'set' typeid is new in 3.14, and a 3.14
// client creates it with manager.set().
var setExposed = []string{"__and__", "__class_getitem__", "__contains__", "__iand__", "__ior__",
	"__isub__", "__iter__", "__ixor__", "__len__", "__or__", "__rand__",
	"__ror__", "__rsub__", "__rxor__", "__sub__", "__xor__",
	"__ge__", "__gt__", "__le__", "__lt__",
	"add", "clear", "copy", "difference", "difference_update", "discard",
	"intersection", "intersection_update", "isdisjoint", "issubset",
	"issuperset", "pop", "remove", "symmetric_difference",
	"symmetric_difference_update", "union", "update"}

var (
	globalNotImplemented = pickle.Global{Module: "builtins", Name: "NotImplemented"}
	globalIter           = pickle.Global{Module: "builtins", Name: "iter"}
	globalGenericAlias   = pickle.Global{Module: "types", Name: "GenericAlias"}
	globalSetType        = pickle.Global{Module: "builtins", Name: "set"}
)

// Set is a shared set served by a Go Server (SyncManager's "set", new in
// Python 3.14), with Python's operators and methods. Its items count
// against Config.MaxItems. It is safe for concurrent use.
type Set struct {
	mu   sync.Mutex
	s    *pickle.Set
	held heldItems
}

// NewSet returns a shared set holding items (an unhashable item is a
// TypeError, as in Python).
func NewSet(items []any) (*Set, error) {
	s := &Set{s: &pickle.Set{}}
	for _, it := range items {
		if err := addItem(s.s, it); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func addItem(s *pickle.Set, v any) error {
	if err := s.Add(v); err != nil {
		return wire.PyErr("TypeError", fmt.Sprintf("unhashable type: '%s'", typeName(v)))
	}
	return nil
}

// Exposed implements Object.
func (*Set) Exposed() []string { return setExposed }

// Value returns a copy of the items.
func (o *Set) Value() []any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.s.Items()
}

// PickleValue implements Valuer: a copy of the set.
func (o *Set) PickleValue() (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return copySet(o.s), nil
}

// Repr implements Reprer.
func (o *Set) Repr() string { return o.reprN(pickle.DefaultMaxRepr) }

func (o *Set) reprN(max int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return pickle.ReprOptions{MaxLen: max}.Repr(o.s)
}

func (o *Set) attach(ctx context.Context) error {
	return attachHeld(ctx, &o.mu, &o.held, func() int { return o.s.Len() })
}

func (o *Set) detach() { detachHeld(&o.mu, &o.held) }

// CallMethod implements Object.
func (o *Set) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	defer func() { o.held.settle(o.s.Len()) }()
	return setMethods.dispatch(ctx, o, method, args, kwargs)
}

func copySet(s *pickle.Set) *pickle.Set {
	c := &pickle.Set{}
	for v := range s.All() {
		_ = c.Add(v)
	}
	return c
}

// setOperand is the other operand of a set operator: a set or frozenset
// (ok false otherwise: the operator returns NotImplemented, as Python's).
func setOperand(v any) (*pickle.Set, bool) {
	switch x := v.(type) {
	case *pickle.Set:
		return x, true
	case *pickle.FrozenSet:
		s := &pickle.Set{}
		for it := range x.All() {
			_ = s.Add(it)
		}
		return s, true
	}
	return nil, false
}

// iterableSet is set(v) for a method argument (any iterable), materialized
// within the item bound of ctx.
func iterableSet(ctx context.Context, v any) (*pickle.Set, error) {
	if s, ok := setOperand(v); ok {
		return s, nil
	}
	items, err := iterableN(v, room(ctx, maxRange))
	if err != nil {
		return nil, err
	}
	s := &pickle.Set{}
	for _, it := range items {
		if err := addItem(s, it); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// The set algebra on pickle.Sets.
func setUnion(a, b *pickle.Set) *pickle.Set {
	c := copySet(a)
	for v := range b.All() {
		_ = c.Add(v)
	}
	return c
}

func setIntersection(a, b *pickle.Set) *pickle.Set {
	c := &pickle.Set{}
	for v := range a.All() {
		if b.Has(v) {
			_ = c.Add(v)
		}
	}
	return c
}

func setDifference(a, b *pickle.Set) *pickle.Set {
	c := &pickle.Set{}
	for v := range a.All() {
		if !b.Has(v) {
			_ = c.Add(v)
		}
	}
	return c
}

func setSymmetric(a, b *pickle.Set) *pickle.Set {
	c := setDifference(a, b)
	for v := range b.All() {
		if !a.Has(v) {
			_ = c.Add(v)
		}
	}
	return c
}

func isSubset(a, b *pickle.Set) bool {
	if a.Len() > b.Len() {
		return false
	}
	for v := range a.All() {
		if !b.Has(v) {
			return false
		}
	}
	return true
}

// replace makes o hold s, charging growth to the item bound first.
func (o *Set) replace(ctx context.Context, s *pickle.Set) error {
	if n := s.Len(); n > o.s.Len() {
		if err := o.held.resize(ctx, n); err != nil {
			return err
		}
	}
	o.s = s
	return nil
}

// operator is a binary operator: f(self, other) for a set operand, with
// the operands swapped for the reflected forms (__rsub__: other - self).
func operator(f func(a, b *pickle.Set) *pickle.Set, reflected bool) builtin[*Set] {
	return builtin[*Set]{params: value, required: 1, call: func(o *Set, p *params) (any, error) {
		other, ok := setOperand(p.vals[0])
		if !ok {
			return globalNotImplemented, nil
		}
		if reflected {
			return f(other, o.s), nil
		}
		return f(o.s, other), nil
	}}
}

// inPlace is an augmented assignment (s |= t): with a set operand it
// updates s and returns it, as Python's, which the client's SetProxy
// ignores; else NotImplemented.
func inPlace(f func(a, b *pickle.Set) *pickle.Set) builtin[*Set] {
	return builtin[*Set]{params: value, required: 1, call: func(o *Set, p *params) (any, error) {
		other, ok := setOperand(p.vals[0])
		if !ok {
			return globalNotImplemented, nil
		}
		if err := o.replace(p.ctx, f(o.s, other)); err != nil {
			return nil, err
		}
		return copySet(o.s), nil
	}}
}

// comparison is a rich comparison (subset order) with a set operand.
func comparison(f func(a, b *pickle.Set) bool) builtin[*Set] {
	return builtin[*Set]{params: value, required: 1, call: func(o *Set, p *params) (any, error) {
		other, ok := setOperand(p.vals[0])
		if !ok {
			return globalNotImplemented, nil
		}
		return f(o.s, other), nil
	}}
}

// variadic is a method taking *others (union, update, …): f folds each
// other (any iterable) into the running result; update stores it.
func variadic(f func(a, b *pickle.Set) *pickle.Set, update bool) builtin[*Set] {
	return builtin[*Set]{raw: true, call: func(o *Set, p *params) (any, error) {
		if p.kwargs.Len() > 0 {
			return nil, wire.PyErr("TypeError", p.fn+"() takes no keyword arguments")
		}
		res := o.s
		for _, a := range p.args {
			other, err := iterableSet(p.ctx, a)
			if err != nil {
				return nil, err
			}
			res = f(res, other)
		}
		if update {
			return nil, o.replace(p.ctx, res)
		}
		if res == o.s {
			res = copySet(res)
		}
		return res, nil
	}}
}

// unary is a method taking one iterable (issubset, symmetric_difference,
// …) as Python's set methods do.
func unary(f func(o *Set, ctx context.Context, other *pickle.Set) (any, error)) builtin[*Set] {
	return builtin[*Set]{params: value, required: 1, call: func(o *Set, p *params) (any, error) {
		other, err := iterableSet(p.ctx, p.vals[0])
		if err != nil {
			return nil, err
		}
		return f(o, p.ctx, other)
	}}
}

// setMethods are set's methods, as Python 3.14's SetProxy exposes them.
var setMethods = builtins[*Set]{
	"__len__":      {call: func(o *Set, _ *params) (any, error) { return o.s.Len(), nil }},
	"__contains__": {params: value, required: 1, call: func(o *Set, p *params) (any, error) { return o.s.Has(p.vals[0]), nil }},
	"__iter__": {call: func(o *Set, _ *params) (any, error) {
		// A set iterator pickles as iter(list): the client iterates a copy.
		return &pickle.Object{Callable: globalIter, Args: pickle.Tuple{o.s.Items()}}, nil
	}},
	"__class_getitem__": {params: []string{"item"}, required: 1, call: func(_ *Set, p *params) (any, error) {
		args, ok := p.vals[0].(pickle.Tuple)
		if !ok {
			args = pickle.Tuple{p.vals[0]}
		}
		return &pickle.Object{Callable: globalGenericAlias, Args: pickle.Tuple{globalSetType, args}}, nil
	}},
	"__and__":  operator(setIntersection, false),
	"__rand__": operator(setIntersection, true),
	"__or__":   operator(setUnion, false),
	"__ror__":  operator(setUnion, true),
	"__sub__":  operator(setDifference, false),
	"__rsub__": operator(setDifference, true),
	"__xor__":  operator(setSymmetric, false),
	"__rxor__": operator(setSymmetric, true),
	"__iand__": inPlace(setIntersection),
	"__ior__":  inPlace(setUnion),
	"__isub__": inPlace(setDifference),
	"__ixor__": inPlace(setSymmetric),
	"__le__":   comparison(isSubset),
	"__lt__":   comparison(func(a, b *pickle.Set) bool { return a.Len() < b.Len() && isSubset(a, b) }),
	"__ge__":   comparison(func(a, b *pickle.Set) bool { return isSubset(b, a) }),
	"__gt__":   comparison(func(a, b *pickle.Set) bool { return a.Len() > b.Len() && isSubset(b, a) }),
	"add": {params: []string{"object"}, required: 1, call: func(o *Set, p *params) (any, error) {
		if !o.s.Has(p.vals[0]) {
			if err := o.held.resize(p.ctx, o.s.Len()+1); err != nil {
				return nil, err
			}
		}
		return nil, addItem(o.s, p.vals[0])
	}},
	"clear": {call: func(o *Set, _ *params) (any, error) { o.s = &pickle.Set{}; return nil, nil }},
	"copy":  {call: func(o *Set, _ *params) (any, error) { return copySet(o.s), nil }},
	"discard": {params: []string{"object"}, required: 1, call: func(o *Set, p *params) (any, error) {
		o.s.Remove(p.vals[0])
		return nil, nil
	}},
	"remove": {params: []string{"object"}, required: 1, call: func(o *Set, p *params) (any, error) {
		if !o.s.Remove(p.vals[0]) {
			return nil, keyErr(p.vals[0])
		}
		return nil, nil
	}},
	"pop": {call: func(o *Set, _ *params) (any, error) {
		for v := range o.s.All() {
			o.s.Remove(v)
			return v, nil
		}
		return nil, keyErr("pop from an empty set")
	}},
	"union":                variadic(setUnion, false),
	"update":               variadic(setUnion, true),
	"intersection":         variadic(setIntersection, false),
	"intersection_update":  variadic(setIntersection, true),
	"difference":           variadic(setDifference, false),
	"difference_update":    variadic(setDifference, true),
	"symmetric_difference": unary(func(o *Set, _ context.Context, b *pickle.Set) (any, error) { return setSymmetric(o.s, b), nil }),
	"symmetric_difference_update": unary(func(o *Set, ctx context.Context, b *pickle.Set) (any, error) {
		return nil, o.replace(ctx, setSymmetric(o.s, b))
	}),
	"isdisjoint": unary(func(o *Set, _ context.Context, b *pickle.Set) (any, error) {
		return setIntersection(o.s, b).Len() == 0, nil
	}),
	"issubset":   unary(func(o *Set, _ context.Context, b *pickle.Set) (any, error) { return isSubset(o.s, b), nil }),
	"issuperset": unary(func(o *Set, _ context.Context, b *pickle.Set) (any, error) { return isSubset(b, o.s), nil }),
}

// setFactory is the set typeid: set(iterable=()).
func setFactory(ctx context.Context) Factory {
	return func(args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
		if kwargs.Len() > 0 {
			return nil, wire.PyErr("TypeError", "set() takes no keyword arguments")
		}
		p, err := bind("set", args, kwargs, []string{"iterable"}, 0)
		if err != nil {
			return nil, err
		}
		if !p.set[0] {
			return NewSet(nil)
		}
		items, err := iterableN(p.vals[0], room(ctx, maxRange))
		if err != nil {
			return nil, err
		}
		return NewSet(items)
	}
}
