package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// Exposed method lists, as Python's proxy types declare them.
var (
	// dict and list: Python 3.8–3.13's DictProxy and ListProxy, plus what
	// 3.14's add (dict: __ior__ __or__ __ror__ __reversed__ fromkeys; list:
	// clear copy; docs/spec.md#manager). Older clients never call them.
	dictExposed = []string{"__contains__", "__delitem__", "__getitem__", "__ior__", "__iter__", "__len__",
		"__or__", "__reversed__", "__ror__",
		"__setitem__", "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"}
	listExposed = []string{"__add__", "__contains__", "__delitem__", "__getitem__", "__len__",
		"__mul__", "__reversed__", "__rmul__", "__setitem__", "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
		"reverse", "sort", "__imul__"}
	namespaceExposed = []string{"__getattribute__", "__setattr__", "__delattr__"}
	valueExposed     = []string{"get", "set"}
	arrayExposed     = []string{"__len__", "__getitem__", "__setitem__"}
)

func keyErr(k any) error { return wire.PyErr("KeyError", k) }

// ---- dict ----

// Dict is a shared dict served by a Go Server (SyncManager's "dict").
type Dict struct {
	mu   sync.Mutex
	d    *pickle.Dict
	held heldItems
	// resized counts the calls that changed the number of keys: a dict
	// iterator compares it to tell a dict whose keys were replaced from
	// an unchanged one (Python's iterators read the live table).
	resized uint64
}

// NewDict returns an empty shared dict.
func NewDict() *Dict { return &Dict{d: pickle.NewDict()} }

// Exposed implements Object.
func (*Dict) Exposed() []string { return dictExposed }

// MethodToTypeID implements ProxyMethods: __iter__ returns an Iterator.
func (*Dict) MethodToTypeID() map[string]string { return map[string]string{"__iter__": "Iterator"} }

// Value returns a copy of the contents.
func (o *Dict) Value() *pickle.Dict {
	o.mu.Lock()
	defer o.mu.Unlock()
	return copyDict(o.d)
}

// PickleValue implements Valuer.
func (o *Dict) PickleValue() (any, error) { return o.Value(), nil }

// Repr implements Reprer.
func (o *Dict) Repr() string { return o.reprN(pickle.DefaultMaxRepr) }

func (o *Dict) reprN(max int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return reprValue(o.d, max)
}

func copyDict(d *pickle.Dict) *pickle.Dict { return d.Clone() }

func setItem(d *pickle.Dict, k, v any) error {
	if err := d.Set(k, v); err != nil {
		return wire.PyErr("TypeError", fmt.Sprintf("unhashable type: '%s'", typeName(k)))
	}
	return nil
}

// update applies dict.update(other, **kw).
func updateDict(d *pickle.Dict, args pickle.Tuple, kwargs *pickle.Dict) error {
	if len(args) > 1 {
		return wire.PyErr("TypeError", fmt.Sprintf("update expected at most 1 argument, got %d", len(args)))
	}
	if len(args) == 1 {
		switch o := args[0].(type) {
		case *pickle.Dict:
			d.Update(o) // keys already hashed: no rehashing of shared keys
		case []any, pickle.Tuple:
			items := asItems(o)
			for i, it := range items {
				pair, ok := it.(pickle.Tuple)
				if !ok {
					if l, ok2 := it.([]any); ok2 {
						pair, ok = pickle.Tuple(l), true
					}
				}
				if !ok || len(pair) != 2 {
					return wire.PyErr("ValueError", fmt.Sprintf("dictionary update sequence element #%d has wrong length", i))
				}
				if err := setItem(d, pair[0], pair[1]); err != nil {
					return err
				}
			}
		case nil:
			return wire.PyErr("TypeError", "'NoneType' object is not iterable")
		default:
			return wire.PyErr("TypeError", fmt.Sprintf("'%s' object is not iterable", typeName(o)))
		}
	}
	if kwargs != nil {
		for _, kv := range kwargs.Items() {
			_ = d.Set(kv[0], kv[1])
		}
	}
	return nil
}

// CallMethod implements Object.
func (o *Dict) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.d.Len()
	defer func() {
		m := o.d.Len()
		if m != n {
			o.resized++
		}
		o.held.settle(m)
	}()
	return dictMethods.dispatch(ctx, o, method, args, kwargs)
}

// grow charges n more keys to the server's item bound before a method that
// may add them runs (CallMethod settles the charge to the size it leaves).
func (o *Dict) grow(ctx context.Context, n int) error { return o.held.resize(ctx, o.d.Len()+n) }

// dictMethods are dict's methods (as exposed by Python's DictProxy).
var dictMethods = builtins[*Dict]{
	"__contains__": {params: []string{"key"}, required: 1, call: (*Dict).contains},
	"__getitem__":  {params: []string{"key"}, required: 1, call: (*Dict).getItem},
	"__setitem__":  {params: []string{"key", "value"}, required: 2, call: (*Dict).setItem},
	"__delitem__":  {params: []string{"key"}, required: 1, call: (*Dict).delItem},
	"__len__":      {call: func(o *Dict, _ *params) (any, error) { return o.d.Len(), nil }},
	"__iter__":     {call: func(o *Dict, _ *params) (any, error) { return o.iter(), nil }},
	"clear":        {call: func(o *Dict, _ *params) (any, error) { o.d = pickle.NewDict(); return nil, nil }},
	"copy":         {call: func(o *Dict, _ *params) (any, error) { return copyDict(o.d), nil }},
	"get":          {params: []string{"key", "default"}, required: 1, call: (*Dict).get},
	"items":        {call: (*Dict).items},
	"keys":         {call: func(o *Dict, _ *params) (any, error) { return o.d.Keys(), nil }},
	"values":       {call: func(o *Dict, _ *params) (any, error) { return o.d.Values(), nil }},
	"pop":          {params: []string{"key", "default"}, required: 1, call: (*Dict).pop},
	"popitem":      {call: (*Dict).popItem},
	"setdefault":   {params: []string{"key", "default"}, required: 1, call: (*Dict).setDefault},
	"update":       {raw: true, call: (*Dict).update},
	// Python 3.14's additions.
	"__ior__":      {params: value, required: 1, call: (*Dict).ior},
	"__or__":       {params: value, required: 1, call: func(o *Dict, p *params) (any, error) { return o.or(p, false) }},
	"__ror__":      {params: value, required: 1, call: func(o *Dict, p *params) (any, error) { return o.or(p, true) }},
	"__reversed__": {call: (*Dict).reversed},
	"fromkeys":     {params: []string{"iterable", "value"}, required: 1, call: (*Dict).fromKeys},
}

// ior is d |= other (any mapping or iterable of pairs, as update): it
// returns the dict, as Python's does (3.14's DictProxy ignores it).
func (o *Dict) ior(p *params) (any, error) {
	if _, err := o.update(&params{ctx: p.ctx, fn: "update", args: pickle.Tuple{p.vals[0]}}); err != nil {
		return nil, err
	}
	return copyDict(o.d), nil
}

// or is d | other (other | d when reflected): a new dict; NotImplemented
// unless other is a dict, as Python's.
func (o *Dict) or(p *params, reflected bool) (any, error) {
	other, ok := p.vals[0].(*pickle.Dict)
	if !ok {
		return globalNotImplemented, nil
	}
	a, b := o.d, other
	if reflected {
		a, b = other, o.d
	}
	if a.Len()+b.Len() > room(p.ctx, maxRange) {
		return nil, wire.PyErr("MemoryError")
	}
	out := copyDict(a)
	out.Update(b)
	return out, nil
}

// reversed is reversed(d): a key iterator, which pickles as iter(list).
func (o *Dict) reversed(*params) (any, error) {
	keys := o.d.Keys()
	slices.Reverse(keys)
	return &pickle.Object{Callable: globalIter, Args: pickle.Tuple{keys}}, nil
}

// fromKeys is dict.fromkeys(iterable, value=None), a new dict.
func (o *Dict) fromKeys(p *params) (any, error) {
	keys, err := iterableN(p.vals[0], room(p.ctx, maxRange))
	if err != nil {
		return nil, err
	}
	out := pickle.NewDict()
	v := p.get(1, nil)
	for _, k := range keys {
		if err := setItem(out, k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o *Dict) contains(p *params) (any, error) {
	_, ok := o.d.Get(p.vals[0])
	return ok, nil
}

func (o *Dict) getItem(p *params) (any, error) {
	v, ok := o.d.Get(p.vals[0])
	if !ok {
		return nil, keyErr(p.vals[0])
	}
	return v, nil
}

func (o *Dict) setItem(p *params) (any, error) {
	if err := o.grow(p.ctx, 1); err != nil {
		return nil, err
	}
	return nil, setItem(o.d, p.vals[0], p.vals[1])
}

func (o *Dict) delItem(p *params) (any, error) {
	if !o.d.Delete(p.vals[0]) {
		return nil, keyErr(p.vals[0])
	}
	return nil, nil
}

func (o *Dict) get(p *params) (any, error) {
	if v, ok := o.d.Get(p.vals[0]); ok {
		return v, nil
	}
	return p.get(1, nil), nil
}

func (o *Dict) items(*params) (any, error) {
	out := make([]any, 0, o.d.Len())
	for _, kv := range o.d.Items() {
		out = append(out, pickle.Tuple{kv[0], kv[1]})
	}
	return out, nil
}

func (o *Dict) pop(p *params) (any, error) {
	if v, ok := o.d.Get(p.vals[0]); ok {
		o.d.Delete(p.vals[0])
		return v, nil
	}
	if p.set[1] {
		return p.vals[1], nil
	}
	return nil, keyErr(p.vals[0])
}

func (o *Dict) popItem(*params) (any, error) {
	items := o.d.Items()
	if len(items) == 0 {
		return nil, keyErr("popitem(): dictionary is empty")
	}
	last := items[len(items)-1]
	o.d.Delete(last[0])
	return pickle.Tuple{last[0], last[1]}, nil
}

func (o *Dict) setDefault(p *params) (any, error) {
	if v, ok := o.d.Get(p.vals[0]); ok {
		return v, nil
	}
	if err := o.grow(p.ctx, 1); err != nil {
		return nil, err
	}
	v := p.get(1, nil)
	return v, setItem(o.d, p.vals[0], v)
}

// update is dict.update(other, **kw); the keys it may add are charged to
// the item bound first.
func (o *Dict) update(p *params) (any, error) {
	n := 0
	if len(p.args) == 1 {
		switch a := p.args[0].(type) {
		case *pickle.Dict:
			n = a.Len()
		case []any:
			n = len(a)
		case pickle.Tuple:
			n = len(a)
		}
	}
	if err := o.grow(p.ctx, n+p.kwargs.Len()); err != nil {
		return nil, err
	}
	return nil, updateDict(o.d, p.args, p.kwargs)
}

// ---- list ----

// List is a shared list served by a Go Server (SyncManager's "list").
type List struct {
	mu    sync.Mutex
	items []any
	held  heldItems
}

// NewList returns a shared list holding a copy of items.
func NewList(items []any) *List { return &List{items: slices.Clone(items)} }

// Exposed implements Object.
func (*List) Exposed() []string { return listExposed }

// Value returns a copy of the items.
func (l *List) Value() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// PickleValue implements Valuer.
func (l *List) PickleValue() (any, error) { return l.Value(), nil }

// Repr implements Reprer.
func (l *List) Repr() string { return l.reprN(pickle.DefaultMaxRepr) }

func (l *List) reprN(max int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return reprValue(l.items, max)
}

// iterableN is list(v), materializing at most limit items from a range.
func iterableN(v any, limit int) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case pickle.Tuple:
		return x, nil
	case string:
		var out []any
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case []byte:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = int64(c)
		}
		return out, nil
	case *pickle.Dict:
		return x.Keys(), nil
	case *pickle.Set:
		return x.Items(), nil
	case *pickle.FrozenSet:
		return x.Items(), nil
	case *pickle.Object:
		if x.Class() == (pickle.Global{Module: "builtins", Name: "range"}) {
			return rangeItems(x.Args, limit)
		}
	}
	return nil, wire.PyErr("TypeError", fmt.Sprintf("'%s' object is not iterable", typeName(v)))
}

// index normalizes a Python index for a sequence of length n.
func seqIndex(v any, n int, what string) (int, error) {
	i, err := toInt(v, "")
	if err != nil {
		return 0, wire.PyErr("TypeError", fmt.Sprintf("list indices must be integers or slices, not %s", typeName(v)))
	}
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, wire.PyErr("IndexError", what)
	}
	return i, nil
}

// sliceIndices is Python's slice.indices(n); ok is false if v is not a slice.
func sliceIndices(v any, n int) (start, stop, step int, ok bool, err error) {
	o, isObj := v.(*pickle.Object)
	if !isObj || o.Class() != (pickle.Global{Module: "builtins", Name: "slice"}) || len(o.Args) != 3 {
		return 0, 0, 0, false, nil
	}
	step = 1
	if o.Args[2] != nil {
		if step, err = toInt(o.Args[2], ""); err != nil {
			return
		}
		if step == 0 {
			return 0, 0, 0, true, wire.PyErr("ValueError", "slice step cannot be zero")
		}
	}
	lower, upper := 0, n
	if step < 0 {
		lower, upper = -1, n-1
	}
	conv := func(x any, def int) (int, error) {
		if x == nil {
			return def, nil
		}
		i, err := toInt(x, "")
		if err != nil {
			return 0, err
		}
		if i < 0 {
			i += n
			if i < lower {
				i = lower
			}
		} else if i > upper {
			i = upper
		}
		return i, nil
	}
	if step < 0 {
		start, err = conv(o.Args[0], upper)
		if err == nil {
			stop, err = conv(o.Args[1], lower)
		}
	} else {
		start, err = conv(o.Args[0], lower)
		if err == nil {
			stop, err = conv(o.Args[1], upper)
		}
	}
	return start, stop, step, true, err
}

// sliceSelect lists the indices of a slice normalized by sliceIndices.
// It counts as Python's PySlice_AdjustIndices does rather than stepping
// past stop: start+step overflows for a client's huge step.
func sliceSelect(n, start, stop, step int) []int {
	var count uint
	switch {
	case step > 0 && start < stop:
		count = uint(stop-start-1)/uint(step) + 1
	case step < 0 && stop < start:
		count = uint(start-stop-1)/(-uint(step)) + 1 // -uint: step may be MinInt
	}
	idx := make([]int, count) // count <= n+1: start and stop are clamped
	for k := range idx {
		idx[k] = start + k*step
	}
	return idx
}

// CallMethod implements Object.
func (l *List) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() { l.held.settle(len(l.items)) }()
	return listMethods.dispatch(ctx, l, method, args, kwargs)
}

// grow charges n more items to the server's item bound before they are
// added (CallMethod settles the charge to the size the call leaves).
func (l *List) grow(ctx context.Context, n int) error { return l.held.resize(ctx, len(l.items)+n) }

// value is the one parameter of most list methods.
var value = []string{"value"}

// listMethods are list's methods, those Python 3.8–3.13's ListProxy
// exposes (its __iadd__ calls extend) and 3.14's clear and copy.
var listMethods = builtins[*List]{
	"append":       {params: value, required: 1, call: (*List).append},
	"extend":       {params: value, required: 1, call: (*List).extend},
	"__len__":      {call: func(l *List, _ *params) (any, error) { return len(l.items), nil }},
	"__contains__": {params: value, required: 1, call: (*List).contains},
	"count":        {params: value, required: 1, call: (*List).count},
	"index":        {params: []string{"value", "start", "stop"}, required: 1, call: (*List).index},
	"insert":       {params: []string{"index", "object"}, required: 2, call: (*List).insert},
	"pop":          {params: []string{"index"}, call: (*List).pop},
	"remove":       {params: value, required: 1, call: (*List).remove},
	"reverse":      {call: func(l *List, _ *params) (any, error) { slices.Reverse(l.items); return nil, nil }},
	"sort":         {raw: true, call: (*List).sort},
	"__getitem__":  {params: value, required: 1, call: (*List).getItem},
	"__setitem__":  {params: []string{"key", "value"}, required: 2, call: (*List).setItem},
	"__delitem__":  {params: value, required: 1, call: (*List).delItem},
	"__add__":      {params: value, required: 1, call: (*List).add},
	"__mul__":      {params: value, required: 1, call: (*List).mul},
	"__rmul__":     {params: value, required: 1, call: (*List).mul},
	"__imul__":     {params: value, required: 1, call: (*List).imul},
	"__reversed__": {call: (*List).reversed},
	// Python 3.14's additions.
	"clear": {call: func(l *List, _ *params) (any, error) { l.items = nil; return nil, nil }},
	"copy":  {call: func(l *List, _ *params) (any, error) { return slices.Clone(l.items), nil }},
}

func (l *List) append(p *params) (any, error) {
	if err := l.grow(p.ctx, 1); err != nil {
		return nil, err
	}
	l.items = append(l.items, p.vals[0])
	return nil, nil
}

func (l *List) extend(p *params) (any, error) {
	more, err := iterableN(p.vals[0], room(p.ctx, maxRange))
	if err != nil {
		return nil, err
	}
	if err := l.grow(p.ctx, len(more)); err != nil {
		return nil, err
	}
	l.items = append(l.items, more...)
	return nil, nil
}

// The comparisons below use one pickle.Comparer per call: values shared
// among the items are compared once, not once per path to them.

func (l *List) contains(p *params) (any, error) {
	var c pickle.Comparer
	return slices.ContainsFunc(l.items, func(e any) bool { return c.Equal(e, p.vals[0]) }), nil
}

func (l *List) count(p *params) (any, error) {
	n := 0
	var c pickle.Comparer
	for _, e := range l.items {
		if c.Equal(e, p.vals[0]) {
			n++
		}
	}
	return n, nil
}

func (l *List) index(p *params) (any, error) {
	start, stop := 0, len(l.items)
	if s, _, _, _, _ := sliceIndices(manager.Slice(p.get(1, nil), p.get(2, nil), nil), len(l.items)); p.set[1] {
		start = s
	}
	if p.set[2] {
		_, e, _, _, _ := sliceIndices(manager.Slice(p.get(1, nil), p.get(2, nil), nil), len(l.items))
		stop = e
	}
	var c pickle.Comparer
	for i := start; i < stop; i++ {
		if c.Equal(l.items[i], p.vals[0]) {
			return i, nil
		}
	}
	return nil, wire.PyErr("ValueError", pickle.Repr(p.vals[0])+" is not in list")
}

func (l *List) insert(p *params) (any, error) {
	i, err := toInt(p.vals[0], "")
	if err != nil {
		return nil, err
	}
	n := len(l.items)
	if i < 0 {
		i = max(i+n, 0)
	}
	i = min(i, n)
	if err := l.grow(p.ctx, 1); err != nil {
		return nil, err
	}
	l.items = slices.Insert(l.items, i, p.vals[1])
	return nil, nil
}

func (l *List) pop(p *params) (any, error) {
	if len(l.items) == 0 {
		return nil, wire.PyErr("IndexError", "pop from empty list")
	}
	i, err := seqIndex(p.get(0, int64(-1)), len(l.items), "pop index out of range")
	if err != nil {
		return nil, err
	}
	v := l.items[i]
	l.items = slices.Delete(l.items, i, i+1)
	return v, nil
}

func (l *List) remove(p *params) (any, error) {
	var c pickle.Comparer
	i := slices.IndexFunc(l.items, func(e any) bool { return c.Equal(e, p.vals[0]) })
	if i < 0 {
		return nil, wire.PyErr("ValueError", "list.remove(x): x not in list")
	}
	l.items = slices.Delete(l.items, i, i+1)
	return nil, nil
}

// sort is list.sort(*, key=None, reverse=False): keyword-only parameters.
func (l *List) sort(raw *params) (any, error) {
	if len(raw.args) > 0 {
		return nil, wire.PyErr("TypeError", "sort() takes no positional arguments")
	}
	p, err := bind(raw.fn, nil, raw.kwargs, []string{"key", "reverse"}, 0)
	if err != nil {
		return nil, err
	}
	if p.get(0, nil) != nil {
		return nil, wire.PyErr("TypeError", "sort(key=...) is not supported by a Go-hosted list")
	}
	c := slices.Clone(l.items)
	if err := sortValues(c, truthy(p.get(1, false))); err != nil {
		return nil, err
	}
	l.items = c
	return nil, nil
}

func (l *List) getItem(p *params) (any, error) {
	if start, stop, step, ok, err := sliceIndices(p.vals[0], len(l.items)); ok || err != nil {
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, i := range sliceSelect(len(l.items), start, stop, step) {
			out = append(out, l.items[i])
		}
		return out, nil
	}
	i, err := seqIndex(p.vals[0], len(l.items), "list index out of range")
	if err != nil {
		return nil, err
	}
	return l.items[i], nil
}

func (l *List) setItem(p *params) (any, error) {
	if start, stop, step, ok, err := sliceIndices(p.vals[0], len(l.items)); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return nil, l.setSlice(p.ctx, start, stop, step, p.vals[1])
	}
	i, err := seqIndex(p.vals[0], len(l.items), "list assignment index out of range")
	if err != nil {
		return nil, err
	}
	l.items[i] = p.vals[1]
	return nil, nil
}

// setSlice is l[start:stop:step] = v; the items it adds are charged to the
// item bound of ctx first.
func (l *List) setSlice(ctx context.Context, start, stop, step int, v any) error {
	repl, err := iterableN(v, room(ctx, maxRange))
	if err != nil {
		return wire.PyErr("TypeError", "can only assign an iterable")
	}
	if step != 1 {
		idx := sliceSelect(len(l.items), start, stop, step)
		if len(idx) != len(repl) {
			return wire.PyErr("ValueError", fmt.Sprintf("attempt to assign sequence of size %d to extended slice of size %d", len(repl), len(idx)))
		}
		for k, i := range idx {
			l.items[i] = repl[k]
		}
		return nil
	}
	stop = max(stop, start)
	if err := l.grow(ctx, len(repl)-(stop-start)); err != nil {
		return err
	}
	l.items = slices.Replace(l.items, start, stop, slices.Clone(repl)...)
	return nil
}

func (l *List) delItem(p *params) (any, error) {
	if start, stop, step, ok, err := sliceIndices(p.vals[0], len(l.items)); ok || err != nil {
		if err != nil {
			return nil, err
		}
		del := map[int]bool{}
		for _, i := range sliceSelect(len(l.items), start, stop, step) {
			del[i] = true
		}
		out := l.items[:0:0]
		for i, e := range l.items {
			if !del[i] {
				out = append(out, e)
			}
		}
		l.items = out
		return nil, nil
	}
	i, err := seqIndex(p.vals[0], len(l.items), "list assignment index out of range")
	if err != nil {
		return nil, err
	}
	l.items = slices.Delete(l.items, i, i+1)
	return nil, nil
}

func (l *List) add(p *params) (any, error) {
	other, ok := p.vals[0].([]any)
	if !ok {
		return nil, wire.PyErr("TypeError", fmt.Sprintf("can only concatenate list (not \"%s\") to list", typeName(p.vals[0])))
	}
	if len(l.items)+len(other) > room(p.ctx, maxRepeat) {
		return nil, wire.PyErr("MemoryError")
	}
	return append(slices.Clone(l.items), other...), nil
}

// repeats is the n of l * n (negative: 0), within the bounds: the product
// counts against the server's item bound (held by the list for *=, in
// transit for *).
func (l *List) repeats(p *params) (int, error) {
	n, err := toInt(p.vals[0], "")
	if err != nil {
		return 0, wire.PyErr("TypeError", fmt.Sprintf("can't multiply sequence by non-int of type '%s'", typeName(p.vals[0])))
	}
	if n < 0 || len(l.items) == 0 {
		n = 0
	}
	// Divide rather than multiply: len*n can overflow for a client's n.
	if n > room(p.ctx, maxRepeat)/max(len(l.items), 1) {
		return 0, wire.PyErr("MemoryError")
	}
	return n, nil
}

// repeated is the items repeated n times, in a new slice.
func (l *List) repeated(n int) []any {
	out := make([]any, 0, len(l.items)*n)
	for k := 0; k < n; k++ {
		out = append(out, l.items...)
	}
	return out
}

// mul is l * n (and n * l): a new list.
func (l *List) mul(p *params) (any, error) {
	n, err := l.repeats(p)
	if err != nil {
		return nil, err
	}
	return l.repeated(n), nil
}

// imul is l *= n.
func (l *List) imul(p *params) (any, error) {
	n, err := l.repeats(p)
	if err != nil {
		return nil, err
	}
	if err := l.grow(p.ctx, len(l.items)*n-len(l.items)); err != nil {
		return nil, err
	}
	l.items = l.repeated(n)
	return slices.Clone(l.items), nil
}

func (l *List) reversed(*params) (any, error) {
	out := slices.Clone(l.items)
	slices.Reverse(out)
	return out, nil
}

// ---- Namespace ----

var globalNamespace = pickle.Global{Module: "multiprocessing.managers", Name: "Namespace"}

// Namespace is a shared attribute bag (SyncManager's "Namespace").
type Namespace struct {
	mu    sync.Mutex
	attrs *pickle.Dict
}

// NewNamespace returns a Namespace with the given attributes.
func NewNamespace(attrs map[string]any) *Namespace {
	n := &Namespace{attrs: pickle.NewDict()}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		_ = n.attrs.Set(k, attrs[k])
	}
	return n
}

// Exposed implements Object.
func (*Namespace) Exposed() []string { return namespaceExposed }

// PickleValue implements Valuer: a multiprocessing.managers.Namespace.
func (n *Namespace) PickleValue() (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &pickle.Object{Callable: globalNamespace, NewObj: true, Args: pickle.Tuple{}, State: copyDict(n.attrs)}, nil
}

// Repr implements Reprer: Namespace(a=1, b='x').
func (n *Namespace) Repr() string { return n.reprN(pickle.DefaultMaxRepr) }

func (n *Namespace) reprN(max int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var names []string
	for k := range n.attrs.All() {
		if s, _ := k.(string); !strings.HasPrefix(s, "_") {
			names = append(names, s)
		}
	}
	sort.Strings(names)
	r := newReprBuf(max)
	r.lit("Namespace(")
	for i, k := range names {
		if i > 0 {
			r.lit(", ")
		}
		v, _ := n.attrs.Get(k)
		r.lit(k + "=")
		r.val(v)
	}
	r.lit(")")
	return r.String()
}

// CallMethod implements Object.
func (n *Namespace) CallMethod(_ context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := []string{"name"}
	if method == "__setattr__" {
		names = []string{"name", "value"}
	}
	p, err := bind(method, args, kwargs, names, len(names))
	if err != nil {
		return nil, err
	}
	name, ok := p.vals[0].(string)
	if !ok {
		return nil, wire.PyErr("TypeError", fmt.Sprintf("attribute name must be string, not '%s'", typeName(p.vals[0])))
	}
	switch method {
	case "__getattribute__":
		if v, ok := n.attrs.Get(name); ok {
			return v, nil
		}
		return nil, wire.PyErr("AttributeError", fmt.Sprintf("'Namespace' object has no attribute '%s'", name))
	case "__setattr__":
		return nil, n.attrs.Set(name, p.vals[1])
	case "__delattr__":
		if !n.attrs.Delete(name) {
			return nil, wire.PyErr("AttributeError", name)
		}
		return nil, nil
	}
	return nil, errNoMethod
}

// ---- Value ----

var globalValue = pickle.Global{Module: "multiprocessing.managers", Name: "Value"}

// Value is a shared managers.Value(typecode, value).
type Value struct {
	mu       sync.Mutex
	typecode any
	value    any
}

// NewValue returns a Value.
func NewValue(typecode string, v any) *Value { return &Value{typecode: typecode, value: v} }

// Exposed implements Object.
func (*Value) Exposed() []string { return valueExposed }

// Get returns the value.
func (v *Value) Get() any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.value
}

// PickleValue implements Valuer: a multiprocessing.managers.Value.
func (v *Value) PickleValue() (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := pickle.NewDict()
	_ = st.Set("_typecode", v.typecode)
	_ = st.Set("_value", v.value)
	return &pickle.Object{Callable: globalValue, NewObj: true, Args: pickle.Tuple{}, State: st}, nil
}

// Repr implements Reprer: Value('i', 0).
func (v *Value) Repr() string { return v.reprN(pickle.DefaultMaxRepr) }

func (v *Value) reprN(max int) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := newReprBuf(max)
	r.lit("Value(")
	r.val(v.typecode)
	r.lit(", ")
	r.val(v.value)
	r.lit(")")
	return r.String()
}

// CallMethod implements Object.
func (v *Value) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return valueMethods.dispatch(ctx, v, method, args, kwargs)
}

// valueMethods are managers.Value's methods.
var valueMethods = builtins[*Value]{
	"get": {call: func(v *Value, _ *params) (any, error) { return v.value, nil }},
	"set": {params: value, required: 1, call: func(v *Value, p *params) (any, error) { v.value = p.vals[0]; return nil, nil }},
}

// ---- Array ----

// Array is a shared array.array (SyncManager's "Array").
type Array struct {
	mu       sync.Mutex
	typecode string
	items    []any
	held     heldItems
}

// NewArray returns an array.array(typecode, items), checking each item as
// Python does.
func NewArray(typecode string, items []any) (*Array, error) {
	if _, ok := wire.ArraySizes[typecode]; !ok {
		return nil, wire.PyErr("ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)")
	}
	a := &Array{typecode: typecode, items: make([]any, len(items))}
	for i, it := range items {
		v, err := a.check(it)
		if err != nil {
			return nil, err
		}
		a.items[i] = v
	}
	return a, nil
}

var arrayRanges = map[string][2]*big.Int{}

func init() {
	r := func(lo, hi int64) [2]*big.Int { return [2]*big.Int{big.NewInt(lo), big.NewInt(hi)} }
	arrayRanges["b"] = r(math.MinInt8, math.MaxInt8)
	arrayRanges["B"] = r(0, math.MaxUint8)
	arrayRanges["h"] = r(math.MinInt16, math.MaxInt16)
	arrayRanges["H"] = r(0, math.MaxUint16)
	arrayRanges["i"] = r(math.MinInt32, math.MaxInt32)
	arrayRanges["I"] = r(0, math.MaxUint32)
	arrayRanges["l"] = r(math.MinInt64, math.MaxInt64)
	arrayRanges["q"] = r(math.MinInt64, math.MaxInt64)
	arrayRanges["L"] = [2]*big.Int{big.NewInt(0), new(big.Int).SetUint64(math.MaxUint64)}
	arrayRanges["Q"] = arrayRanges["L"]
}

func (a *Array) check(v any) (any, error) {
	switch a.typecode {
	case "f", "d":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		}
		return nil, wire.PyErr("TypeError", fmt.Sprintf("must be real number, not %s", typeName(v)))
	case "u":
		if s, ok := v.(string); ok && len([]rune(s)) == 1 {
			return s, nil
		}
		return nil, wire.PyErr("TypeError", "array item must be unicode character")
	}
	var n *big.Int
	switch x := v.(type) {
	case int64:
		n = big.NewInt(x)
	case *big.Int:
		n = x
	case bool:
		n = big.NewInt(0)
		if x {
			n = big.NewInt(1)
		}
	default:
		return nil, wire.PyErr("TypeError", fmt.Sprintf("'%s' object cannot be interpreted as an integer", typeName(v)))
	}
	r := arrayRanges[a.typecode]
	if n.Cmp(r[0]) < 0 || n.Cmp(r[1]) > 0 {
		return nil, wire.PyErr("OverflowError", "array item out of range for typecode "+a.typecode)
	}
	if n.IsInt64() {
		return n.Int64(), nil
	}
	return n, nil
}

// Exposed implements Object.
func (*Array) Exposed() []string { return arrayExposed }

// PickleValue implements Valuer: REDUCE(array.array, (typecode, bytes)),
// multiprocessing's reduction of arrays.
func (a *Array) PickleValue() (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reduced(a.items), nil
}

func (a *Array) reduced(items []any) *pickle.Object {
	size := wire.ArraySizes[a.typecode]
	b := make([]byte, len(items)*size)
	le := binary.LittleEndian
	for i, it := range items {
		c := b[i*size : (i+1)*size]
		switch a.typecode {
		case "f":
			le.PutUint32(c, math.Float32bits(float32(it.(float64))))
		case "d":
			le.PutUint64(c, math.Float64bits(it.(float64)))
		case "u":
			le.PutUint32(c, uint32([]rune(it.(string))[0]))
		default:
			var u uint64
			switch x := it.(type) {
			case int64:
				u = uint64(x)
			case *big.Int:
				u = x.Uint64()
			}
			for k := 0; k < size; k++ {
				c[k] = byte(u >> (8 * k))
			}
		}
	}
	return &pickle.Object{Callable: pickle.Global{Module: "array", Name: "array"}, Args: pickle.Tuple{a.typecode, b}}
}

// Repr implements Reprer: array('i', [1, 2]).
func (a *Array) Repr() string { return a.reprN(pickle.DefaultMaxRepr) }

func (a *Array) reprN(max int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.items) == 0 {
		return "array('" + a.typecode + "')"
	}
	r := newReprBuf(max)
	r.lit("array('" + a.typecode + "', ")
	r.val(a.items)
	r.lit(")")
	return r.String()
}

// CallMethod implements Object.
func (a *Array) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return arrayMethods.dispatch(ctx, a, method, args, kwargs)
}

// arrayMethods are array.array's methods (as exposed by ArrayProxy).
var arrayMethods = builtins[*Array]{
	"__len__":     {call: func(a *Array, _ *params) (any, error) { return len(a.items), nil }},
	"__getitem__": {params: []string{"key"}, required: 1, call: (*Array).getItem},
	"__setitem__": {params: []string{"key", "value"}, required: 2, call: (*Array).setItem},
}

func (a *Array) getItem(p *params) (any, error) {
	if start, stop, step, ok, err := sliceIndices(p.vals[0], len(a.items)); ok || err != nil {
		if err != nil {
			return nil, err
		}
		var out []any
		for _, i := range sliceSelect(len(a.items), start, stop, step) {
			out = append(out, a.items[i])
		}
		return a.reduced(out), nil
	}
	i, err := seqIndex(p.vals[0], len(a.items), "array index out of range")
	if err != nil {
		return nil, err
	}
	return a.items[i], nil
}

func (a *Array) setItem(p *params) (any, error) {
	i, err := seqIndex(p.vals[0], len(a.items), "array assignment index out of range")
	if err != nil {
		return nil, err
	}
	v, err := a.check(p.vals[1])
	if err != nil {
		return nil, err
	}
	a.items[i] = v
	return nil, nil
}

// maxRepeat bounds the items of a list repeated by a client (list * n):
// more is a MemoryError, as it would soon be in the client's Python.
const maxRepeat = 1 << 26

// maxRange bounds the items materialized from a pickled range().
const maxRange = 1 << 24

// rangeItems expands range(start, stop, step), as Python's list(range(...)).
func rangeItems(args pickle.Tuple, limit int) ([]any, error) {
	var r [3]int64
	r[2] = 1
	if len(args) != 3 {
		return nil, wire.PyErr("TypeError", "bad range arguments")
	}
	for i, a := range args {
		n, ok := a.(int64)
		if !ok {
			return nil, wire.PyErr("OverflowError", "range too large")
		}
		r[i] = n
	}
	if r[2] == 0 {
		return nil, wire.PyErr("ValueError", "range() arg 3 must not be zero")
	}
	// Count as len(range(...)) does, in uint64: stop-start and start+step
	// overflow int64 for a client's extreme arguments.
	start, stop, step := r[0], r[1], r[2]
	var n uint64
	switch {
	case step > 0 && start < stop:
		n = (uint64(stop)-uint64(start)-1)/uint64(step) + 1
	case step < 0 && stop < start:
		n = (uint64(start)-uint64(stop)-1)/(-uint64(step)) + 1
	}
	if n > uint64(limit) {
		return nil, wire.PyErr("MemoryError")
	}
	out := make([]any, n)
	for k := range out {
		out[k] = start + int64(k)*step // wraps to the right value: it lies between start and stop
	}
	return out, nil
}

// asItems returns the items of a list or tuple.
func asItems(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case pickle.Tuple:
		return x
	}
	return nil
}
