package pickle

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"unsafe"
)

// Hash keys: a dict key or set element is stored under a comparable Go
// value that equals another exactly when the Python values are equal
// (1, 1.0 and True share one; str, bytes, tuples and frozensets compare by
// value; instances by identity). Short scalars are their own keys. A tuple
// or frozenset, and a long str, bytes or int, is keyed by its encoding
// (see keyHasher.enc): the canonical bytes of the value when they are
// short, else their SHA-256 digest. The digest of a container is taken over
// its elements' encodings, so a key has a bounded size and each distinct
// element is encoded once: t = (); t = (t, t) repeated n times is 2^n
// elements deep when walked by content, but only n distinct tuples, and
// costs n steps here (CPython's own tuple hash walks all 2^n).
type (
	bytesKey string // bytes of at most inlineKey bytes
	bigKey   string // int outside int64: sign byte, big-endian magnitude
	compKey  string // encoding of a tuple, frozenset, or long str/bytes/int
	nanKey   struct{ p *byte }
)

// inlineKey is the longest encoding kept as it is; longer ones become
// 'H' + SHA-256 (33 bytes).
const inlineKey = 96

// maxKeyDepth bounds the nesting of tuples inside a key.
const maxKeyDepth = 1000

// ErrUnhashable is returned when a list, dict, set or bytearray is used as
// a dict key or set element.
var ErrUnhashable = errorString("pickle: unhashable type")

type errorString string

func (e errorString) Error() string { return string(e) }

// keyID is the identity of a value whose encoding is remembered: the
// address of its data, its length and its kind.
type keyID struct {
	p    unsafe.Pointer
	n    int
	kind byte
}

// keyHasher computes hash keys (and, for Equal, encodings of unhashable
// containers too). It remembers the encodings of composite and long values
// by identity, so that a value shared many times is encoded once per
// hasher: the decoder keeps one hasher for a whole pickle, Equal and
// Comparer one per comparison (or series of comparisons), and the
// convenience methods (Dict.Set, Set.Add, ...) one per call. The values must
// not change while a hasher remembers them (hashable values never do).
type keyHasher struct {
	memo map[keyID]string
	// eq encodes unhashable values too (lists, dicts, sets, bytearrays,
	// instances) for Equal; cycles through them encode as the identity of
	// the container met again.
	eq bool
	// keep remembers top-level values too (not only nested ones): the
	// decoder's hasher, where one key object may be used by many dicts.
	keep bool
	// vals numbers other comparable Go values for Equal.
	vals map[any]int
	// busy marks containers being encoded (Equal only: lists and dicts can
	// contain themselves).
	busy map[keyID]bool
	// last is the encoding remember stored last.
	last string
	buf  []byte // scratch for key's encodings
}

// hashKey returns the hash key of k (see keyHasher).
func hashKey(k any) (any, error) {
	var h keyHasher
	return h.key(k)
}

// key returns the hash key of k.
func (h *keyHasher) key(k any) (any, error) {
	switch x := k.(type) {
	case string:
		if len(x) <= inlineKey {
			return k, nil // its own key; returning k avoids boxing it again
		}
	case int64, nil, Global, Ext:
		return k, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int:
		return int64(x), nil
	case float64:
		return floatKey(x), nil
	case []byte:
		if len(x) <= inlineKey {
			return bytesKey(x), nil
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		if (x.BitLen()+7)/8 < inlineKey {
			return bigKey(appendBig(nil, x)), nil
		}
	case Tuple, *FrozenSet:
	case []any, *Dict, *Set, ByteArray, map[string]any, map[any]any:
		return nil, fmt.Errorf("%w: '%s'", ErrUnhashable, pyTypeName(k))
	default:
		return reflectKey(k)
	}
	// Composite or long: keyed by its encoding.
	h.last = ""
	b, err := h.enc(h.buf[:0], k, 0)
	if err != nil {
		return nil, err
	}
	h.buf = b[:0]
	if len(h.last) == len(b) && h.last != "" {
		// The encoding just remembered for k (the last one stored): no
		// second copy.
		return compKey(h.last), nil
	}
	return compKey(b), nil
}

// reflectKey is the hash key of a Go value of another type (sized ints,
// named strings, comparable structs, pointers).
func reflectKey(k any) (any, error) {
	rv := reflect.ValueOf(k)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u <= math.MaxInt64 {
			return int64(u), nil
		}
		return bigKey(appendBig(nil, new(big.Int).SetUint64(u))), nil
	case reflect.Float32, reflect.Float64:
		return floatKey(rv.Float()), nil
	case reflect.String:
		var h keyHasher
		return h.key(rv.String())
	case reflect.Bool:
		if rv.Bool() {
			return int64(1), nil
		}
		return int64(0), nil
	}
	if rv.Comparable() {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnhashable, k)
}

func floatKey(f float64) any {
	if math.IsNaN(f) {
		// Python compares NaN keys by identity: every NaN is distinct.
		return nanKey{new(byte)}
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
			return int64(f)
		}
		b, _ := new(big.Float).SetFloat64(f).Int(nil)
		var h keyHasher
		k, _ := h.key(b)
		return k
	}
	return f
}

// appendBig appends the sign and magnitude of x (the same for equal values,
// unlike its decimal text, which would cost time quadratic in its length).
func appendBig(b []byte, x *big.Int) []byte {
	if x.Sign() < 0 {
		b = append(b, '-')
	} else {
		b = append(b, '+')
	}
	return x.Append(b, 16) // hex: linear in the length
}

func (h *keyHasher) remembered(id keyID) (string, bool) {
	if h.memo == nil {
		return "", false
	}
	e, ok := h.memo[id]
	return e, ok
}

// remember stores the encoding of a value found at depth (top-level values
// only in a long-lived hasher).
func (h *keyHasher) remember(id keyID, depth int, enc []byte) {
	if depth == 0 && !h.keep {
		return
	}
	if !h.eq && len(enc) > 0 && enc[0] != 'H' {
		// Cheap to make again: an encoding that is not sealed holds
		// at most inlineKey bytes, its sealed parts are remembered, and
		// a pickle full of small tuple keys need not keep a copy of each.
		return
	}
	if h.memo == nil {
		h.memo = make(map[keyID]string)
	}
	h.last = string(enc)
	h.memo[id] = h.last
}

// seal replaces the body of an encoding, b[start:], by 'H' and its
// SHA-256 digest when it is longer than inlineKey.
func seal(b []byte, start int) []byte {
	if len(b)-start <= inlineKey {
		return b
	}
	sum := sha256.Sum256(b[start:])
	b = append(b[:start], 'H')
	return append(b, sum[:]...)
}

// enc appends the encoding of v: its canonical body when that has at most
// inlineKey bytes, else 'H' + SHA-256(body). Bodies are self-delimiting
// and begin with a type letter, so equal encodings mean equal values. A
// container's body holds its elements' encodings (never their bodies), so
// its size is bounded by its length, not by the size of its contents.
func (h *keyHasher) enc(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxKeyDepth {
		return nil, fmt.Errorf("%w: key nested deeper than %d", ErrLimit, maxKeyDepth)
	}
	start := len(b)
	switch x := v.(type) {
	case string:
		return h.encData(b, 's', x, depth)
	case []byte:
		return h.encData(b, 'y', unsafe.String(unsafe.SliceData(x), len(x)), depth)
	case ByteArray:
		if !h.eq {
			break
		}
		return h.encData(b, 'y', unsafe.String(unsafe.SliceData(x), len(x)), depth)
	case *big.Int:
		if x.IsInt64() {
			break
		}
		id := keyID{unsafe.Pointer(x), 0, 'b'}
		if e, ok := h.remembered(id); ok {
			return append(b, e...), nil
		}
		b = append(b, 'b')
		n := len(b)
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
		b = appendBig(b, x)
		binary.BigEndian.PutUint64(b[n:], uint64(len(b)-n-8))
		b = seal(b, start)
		h.remember(id, depth, b[start:])
		return b, nil
	case Tuple:
		return h.encSeq(b, x, 't', depth)
	case []any:
		if !h.eq {
			break
		}
		return h.encSeq(b, x, 'l', depth)
	case *FrozenSet:
		return h.encSet(b, &x.hs, unsafe.Pointer(x), depth)
	case *Set:
		if !h.eq {
			break
		}
		return h.encSet(b, &x.hs, unsafe.Pointer(x), depth)
	case *Dict:
		if !h.eq {
			break
		}
		return h.encDict(b, x, depth)
	case *Object:
		if !h.eq {
			break
		}
		return h.encObject(b, x, depth)
	case *PythonError:
		if !h.eq {
			break
		}
		return h.encComposite(b, keyID{unsafe.Pointer(x), 0, 'e'}, depth, func(b []byte) ([]byte, error) {
			var err error
			if b, err = h.enc(b, x.Type, depth+1); err != nil {
				return nil, err
			}
			if b, err = h.encSeq(b, x.Args, 't', depth+1); err != nil {
				return nil, err
			}
			return h.enc(b, x.State, depth+1)
		})
	}
	k, err := h.key(v)
	if err != nil {
		if !h.eq {
			return nil, err
		}
		// Equal only: other Go values compare with ==, or by identity.
		k = v
	}
	return h.encScalar(b, k, v)
}

// encData encodes str (kind 's') or bytes ('y') data; a long one is
// remembered by the address of its data (for bytes, x aliases the slice).
func (h *keyHasher) encData(b []byte, kind byte, x string, depth int) ([]byte, error) {
	if len(x) <= inlineKey {
		b = append(b, kind)
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), nil
	}
	id := keyID{unsafe.Pointer(unsafe.StringData(x)), len(x), kind}
	if e, ok := h.remembered(id); ok {
		return append(b, e...), nil
	}
	start := len(b)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(x)))
	b = seal(append(b, x...), start)
	h.remember(id, depth, b[start:])
	return b, nil
}

// encComposite encodes a container through body, remembering the result
// by id. In Equal, a container met again while it is being encoded (a
// list that contains itself) is encoded as its identity.
func (h *keyHasher) encComposite(b []byte, id keyID, depth int, body func([]byte) ([]byte, error)) ([]byte, error) {
	if e, ok := h.remembered(id); ok {
		return append(b, e...), nil
	}
	if h.eq {
		if h.busy[id] {
			b = append(b, 'c')
			return binary.BigEndian.AppendUint64(b, uint64(uintptr(id.p))), nil
		}
		if h.busy == nil {
			h.busy = make(map[keyID]bool)
		}
		h.busy[id] = true
		defer delete(h.busy, id)
	}
	start := len(b)
	b, err := body(b)
	if err != nil {
		return nil, err
	}
	b = seal(b, start)
	h.remember(id, depth, b[start:])
	return b, nil
}

func (h *keyHasher) encSeq(b []byte, x []any, kind byte, depth int) ([]byte, error) {
	if len(x) == 0 {
		return append(b, kind, 0), nil
	}
	id := keyID{unsafe.Pointer(unsafe.SliceData(x)), len(x), kind}
	if e, ok := h.remembered(id); ok {
		return append(b, e...), nil
	}
	if depth == 0 && !h.keep && !h.eq && !hasComposite(x) {
		// A flat tuple met once (the usual tuple key): nothing to remember.
		start := len(b)
		b = append(b, kind)
		b = binary.AppendUvarint(b, uint64(len(x)))
		for _, e := range x {
			var err error
			if b, err = h.enc(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return seal(b, start), nil
	}
	if h.eq {
		return h.encComposite(b, id, depth, func(b []byte) ([]byte, error) {
			return h.encItems(b, x, kind, depth)
		})
	}
	// As encComposite, without its closure (tuple keys are hashed often).
	start := len(b)
	b, err := h.encItems(b, x, kind, depth)
	if err != nil {
		return nil, err
	}
	b = seal(b, start)
	h.remember(id, depth, b[start:])
	return b, nil
}

func (h *keyHasher) encItems(b []byte, x []any, kind byte, depth int) ([]byte, error) {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(x)))
	for _, e := range x {
		var err error
		if b, err = h.enc(b, e, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func hasComposite(x []any) bool {
	for _, e := range x {
		switch e.(type) {
		case string, int64, nil, bool, float64, Global, Ext:
		default:
			return true
		}
	}
	return false
}

// encSet encodes a set or frozenset (equal when their elements are, as in
// Python, where set({1}) == frozenset({1})): the sorted encodings of the
// elements.
func (h *keyHasher) encSet(b []byte, hs *hashSet, p unsafe.Pointer, depth int) ([]byte, error) {
	return h.encComposite(b, keyID{p, 0, 'F'}, depth, func(b []byte) ([]byte, error) {
		return appendSorted(b, 'F', len(hs.items), func(scratch []byte, i int) ([]byte, error) {
			return h.enc(scratch, hs.items[i].k, depth+1)
		})
	})
}

// encDict encodes a dict (Equal only): the sorted encodings of its items.
func (h *keyHasher) encDict(b []byte, d *Dict, depth int) ([]byte, error) {
	return h.encComposite(b, keyID{unsafe.Pointer(d), 0, 'd'}, depth, func(b []byte) ([]byte, error) {
		return appendSorted(b, 'd', len(d.ents), func(scratch []byte, i int) ([]byte, error) {
			scratch, err := h.enc(scratch, d.ents[i].k, depth+1)
			if err != nil {
				return nil, err
			}
			return h.enc(scratch, d.ents[i].v, depth+1)
		})
	})
}

// appendSorted appends the body of an unordered container: kind, n, and
// the n parts made by part (appended to an empty scratch), sorted.
func appendSorted(b []byte, kind byte, n int, part func(scratch []byte, i int) ([]byte, error)) ([]byte, error) {
	parts := make([]string, n)
	var scratch []byte
	for i := range parts {
		var err error
		if scratch, err = part(scratch[:0], i); err != nil {
			return nil, err
		}
		parts[i] = string(scratch)
	}
	slices.Sort(parts)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(n))
	for _, p := range parts {
		b = append(b, p...)
	}
	return b, nil
}

// encObject encodes an instance (Equal only) by what built it, so that
// values such as datetime or Decimal instances compare by value.
func (h *keyHasher) encObject(b []byte, o *Object, depth int) ([]byte, error) {
	return h.encComposite(b, keyID{unsafe.Pointer(o), 0, 'o'}, depth, func(b []byte) ([]byte, error) {
		b = append(b, 'o')
		if o.NewObj {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		parts := [...]any{o.Callable, o.CallableValue, o.Args, nil, o.State, nil, nil}
		if o.Kwargs != nil {
			parts[3] = o.Kwargs
		}
		if o.ListItems != nil {
			parts[5] = o.ListItems
		}
		if o.DictItems != nil {
			parts[6] = o.DictItems
		}
		for _, p := range parts {
			var err error
			if b, err = h.enc(b, p, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	})
}

// encScalar appends the encoding of a scalar's hash key k (v is the
// value it came from).
func (h *keyHasher) encScalar(b []byte, k, v any) ([]byte, error) {
	switch x := k.(type) {
	case nil:
		return append(b, 'N'), nil
	case int64:
		b = append(b, 'i')
		return binary.BigEndian.AppendUint64(b, uint64(x)), nil
	case float64:
		b = append(b, 'f')
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x)), nil
	case string:
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), nil
	case bytesKey:
		b = append(b, 'y')
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), nil
	case bigKey:
		// As enc of a *big.Int: the same body, sealed the same way.
		start := len(b)
		b = append(b, 'b')
		b = binary.BigEndian.AppendUint64(b, uint64(len(x)))
		return seal(append(b, x...), start), nil
	case compKey:
		return append(b, x...), nil
	case Global:
		b = append(b, 'g')
		b = binary.AppendUvarint(b, uint64(len(x.Module)))
		b = append(b, x.Module...)
		b = binary.AppendUvarint(b, uint64(len(x.Name)))
		return append(b, x.Name...), nil
	case Ext:
		b = append(b, 'E')
		return binary.BigEndian.AppendUint32(b, uint32(x.Code)), nil
	case nanKey:
		b = append(b, 'p')
		return binary.BigEndian.AppendUint64(b, uint64(uintptr(unsafe.Pointer(x.p)))), nil
	}
	// Identity-compared values (pointers such as *Object).
	rv := reflect.ValueOf(k)
	if rv.Kind() == reflect.Pointer {
		b = append(b, 'p')
		return binary.BigEndian.AppendUint64(b, uint64(rv.Pointer())), nil
	}
	if h.eq && rv.IsValid() && rv.Comparable() {
		// Equal only: number other comparable Go values by ==.
		if h.vals == nil {
			h.vals = make(map[any]int)
		}
		n, ok := h.vals[k]
		if !ok {
			n = len(h.vals)
			h.vals[k] = n
		}
		b = append(b, 'x')
		return binary.BigEndian.AppendUint64(b, uint64(n)), nil
	}
	return nil, fmt.Errorf("%w: %T inside a tuple key", ErrUnhashable, v)
}

// Equal reports whether a == b in Python, for decoded values: numbers by
// value across int, float and bool; str, bytes (and bytearray), tuples,
// lists, dicts, sets and frozensets by content; instances (*Object) by what
// built them. Shared and self-referencing values cost time proportional to
// their distinct containers, not to the paths through them. NaN is unequal
// to everything, itself included.
func Equal(a, b any) bool {
	var c Comparer
	return c.Equal(a, b)
}

// A Comparer compares decoded values like Equal and remembers what it
// learnt about each container, so that comparing one value with many (as
// list.count or list.index do) costs time proportional to the distinct
// containers involved. The values must not change while the Comparer is in
// use. The zero Comparer is ready; it is not safe for concurrent use.
type Comparer struct {
	h          keyHasher
	bufA, bufB []byte
}

// Equal reports whether a == b in Python (see the package-level Equal).
func (c *Comparer) Equal(a, b any) bool {
	if ka, ok := eqClass(a); ok {
		if kb, ok := eqClass(b); ok {
			// Scalars: their hash keys decide.
			switch {
			case ka != kb:
				return false
			case ka == 's':
				return a.(string) == b.(string)
			}
			ha, err1 := hashKey(a)
			hb, err2 := hashKey(b)
			return err1 == nil && err2 == nil && ha == hb
		}
		return false
	}
	if _, ok := eqClass(b); ok {
		return false
	}
	c.h.eq = true
	var err error
	if c.bufA, err = c.h.enc(c.bufA[:0], a, 1); err != nil {
		return false
	}
	if c.bufB, err = c.h.enc(c.bufB[:0], b, 1); err != nil {
		return false
	}
	return string(c.bufA) == string(c.bufB)
}

// eqClass classifies scalars for Equal: values of different classes are
// never equal; ok is false for containers and other values.
func eqClass(v any) (byte, bool) {
	switch v.(type) {
	case nil:
		return 'N', true
	case bool, int64, int, float64, *big.Int:
		return 'n', true
	case string:
		return 's', true
	case Global:
		return 'g', true
	case Ext:
		return 'E', true
	}
	return 0, false
}
