package pickle

import (
	"cmp"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"time"
)

// encFunc encodes a value of one Go type; built once per type and cached
// (like encoding/json's encoder cache).
type encFunc func(e *encState, v reflect.Value) error

var encCache sync.Map // reflect.Type -> encFunc

func typeEncoder(t reflect.Type) encFunc {
	if f, ok := encCache.Load(t); ok {
		return f.(encFunc)
	}
	// Recursive types: publish an indirect function first.
	var (
		wg sync.WaitGroup
		f  encFunc
	)
	wg.Add(1)
	fi, loaded := encCache.LoadOrStore(t, encFunc(func(e *encState, v reflect.Value) error {
		wg.Wait()
		return f(e, v)
	}))
	if loaded {
		return fi.(encFunc)
	}
	f = newTypeEncoder(t, true)
	wg.Done()
	encCache.Store(t, f)
	return f
}

// genericTypes are encoded by save's type switch even when reached
// through reflection (struct fields, pointers, typed slices).
var genericTypes = map[reflect.Type]bool{
	reflect.TypeFor[Tuple]():          true,
	reflect.TypeFor[ByteArray]():      true,
	reflect.TypeFor[[]any]():          true,
	reflect.TypeFor[*Dict]():          true,
	reflect.TypeFor[*Set]():           true,
	reflect.TypeFor[*FrozenSet]():     true,
	reflect.TypeFor[Global]():         true,
	reflect.TypeFor[Ext]():            true,
	reflect.TypeFor[*Object]():        true,
	reflect.TypeFor[*PythonError]():   true,
	reflect.TypeFor[map[string]any](): true,
	reflect.TypeFor[map[any]any]():    true,
	reflect.TypeFor[*big.Int]():       true,
	reflect.TypeFor[[]byte]():         true,
	reflect.TypeFor[freshStr]():       true,
	reflect.TypeFor[time.Time]():      true,
	reflect.TypeFor[time.Duration]():  true,
	reflect.TypeFor[big.Int]():        true,
}

func genericEncoder(e *encState, v reflect.Value) error { return e.save(v.Interface()) }

func newTypeEncoder(t reflect.Type, allowAddr bool) encFunc {
	if genericTypes[t] {
		return genericEncoder
	}
	// Dict, Set, FrozenSet, Object, PythonError by value: encode their address.
	switch t {
	case reflect.TypeFor[Dict](), reflect.TypeFor[Set](), reflect.TypeFor[FrozenSet](), reflect.TypeFor[Object](), reflect.TypeFor[PythonError]():
		return func(e *encState, v reflect.Value) error {
			if v.CanAddr() {
				return e.save(v.Addr().Interface())
			}
			p := reflect.New(t)
			p.Elem().Set(v)
			return e.save(p.Interface())
		}
	}
	if t.Kind() != reflect.Pointer && allowAddr && reflect.PointerTo(t).Implements(marshalerType) {
		return condAddrEncoder(addrMarshalerEncoder, newTypeEncoder(t, false))
	}
	if t.Implements(marshalerType) {
		return marshalerEncoder
	}
	switch t {
	case timeType:
		return func(e *encState, v reflect.Value) error { return e.saveTime(v.Interface().(time.Time)) }
	case durationType:
		return func(e *encState, v reflect.Value) error { return e.saveDuration(time.Duration(v.Int())) }
	case bigIntType:
		return func(e *encState, v reflect.Value) error {
			b := v.Interface().(big.Int)
			return e.saveBig(&b)
		}
	}
	if t.Kind() == reflect.Struct {
		if g, ok := lookupType(t); ok {
			return classEncoder(g, structEncoder(t))
		}
	}
	return kindEncoder(t)
}

// kindEncoder is the encoder of a type by its kind.
func kindEncoder(t reflect.Type) encFunc {
	switch t.Kind() {
	case reflect.Bool:
		return func(e *encState, v reflect.Value) error { e.saveBool(v.Bool()); return nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encState, v reflect.Value) error { e.saveInt(v.Int()); return nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *encState, v reflect.Value) error { e.saveUint(v.Uint()); return nil }
	case reflect.Float32, reflect.Float64:
		return func(e *encState, v reflect.Value) error { e.saveFloat(v.Float()); return nil }
	case reflect.Complex64, reflect.Complex128:
		return func(e *encState, v reflect.Value) error {
			c := v.Complex()
			return e.saveReduce(Global{"builtins", "complex"}, Tuple{real(c), imag(c)}, nil, false, nil, nil, nil, idKey{})
		}
	case reflect.String:
		return func(e *encState, v reflect.Value) error { return e.saveStr(v.String()) }
	case reflect.Interface:
		return func(e *encState, v reflect.Value) error {
			if v.IsNil() {
				e.b = append(e.b, opNone)
				return nil
			}
			return e.save(v.Elem().Interface())
		}
	case reflect.Pointer:
		return ptrEncoder(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(marshalerType) {
			return func(e *encState, v reflect.Value) error { return e.saveBytes(v.Bytes()) }
		}
		return sliceEncoder(t)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(e *encState, v reflect.Value) error {
				b := make([]byte, v.Len())
				reflect.Copy(reflect.ValueOf(b), v)
				return e.saveBytes(b)
			}
		}
		return arrayEncoder(t)
	case reflect.Map:
		return mapEncoder(t)
	case reflect.Struct:
		return structEncoder(t)
	}
	return func(e *encState, v reflect.Value) error { return &UnsupportedTypeError{t} }
}

func marshalerEncoder(e *encState, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.b = append(e.b, opNone)
		return nil
	}
	return e.saveMarshaler(v.Interface().(Marshaler))
}

func addrMarshalerEncoder(e *encState, v reflect.Value) error {
	return e.saveMarshaler(v.Addr().Interface().(Marshaler))
}

func condAddrEncoder(canAddr, elseEnc encFunc) encFunc {
	return func(e *encState, v reflect.Value) error {
		if v.CanAddr() {
			return canAddr(e, v)
		}
		return elseEnc(e, v)
	}
}

func ptrEncoder(t reflect.Type) encFunc {
	elem := t.Elem()
	var elemEnc encFunc
	var once sync.Once
	isStruct := elem.Kind() == reflect.Struct
	return func(e *encState, v reflect.Value) error {
		if v.IsNil() {
			e.b = append(e.b, opNone)
			return nil
		}
		once.Do(func() { elemEnc = typeEncoder(elem) })
		if isStruct {
			// Shared pointers keep their identity (one Python object).
			id := idKey{p: v.Interface(), kind: 'p'}
			if i, ok := e.lookupID(id); ok {
				e.writeGet(i)
				return nil
			}
			e.pendingID = id
		}
		if err := e.enter(); err != nil {
			return err
		}
		err := elemEnc(e, v.Elem())
		e.pendingID = idKey{}
		e.depth--
		return err
	}
}

func sliceEncoder(t reflect.Type) encFunc {
	elemEnc := typeEncoder(t.Elem())
	return func(e *encState, v reflect.Value) error {
		var id idKey
		if v.Cap() > 0 {
			id = idKey{p: v.Slice(0, v.Cap()).Index(0).Addr().Interface(), n: v.Len(), kind: 's'}
			if i, ok := e.lookupID(id); ok {
				e.writeGet(i)
				return nil
			}
		}
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		if e.proto >= 1 {
			e.b = append(e.b, opEmptyList)
		} else {
			e.b = append(e.b, opMark, opList)
		}
		e.memoizeID(id)
		return e.reflectAppends(v, elemEnc)
	}
}

func arrayEncoder(t reflect.Type) encFunc {
	elemEnc := typeEncoder(t.Elem())
	return func(e *encState, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		if e.proto >= 1 {
			e.b = append(e.b, opEmptyList)
		} else {
			e.b = append(e.b, opMark, opList)
		}
		e.memoize()
		return e.reflectAppends(v, elemEnc)
	}
}

func (e *encState) reflectAppends(v reflect.Value, elemEnc encFunc) error {
	for b := e.batches(v.Len(), batchList); b.next(); {
		e.openBatch(&b)
		for i := b.lo; i < b.hi; i++ {
			if err := e.saveValue(v.Index(i), elemEnc); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opAppend, opAppends)
	}
	return nil
}

// dictItems writes n key/value pairs of an exact dict (batch.go).
func (e *encState) dictItems(n int, save func(i int) error) error {
	for b := e.batches(n, batchDict); b.next(); {
		e.openBatch(&b)
		for i := b.lo; i < b.hi; i++ {
			if err := save(i); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	return nil
}

// saveValue encodes v with its type's encoder, checking frame boundaries
// first like save does.
func (e *encState) saveValue(v reflect.Value, enc encFunc) error {
	e.boundary()
	return enc(e, v)
}

func mapEncoder(t reflect.Type) encFunc {
	keyEnc := typeEncoder(t.Key())
	if t.Key().Kind() == reflect.Array && t.Key().Elem().Kind() != reflect.Uint8 {
		keyEnc = tupleArrayEncoder(t.Key())
	}
	if t.Key().Kind() == reflect.String && !t.Key().Implements(marshalerType) && !reflect.PointerTo(t.Key()).Implements(marshalerType) {
		// A str key: memoized by content among keys (saveKeyStr).
		keyEnc = func(e *encState, v reflect.Value) error {
			_, err := e.saveKeyStr(v.String())
			return err
		}
	}
	valEnc := typeEncoder(t.Elem())
	kk := t.Key().Kind()
	return func(e *encState, v reflect.Value) error {
		var id idKey
		if !v.IsNil() {
			id = idKey{p: v.UnsafePointer(), kind: 'm'}
			if i, ok := e.lookupID(id); ok {
				e.writeGet(i)
				return nil
			}
		}
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		e.emptyDict()
		e.memoizeID(id)
		// MapRange, not MapIndex: a NaN key can be iterated but not looked up.
		type kv struct{ k, v reflect.Value }
		items := make([]kv, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			items = append(items, kv{it.Key(), it.Value()})
		}
		switch kk {
		case reflect.String:
			slices.SortFunc(items, func(a, b kv) int { return cmp.Compare(a.k.String(), b.k.String()) })
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			slices.SortFunc(items, func(a, b kv) int { return cmp.Compare(a.k.Int(), b.k.Int()) })
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			slices.SortFunc(items, func(a, b kv) int { return cmp.Compare(a.k.Uint(), b.k.Uint()) })
		case reflect.Float32, reflect.Float64:
			slices.SortFunc(items, func(a, b kv) int { return cmp.Compare(a.k.Float(), b.k.Float()) })
		}
		return e.dictItems(len(items), func(i int) error {
			if err := e.saveValue(items[i].k, keyEnc); err != nil {
				return err
			}
			return e.saveValue(items[i].v, valEnc)
		})
	}
}

// tupleArrayEncoder writes a Go array as a tuple: the form a dict key
// must have (a list is not hashable in Python).
func tupleArrayEncoder(t reflect.Type) encFunc {
	elemEnc := typeEncoder(t.Elem())
	return func(e *encState, v reflect.Value) error {
		n := v.Len()
		if n == 0 {
			if e.proto >= 1 {
				e.b = append(e.b, opEmptyTuple)
			} else {
				e.b = append(e.b, opMark, opTuple)
			}
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		short := n <= 3 && e.proto >= 2
		if !short {
			e.b = append(e.b, opMark)
		}
		for i := 0; i < n; i++ {
			if err := e.saveValue(v.Index(i), elemEnc); err != nil {
				return err
			}
		}
		if short {
			e.b = append(e.b, opTuple1+byte(n-1))
		} else {
			e.b = append(e.b, opTuple)
		}
		e.memoize()
		return nil
	}
}

type encField struct {
	name                string
	index               []int
	enc                 encFunc
	omitEmpty, omitZero bool
}

func structFields(t reflect.Type) []encField {
	si := cachedFields(t)
	out := make([]encField, len(si.fields))
	for i, f := range si.fields {
		out[i] = encField{name: f.name, index: f.index, omitEmpty: f.omitEmpty, omitZero: f.omitZero}
	}
	return out
}

func structEncoder(t reflect.Type) encFunc {
	fields := structFields(t)
	var once sync.Once
	return func(e *encState, v reflect.Value) error {
		once.Do(func() {
			for i := range fields {
				fields[i].enc = typeEncoder(t.FieldByIndex(fields[i].index).Type)
			}
		})
		id := e.pendingID
		e.pendingID = idKey{}
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		e.emptyDict()
		e.memoizeID(id)
		return e.structItems(v, fields)
	}
}

func (e *encState) structItems(v reflect.Value, fields []encField) error {
	type kv struct {
		name string
		v    reflect.Value
		enc  encFunc
	}
	items := make([]kv, 0, len(fields))
	for _, f := range fields {
		fv, ok := fieldByIndexNoAlloc(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		items = append(items, kv{f.name, fv, f.enc})
	}
	return e.dictItems(len(items), func(i int) error {
		if _, err := e.saveKeyStr(items[i].name); err != nil {
			return err
		}
		return e.saveValue(items[i].v, items[i].enc)
	})
}

// classEncoder pickles a registered struct as NEWOBJ(cls, ()) + BUILD of
// a dict of its fields.
func classEncoder(g Global, _ encFunc) encFunc {
	var fields []encField
	var once sync.Once
	return func(e *encState, v reflect.Value) error {
		once.Do(func() {
			fields = structFields(v.Type())
			for i := range fields {
				fields[i].enc = typeEncoder(v.Type().FieldByIndex(fields[i].index).Type)
			}
		})
		id := e.pendingID
		e.pendingID = idKey{}
		if i, ok := e.lookupID(id); ok {
			e.writeGet(i)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		if e.proto >= 2 {
			if err := e.saveGlobal(g); err != nil {
				return err
			}
			e.b = append(e.b, opEmptyTuple, opNewobj)
		} else {
			// As CPython for protocols without NEWOBJ:
			// copyreg._reconstructor(cls, object, None).
			if err := e.saveGlobal(gReconstruct); err != nil {
				return err
			}
			if err := e.saveTuple(Tuple{g, gObject, nil}); err != nil {
				return err
			}
			e.b = append(e.b, opReduce)
		}
		e.memoizeID(id)
		e.emptyDict()
		e.memoize()
		if err := e.structItems(v, fields); err != nil {
			return err
		}
		e.b = append(e.b, opBuild)
		return nil
	}
}

func fieldByIndexNoAlloc(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

var isZeroerType = reflect.TypeFor[interface{ IsZero() bool }]()

// isZeroValue is the omitzero test (as encoding/json's): the type's
// IsZero method when it has one (a zero time.Time is not the zero
// struct when its location is set), else the zero value.
func isZeroValue(v reflect.Value) bool {
	t := v.Type()
	switch {
	case t.Implements(isZeroerType):
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case v.CanAddr() && reflect.PointerTo(t).Implements(isZeroerType):
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

// datetime.datetime / datetime.timedelta.

func timedeltaArgs(d time.Duration) Tuple {
	us := int64(d) / 1000
	if int64(d)%1000 < 0 {
		us--
	}
	days := us / 86400e6
	rem := us % 86400e6
	if rem < 0 {
		rem += 86400e6
		days--
	}
	return Tuple{days, rem / 1e6, rem % 1e6}
}

func (e *encState) saveDuration(d time.Duration) error {
	return e.saveReduce(gTimedelta, timedeltaArgs(d), nil, false, nil, nil, nil, idKey{})
}

// saveTime writes a datetime.datetime: naive for a time in Naive, else
// aware with tzinfo datetime.timezone(its UTC offset at that instant).
func (e *encState) saveTime(t time.Time) error {
	y := t.Year()
	if y < 1 || y > 9999 {
		return &UnsupportedValueError{Value: reflect.ValueOf(t), Str: "time outside datetime's years 1–9999: " + t.String()}
	}
	us := t.Nanosecond() / 1000
	st := []byte{byte(y >> 8), byte(y), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), byte(us >> 16), byte(us >> 8), byte(us)}
	args := Tuple{st}
	if t.Location() != Naive {
		_, off := t.Zone()
		tz := &Object{Callable: gTimezone, Args: Tuple{&Object{Callable: gTimedelta, Args: timedeltaArgs(time.Duration(off) * time.Second)}}}
		args = append(args, tz)
	}
	return e.saveReduce(gDatetime, args, nil, false, nil, nil, nil, idKey{})
}
