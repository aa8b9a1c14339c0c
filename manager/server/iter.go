package server

import (
	"context"
	"sync"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

var iteratorExposed = []string{"__next__", "send", "throw", "close"}

// Iterator is a served iterator (typeid "Iterator", Python's
// IteratorProxy): what a shared dict's __iter__ returns, and a Pool's imap
// and imap_unordered.
//
// A dict iterator follows the rules of Python's dict iterators: it yields
// the keys in insertion order; once the dict's size differs from its size
// when the iterator was made, every __next__ raises RuntimeError
// ("dictionary changed size during iteration"), as CPython's sticky check
// does, and a dict whose keys were replaced without changing its size
// raises RuntimeError ("dictionary keys changed during iteration") where
// CPython, reading its live table, may instead go on with the new keys.
// An exhausted iterator stays exhausted. Iterators are safe for concurrent
// use.
type Iterator struct {
	mu    sync.Mutex
	items []any // a dict iterator's keys, as they were when it was made
	next  int
	held  heldItems
	done  bool   // exhausted, or failed for good
	fail  string // a dict iterator's sticky RuntimeError text
	dict  *Dict  // the dict iterated (nil for other sources)
	size  int
	seen  uint64 // dict.resized when the iterator was made
	// src is any other source (a Pool's imap): it returns the next value,
	// ok false at the end, or the error to raise.
	src   func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (v any, ok bool, err error)
	class string

	relMu   sync.Mutex // not mu: a blocked __next__ holds mu
	release func()     // abandons src (must not block)
}

// iter returns an iterator over o's keys; o.mu is held.
func (o *Dict) iter() *Iterator {
	return &Iterator{items: o.d.Keys(), dict: o, size: o.d.Len(), seen: o.resized, class: "dict_keyiterator"}
}

// Exposed implements Object.
func (*Iterator) Exposed() []string { return iteratorExposed }

// CallMethod implements Object: __next__. send, throw and close are
// exposed by IteratorProxy, but neither a dict key iterator nor a Pool's
// IMapIterator has them (AttributeError, as from Python's server).
func (it *Iterator) CallMethod(ctx context.Context, _ Caller, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	if method != "__next__" {
		return nil, errNoMethod
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.src != nil {
		if it.done {
			return nil, wire.PyErr("StopIteration")
		}
		v, ok, err := it.src(ctx, args, kwargs)
		if err != nil {
			return nil, err
		}
		if !ok {
			it.done = true
			return nil, wire.PyErr("StopIteration")
		}
		return v, nil
	}
	if len(args) > 0 || kwargs.Len() > 0 {
		return nil, wire.PyErr("TypeError", "expected 0 arguments")
	}
	if it.fail != "" {
		return nil, wire.PyErr("RuntimeError", it.fail)
	}
	if it.done {
		return nil, wire.PyErr("StopIteration")
	}
	if d := it.dict; d != nil {
		d.mu.Lock()
		n, resized := d.d.Len(), d.resized
		d.mu.Unlock()
		switch {
		case n != it.size:
			it.fail = "dictionary changed size during iteration"
		case resized != it.seen:
			it.fail = "dictionary keys changed during iteration"
		}
		if it.fail != "" {
			it.dropItems()
			return nil, wire.PyErr("RuntimeError", it.fail)
		}
	}
	if it.next >= len(it.items) {
		it.done = true
		it.dropItems()
		return nil, wire.PyErr("StopIteration")
	}
	v := it.items[it.next]
	it.next++
	return v, nil
}

// dropItems lets go of the keys of an iterator that will not yield again
// (Python drops its reference to the dict), returning them to the item
// bound; it.mu is held.
func (it *Iterator) dropItems() {
	it.items, it.dict = nil, nil
	it.held.settle(0)
}

// drop implements dropper: the server let go of the iterator.
func (it *Iterator) drop() {
	it.relMu.Lock()
	rel := it.release
	it.release = nil
	it.relMu.Unlock()
	if rel != nil {
		rel()
	}
}

// Repr implements Reprer.
func (it *Iterator) Repr() string {
	if it.class == "" {
		return "<iterator object>"
	}
	return "<" + it.class + " object>"
}
