package sem

import (
	"fmt"
	"math"
	"math/big"
)

// ParseState converts a decoded SemLock state tuple (handle, kind,
// maxvalue, name) — the BUILD argument of a pickled
// multiprocessing.synchronize Lock, RLock, Semaphore, BoundedSemaphore —
// into a State. Integers may be any Go integer type or *big.Int (pickle
// decoders differ); name may be a string or nil (a fork-context lock, which
// Rebuild then refuses with ErrNoName).
func ParseState(t []any) (State, error) {
	if len(t) != 4 {
		return State{}, fmt.Errorf("sem: SemLock state has %d items, want 4 (handle, kind, maxvalue, name)", len(t))
	}
	handle, err := toInt(t[0], 0, math.MaxUint64)
	if err != nil {
		return State{}, fmt.Errorf("sem: SemLock state handle: %w", err)
	}
	kind, err := toInt(t[1], 0, 1)
	if err != nil {
		return State{}, fmt.Errorf("sem: SemLock state kind: %w", err)
	}
	maxvalue, err := toInt(t[2], math.MinInt32, math.MaxInt32)
	if err != nil {
		return State{}, fmt.Errorf("sem: SemLock state maxvalue: %w", err)
	}
	st := State{Handle: handle.Uint64(), Kind: Kind(kind.Int64()), MaxValue: int(maxvalue.Int64())}
	switch n := t[3].(type) {
	case string:
		st.Name = n
	case nil:
	default:
		return State{}, fmt.Errorf("sem: SemLock state name is %T, want str or None", t[3])
	}
	return st, nil
}

// toInt accepts the integer representations pickle decoders produce and
// checks the range [lo, hi].
func toInt(v any, lo int64, hi uint64) (*big.Int, error) {
	var b big.Int
	switch x := v.(type) {
	case int:
		b.SetInt64(int64(x))
	case int8:
		b.SetInt64(int64(x))
	case int16:
		b.SetInt64(int64(x))
	case int32:
		b.SetInt64(int64(x))
	case int64:
		b.SetInt64(x)
	case uint:
		b.SetUint64(uint64(x))
	case uint8:
		b.SetUint64(uint64(x))
	case uint16:
		b.SetUint64(uint64(x))
	case uint32:
		b.SetUint64(uint64(x))
	case uint64:
		b.SetUint64(x)
	case *big.Int:
		if x == nil {
			return nil, fmt.Errorf("nil *big.Int")
		}
		b.Set(x)
	default:
		return nil, fmt.Errorf("%T is not an integer", v)
	}
	if b.Cmp(big.NewInt(lo)) < 0 || b.Cmp(new(big.Int).SetUint64(hi)) > 0 {
		return nil, fmt.Errorf("%s out of range [%d, %d]", b.String(), lo, hi)
	}
	return &b, nil
}

// Tuple returns the state as the 4-tuple SemLock.__getstate__ produces,
// for a pickle encoder: handle as uint64, kind and maxvalue as int64, name
// as a string (nil if empty).
func (st State) Tuple() []any {
	var name any
	if st.Name != "" {
		name = st.Name
	}
	return []any{st.Handle, int64(st.Kind), int64(st.MaxValue), name}
}

// PythonClass names the multiprocessing.synchronize class whose pickled
// form carries this state, choosing the most specific class the state
// allows: RLock for kind 0; Lock for maxvalue 1; Semaphore for
// SemValueMax; BoundedSemaphore otherwise. (A BoundedSemaphore(1) is
// indistinguishable from a Lock by state alone; both unpickle to working
// objects with the same semantics.)
func (st State) PythonClass() string {
	switch {
	case st.Kind == RecursiveMutex:
		return "RLock"
	case st.MaxValue == 1:
		return "Lock"
	case st.MaxValue == SemValueMax:
		return "Semaphore"
	}
	return "BoundedSemaphore"
}
