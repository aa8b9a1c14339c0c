package manager

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/pickle"
)

// SetProxy is a proxy for a shared set (Python 3.14's SetProxy, typeid
// "set"). The server must register "set": Python 3.14's SyncManager and
// mpwire's Go server do; a 3.8–3.13 server answers Client.Set with a
// KeyError (a *RemoteError). Arguments that are "other" sets take any
// iterable a Python set method takes (a []any, a *pickle.Set, …). It is
// safe for concurrent use.
type SetProxy struct{ *Proxy }

// Set creates a shared set holding items (manager.set(items)).
func (c *Client) Set(ctx context.Context, items []any) (*SetProxy, error) {
	var args []any
	if items != nil {
		args = []any{items}
	}
	p, err := c.Create(ctx, "set", args, nil)
	if err != nil {
		return nil, err
	}
	return &SetProxy{p}, nil
}

func asSet(v any, err error) (*pickle.Set, error) {
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *pickle.Set:
		return x, nil
	case *pickle.FrozenSet:
		return pickle.NewSet(x.Items()...)
	}
	return nil, fmt.Errorf("manager: %w: expected a set, got %T", ErrProtocol, v)
}

// Add does s.add(v) (TypeError for an unhashable v).
func (s *SetProxy) Add(ctx context.Context, v any) error {
	return noResult(s.Call(ctx, "add", []any{v}, nil))
}

// Discard does s.discard(v).
func (s *SetProxy) Discard(ctx context.Context, v any) error {
	return noResult(s.Call(ctx, "discard", []any{v}, nil))
}

// Remove does s.remove(v) (KeyError if missing).
func (s *SetProxy) Remove(ctx context.Context, v any) error {
	return noResult(s.Call(ctx, "remove", []any{v}, nil))
}

// Pop removes and returns an element (KeyError if empty).
func (s *SetProxy) Pop(ctx context.Context) (any, error) { return s.Call(ctx, "pop", nil, nil) }

// Contains reports v in s.
func (s *SetProxy) Contains(ctx context.Context, v any) (bool, error) {
	return asBool(s.Call(ctx, "__contains__", []any{v}, nil))
}

// Len returns len(s).
func (s *SetProxy) Len(ctx context.Context) (int, error) {
	return asInt(s.Call(ctx, "__len__", nil, nil))
}

// Clear empties s.
func (s *SetProxy) Clear(ctx context.Context) error { return noResult(s.Call(ctx, "clear", nil, nil)) }

// Value returns a copy of the set (s.copy()).
func (s *SetProxy) Value(ctx context.Context) (*pickle.Set, error) {
	return asSet(s.Call(ctx, "copy", nil, nil))
}

// Update does s.update(*others).
func (s *SetProxy) Update(ctx context.Context, others ...any) error {
	return noResult(s.Call(ctx, "update", others, nil))
}

// Union returns s.union(*others).
func (s *SetProxy) Union(ctx context.Context, others ...any) (*pickle.Set, error) {
	return asSet(s.Call(ctx, "union", others, nil))
}

// Intersection returns s.intersection(*others).
func (s *SetProxy) Intersection(ctx context.Context, others ...any) (*pickle.Set, error) {
	return asSet(s.Call(ctx, "intersection", others, nil))
}

// IntersectionUpdate does s.intersection_update(*others).
func (s *SetProxy) IntersectionUpdate(ctx context.Context, others ...any) error {
	return noResult(s.Call(ctx, "intersection_update", others, nil))
}

// Difference returns s.difference(*others).
func (s *SetProxy) Difference(ctx context.Context, others ...any) (*pickle.Set, error) {
	return asSet(s.Call(ctx, "difference", others, nil))
}

// DifferenceUpdate does s.difference_update(*others).
func (s *SetProxy) DifferenceUpdate(ctx context.Context, others ...any) error {
	return noResult(s.Call(ctx, "difference_update", others, nil))
}

// SymmetricDifference returns s.symmetric_difference(other).
func (s *SetProxy) SymmetricDifference(ctx context.Context, other any) (*pickle.Set, error) {
	return asSet(s.Call(ctx, "symmetric_difference", []any{other}, nil))
}

// SymmetricDifferenceUpdate does s.symmetric_difference_update(other).
func (s *SetProxy) SymmetricDifferenceUpdate(ctx context.Context, other any) error {
	return noResult(s.Call(ctx, "symmetric_difference_update", []any{other}, nil))
}

// IsSubset reports s.issubset(other).
func (s *SetProxy) IsSubset(ctx context.Context, other any) (bool, error) {
	return asBool(s.Call(ctx, "issubset", []any{other}, nil))
}

// IsSuperset reports s.issuperset(other).
func (s *SetProxy) IsSuperset(ctx context.Context, other any) (bool, error) {
	return asBool(s.Call(ctx, "issuperset", []any{other}, nil))
}

// IsDisjoint reports s.isdisjoint(other).
func (s *SetProxy) IsDisjoint(ctx context.Context, other any) (bool, error) {
	return asBool(s.Call(ctx, "isdisjoint", []any{other}, nil))
}
