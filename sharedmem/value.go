package sharedmem

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// object is what Value and Array share: typed memory inside an arena, and
// the guarding lock of a synchronized object.
type object struct {
	typ   CType
	n     int // array length, -1 for a Value
	mem   []byte
	start int
	arena *arena
	lock  *Lock

	closeOnce sync.Once
	closeErr  error
}

// Type is the ctype of the value or of the array's elements.
func (o *object) Type() CType { return o.typ }

// Bytes is the object's memory (ctypes native layout, little-endian),
// shared with every process that has it mapped. It becomes invalid after
// Close.
func (o *object) Bytes() []byte { return o.mem }

// Synchronized reports whether the object has a lock (Value/Array with
// lock=True or a lock object; false for RawValue/RawArray and lock=False).
func (o *object) Synchronized() bool { return o.lock != nil }

// GetLock is Python's get_lock(): the guarding lock, or nil for a raw
// object.
func (o *object) GetLock() *Lock { return o.lock }

// Lock acquires the guarding lock (with { v.get_lock(): ... } in Python),
// waiting until ctx ends (an error matching ctx.Err()). It fails with
// ErrNoLock for a raw object.
func (o *object) Lock(ctx context.Context) error {
	if o.lock == nil {
		return ErrNoLock
	}
	return o.lock.Acquire(ctx)
}

// Unlock releases the guarding lock.
func (o *object) Unlock() error {
	if o.lock == nil {
		return ErrNoLock
	}
	return o.lock.Release()
}

// WithLock runs fn while holding the guarding lock.
func (o *object) WithLock(ctx context.Context, fn func() error) error {
	if err := o.Lock(ctx); err != nil {
		return err
	}
	ferr := fn()
	if err := o.Unlock(); err != nil && ferr == nil {
		return err
	}
	return ferr
}

// Close unmaps the memory (once every object of the same arena is closed)
// and closes the lock handle; a lock this process created is unlinked, so
// close a Go-made object only after the children it was passed to have
// started (they open the lock by name while unpickling). Idempotent.
func (o *object) Close() error {
	o.closeOnce.Do(func() {
		if o.lock != nil {
			o.closeErr = o.lock.close()
		}
		if err := o.arena.release(); err != nil && o.closeErr == nil {
			o.closeErr = err
		}
	})
	return o.closeErr
}

// ReduceForSpawn implements process.SpawnReducer: the object pickles the
// way sharedctypes pickles a Value/Array for a spawned child, with the
// arena's descriptor passed to the child, so a Python child gets a normal
// Synchronized (or raw ctypes) object over the same memory.
func (o *object) ReduceForSpawn(s *process.Spawning) (any, error) {
	a, err := o.arena.reduce(s)
	if err != nil {
		return nil, err
	}
	size := o.typ.Size
	var length any
	if o.n >= 0 {
		size *= o.n
		length = int64(o.n)
	}
	state := pickle.NewDict()
	if err := state.Set("_state", pickle.Tuple{pickle.Tuple{a, int64(o.start), int64(o.start + size)}, int64(size)}); err != nil {
		return nil, err
	}
	wrapper := &pickle.Object{Callable: globalBufferWrapper, Args: pickle.Tuple{}, NewObj: true, State: state}
	obj := &pickle.Object{Callable: globalRebuildCtype,
		Args: pickle.Tuple{pickle.Global{Module: "ctypes", Name: o.typ.Name}, wrapper, length}}
	if o.lock == nil {
		return obj, nil
	}
	return &pickle.Object{Callable: globalSynchronized, Args: pickle.Tuple{obj, o.lock.reduce()}}, nil
}

// Value is a multiprocessing.sharedctypes Value or RawValue: one ctypes
// scalar in shared memory. Loads and stores of 4- and 8-byte types are
// atomic; read-modify-write sequences need the lock, as in Python.
type Value struct{ *object }

// Array is a multiprocessing.sharedctypes Array or RawArray: a ctypes array
// in shared memory.
type Array struct{ *object }

// NewValue allocates a synchronized Value (Python: Value(t), with a new
// RLock) in a new arena, zeroed. Pass it to children in process.Spec.Args.
func NewValue(t CType) (*Value, error) {
	o, err := newObject(t, -1, true)
	if err != nil {
		return nil, err
	}
	return &Value{o}, nil
}

// NewRawValue allocates a Value without a lock (RawValue / lock=False).
func NewRawValue(t CType) (*Value, error) {
	o, err := newObject(t, -1, false)
	if err != nil {
		return nil, err
	}
	return &Value{o}, nil
}

// NewArray allocates a synchronized Array of n zeroed elements.
func NewArray(t CType, n int) (*Array, error) {
	o, err := newObject(t, n, true)
	if err != nil {
		return nil, err
	}
	return &Array{o}, nil
}

// NewRawArray allocates an Array without a lock (RawArray / lock=False).
func NewRawArray(t CType, n int) (*Array, error) {
	o, err := newObject(t, n, false)
	if err != nil {
		return nil, err
	}
	return &Array{o}, nil
}

func newObject(t CType, n int, locked bool) (*object, error) {
	if known, ok := ctypesByName[t.Name]; !ok || known != t {
		return nil, fmt.Errorf("%w: %+v is not one of the CType values of this package", ErrType, t)
	}
	size := t.Size
	if n >= 0 {
		if n > MaxArenaSize/t.Size {
			return nil, fmt.Errorf("%w: array of %d %s", ErrInvalidSize, n, t.Name)
		}
		size *= n
	}
	a, err := newArena(size)
	if err != nil {
		return nil, err
	}
	o := &object{typ: t, n: n, mem: a.data[:size:size], arena: a}
	if locked {
		rl, err := synchronize.NewRLock()
		if err != nil {
			a.release()
			return nil, fmt.Errorf("sharedmem: creating the lock: %w", err)
		}
		o.lock = newLock(rl.SemLock)
	}
	return o, nil
}

// ValueFrom rebuilds a Value a spawn parent passed (for example
// child.Arg(0) of a Go worker started by Python's mpwire.GoProcess with
// Value('d', 0.0), RawValue(...), or Value(..., lock=False)): it maps the
// inherited arena and opens the lock by name.
func ValueFrom(src FDSource, v any) (*Value, error) {
	o, err := objectFrom(src, v, false)
	if err != nil {
		return nil, err
	}
	return &Value{o}, nil
}

// ArrayFrom rebuilds an Array a spawn parent passed (Array, RawArray,
// Array(..., lock=False)).
func ArrayFrom(src FDSource, v any) (*Array, error) {
	o, err := objectFrom(src, v, true)
	if err != nil {
		return nil, err
	}
	return &Array{o}, nil
}

// objectFrom decodes
//
//	synchronized(rebuild_ctype(ctype, BufferWrapper{_state: ((rebuild_arena(size, DupFd), start, stop), nbytes)}, length), lock)
//
// or the bare rebuild_ctype(...) of a raw object.
func objectFrom(src FDSource, v any, array bool) (*object, error) {
	var lockV any
	if o, ok := v.(*pickle.Object); ok && o.Class() == globalSynchronized && !o.NewObj {
		if len(o.Args) != 2 {
			return nil, fmt.Errorf("%w: synchronized with %d arguments", ErrBadState, len(o.Args))
		}
		v, lockV = o.Args[0], o.Args[1]
	}
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != globalRebuildCtype || o.NewObj || len(o.Args) != 3 {
		return nil, fmt.Errorf("%w: %s is not a pickled sharedctypes Value/Array", ErrBadState, describe(v))
	}
	g, ok := o.Args[0].(pickle.Global)
	if !ok || g.Module != "ctypes" {
		return nil, fmt.Errorf("%w: element type %v is not a ctypes simple type (structures are not supported)", ErrType, o.Args[0])
	}
	t, err := TypeName(g.Name)
	if err != nil {
		return nil, err
	}
	n := -1
	switch l := o.Args[2].(type) {
	case nil:
		if array {
			return nil, fmt.Errorf("%w: a Value (%s), not an Array", ErrType, t.Name)
		}
	case int64:
		if !array {
			return nil, fmt.Errorf("%w: an Array of %s, not a Value", ErrType, t.Name)
		}
		if l < 0 || l > MaxArenaSize/int64(t.Size) {
			return nil, fmt.Errorf("%w: array length %d", ErrBadState, l)
		}
		n = int(l)
	default:
		return nil, fmt.Errorf("%w: array length %T", ErrBadState, o.Args[2])
	}
	size := t.Size
	if n >= 0 {
		size *= n
	}
	w, ok := o.Args[1].(*pickle.Object)
	if !ok || w.Class() != globalBufferWrapper {
		return nil, fmt.Errorf("%w: buffer is %s, want %s", ErrBadState, describe(o.Args[1]), globalBufferWrapper)
	}
	st, ok := w.State.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: BufferWrapper state %T", ErrBadState, w.State)
	}
	sv, _ := st.Get("_state")
	outer, ok := sv.(pickle.Tuple)
	if !ok || len(outer) != 2 {
		return nil, fmt.Errorf("%w: BufferWrapper._state %v", ErrBadState, sv)
	}
	block, ok := outer[0].(pickle.Tuple)
	nbytes, ok2 := outer[1].(int64)
	if !ok || !ok2 || len(block) != 3 {
		return nil, fmt.Errorf("%w: BufferWrapper._state %v", ErrBadState, sv)
	}
	start, ok := block[1].(int64)
	stop, ok2 := block[2].(int64)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: heap block %v", ErrBadState, block)
	}
	if nbytes != int64(size) {
		return nil, fmt.Errorf("%w: buffer of %d bytes for %d bytes of %s", ErrCorrupt, nbytes, size, t.Name)
	}
	if start < 0 || stop < start || stop-start < nbytes || start%int64(min(t.Size, 8)) != 0 {
		return nil, fmt.Errorf("%w: heap block [%d, %d) for %d bytes", ErrCorrupt, start, stop, nbytes)
	}
	a, err := inheritedArena(src, block[0])
	if err != nil {
		return nil, err
	}
	if stop > int64(a.size) {
		a.release()
		return nil, fmt.Errorf("%w: heap block [%d, %d) outside the %d-byte arena", ErrCorrupt, start, stop, a.size)
	}
	obj := &object{typ: t, n: n, start: int(start), mem: a.data[start : start+nbytes : start+nbytes], arena: a}
	if lockV != nil {
		if obj.lock, err = lockFromPickle(lockV); err != nil {
			a.release()
			return nil, err
		}
	}
	return obj, nil
}

// Load returns the value as Python's .value does: int64 for signed types,
// uint64 for unsigned ones, float64, bool, a 1-byte []byte (c_char) or a
// one-character string (c_wchar). It does not take the lock.
func (v *Value) Load() any { return loadAny(v.typ, v.mem) }

// Store sets the value (Python: v.value = x, without the lock). x must be
// of a matching kind and fit the type: ErrType, ErrRange otherwise.
func (v *Value) Store(x any) error {
	bits, err := toBits(v.typ, x)
	if err != nil {
		return err
	}
	storeBits(v.mem, v.typ.Size, bits)
	return nil
}

// Int returns an integer value (signed, unsigned up to MaxInt64, c_char,
// c_bool as 0/1).
func (v *Value) Int() (int64, error) { return intOf(v.typ, v.mem) }

// SetInt stores an integer value with range checking.
func (v *Value) SetInt(x int64) error { return v.Store(x) }

// Float returns a c_float/c_double value.
func (v *Value) Float() (float64, error) { return floatOf(v.typ, v.mem) }

// SetFloat stores a c_float/c_double value.
func (v *Value) SetFloat(x float64) error {
	if v.typ.Kind != Float {
		return fmt.Errorf("%w: SetFloat on a %s", ErrType, v.typ.Name)
	}
	return v.Store(x)
}

func intOf(t CType, b []byte) (int64, error) {
	switch x := loadAny(t, b).(type) {
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%w: %d does not fit an int64", ErrRange, x)
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case []byte:
		return int64(x[0]), nil
	}
	return 0, fmt.Errorf("%w: Int on a %s", ErrType, t.Name)
}

func floatOf(t CType, b []byte) (float64, error) {
	if t.Kind != Float {
		return 0, fmt.Errorf("%w: Float on a %s", ErrType, t.Name)
	}
	return loadAny(t, b).(float64), nil
}

// Pointer returns a *T aimed at the value's shared memory (T must view the
// ctype: see Elem), for sync/atomic operations or direct use.
func Pointer[T Elem](v *Value) (*T, error) {
	if err := fits[T](v.typ); err != nil {
		return nil, err
	}
	return (*T)(unsafe.Pointer(&v.mem[0])), nil
}

// Len is the number of elements (Python: len(a)).
func (a *Array) Len() int { return a.n }

func (a *Array) elem(i int) ([]byte, error) {
	if i < 0 {
		i += a.n
	}
	if i < 0 || i >= a.n {
		return nil, fmt.Errorf("%w: %d (length %d)", ErrIndex, i, a.n)
	}
	return a.mem[i*a.typ.Size : (i+1)*a.typ.Size], nil
}

// Load returns element i (negative counts from the end) like Value.Load.
func (a *Array) Load(i int) (any, error) {
	b, err := a.elem(i)
	if err != nil {
		return nil, err
	}
	return loadAny(a.typ, b), nil
}

// Store sets element i like Value.Store.
func (a *Array) Store(i int, x any) error {
	b, err := a.elem(i)
	if err != nil {
		return err
	}
	bits, err := toBits(a.typ, x)
	if err != nil {
		return err
	}
	storeBits(b, a.typ.Size, bits)
	return nil
}

// Int returns integer element i.
func (a *Array) Int(i int) (int64, error) {
	b, err := a.elem(i)
	if err != nil {
		return 0, err
	}
	return intOf(a.typ, b)
}

// SetInt stores integer element i.
func (a *Array) SetInt(i int, x int64) error { return a.Store(i, x) }

// Float returns floating-point element i.
func (a *Array) Float(i int) (float64, error) {
	b, err := a.elem(i)
	if err != nil {
		return 0, err
	}
	return floatOf(a.typ, b)
}

// SetFloat stores floating-point element i.
func (a *Array) SetFloat(i int, x float64) error {
	if a.typ.Kind != Float {
		return fmt.Errorf("%w: SetFloat on a %s array", ErrType, a.typ.Name)
	}
	return a.Store(i, x)
}

// Ints copies the elements of an integer array (Python: a[:]).
func (a *Array) Ints() ([]int64, error) {
	out := make([]int64, a.n)
	for i := range out {
		x, err := intOf(a.typ, a.mem[i*a.typ.Size:])
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// SetInts stores xs from element 0 (Python: a[:len(xs)] = xs); nothing is
// written unless every value fits.
func (a *Array) SetInts(xs []int64) error {
	return a.setAll(len(xs), func(i int) any { return xs[i] })
}

// Floats copies the elements of a c_float/c_double array.
func (a *Array) Floats() ([]float64, error) {
	if a.typ.Kind != Float {
		return nil, fmt.Errorf("%w: Floats on a %s array", ErrType, a.typ.Name)
	}
	out := make([]float64, a.n)
	for i := range out {
		out[i] = loadAny(a.typ, a.mem[i*a.typ.Size:]).(float64)
	}
	return out, nil
}

// SetFloats stores xs from element 0.
func (a *Array) SetFloats(xs []float64) error {
	if a.typ.Kind != Float {
		return fmt.Errorf("%w: SetFloats on a %s array", ErrType, a.typ.Name)
	}
	return a.setAll(len(xs), func(i int) any { return xs[i] })
}

func (a *Array) setAll(n int, at func(int) any) error {
	if n > a.n {
		return fmt.Errorf("%w: %d values for %d elements", ErrIndex, n, a.n)
	}
	bits := make([]uint64, n)
	for i := range bits {
		b, err := toBits(a.typ, at(i))
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		bits[i] = b
	}
	for i, b := range bits {
		storeBits(a.mem[i*a.typ.Size:], a.typ.Size, b)
	}
	return nil
}

// Value is a c_char array's .value: the bytes up to the first NUL.
func (a *Array) Value() ([]byte, error) {
	if a.typ.Kind != Char {
		return nil, fmt.Errorf("%w: .value of a %s array", ErrType, a.typ.Name)
	}
	b := append([]byte(nil), a.mem...)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b, nil
}

// SetValue is assignment to a c_char array's .value: b, then a NUL if there
// is room (Python: ValueError "byte string too long" if b is longer).
func (a *Array) SetValue(b []byte) error {
	if a.typ.Kind != Char {
		return fmt.Errorf("%w: .value of a %s array", ErrType, a.typ.Name)
	}
	if len(b) > a.n {
		return fmt.Errorf("%w: byte string too long (%d > %d)", ErrCapacity, len(b), a.n)
	}
	copy(a.mem, b)
	if len(b) < a.n {
		a.mem[len(b)] = 0
	}
	return nil
}

// Slice returns the array's shared memory as a []T without copying (T must
// view the ctype: see Elem): a[i] = x is seen by Python at once.
func Slice[T Elem](a *Array) ([]T, error) {
	if err := fits[T](a.typ); err != nil {
		return nil, err
	}
	if a.n == 0 {
		return []T{}, nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&a.mem[0])), a.n), nil
}
