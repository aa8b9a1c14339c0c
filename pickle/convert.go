package pickle

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Marshaler is implemented by types that pickle as another value:
// MarshalPickle returns the value to encode in their place (any value
// Marshal accepts, e.g. an *Object for a Python class instance).
type Marshaler interface {
	MarshalPickle() (any, error)
}

// Unmarshaler is implemented by types that decode themselves: UnmarshalPickle
// receives the generic decoded value (as Unmarshal into *any produces).
type Unmarshaler interface {
	UnmarshalPickle(v any) error
}

var (
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	marshalerType   = reflect.TypeFor[Marshaler]()
	timeType        = reflect.TypeFor[time.Time]()
	durationType    = reflect.TypeFor[time.Duration]()
	bigIntType      = reflect.TypeFor[big.Int]()
	anyType         = reflect.TypeFor[any]()
)

// Class registry (RegisterClass).
var registry struct {
	sync.RWMutex
	byName map[Global]reflect.Type
	byType map[reflect.Type]Global
}

// RegisterClass maps the Python class module.name to the Go type of
// prototype (a struct or a pointer to a struct), both ways:
//
//   - decoding: an instance of module.name (NEWOBJ/REDUCE + BUILD of its
//     __dict__) becomes a value of that Go type, filled from the state dict
//     like a struct from a dict; in generic values too (Unmarshal into *any
//     yields the Go value instead of an *Object);
//   - encoding: a value of that type (or a pointer to it) pickles as
//     NEWOBJ(module.name, ()) + BUILD(dict of its fields), which Python
//     loads as an instance whose __dict__ holds the fields (so the class
//     must be importable on the Python side and must not need __init__).
//
// It is meant to be called from init functions; it is safe for concurrent
// use. Registering the same name or type again replaces the mapping.
func RegisterClass(module, name string, prototype any) {
	t := reflect.TypeOf(prototype)
	if t == nil {
		panic("pickle: RegisterClass with nil prototype")
	}
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Kind() != reflect.Struct {
		panic("pickle: RegisterClass prototype must be a struct or pointer to struct, not " + t.String())
	}
	g := Global{Module: module, Name: name}
	registry.Lock()
	defer registry.Unlock()
	if registry.byName == nil {
		registry.byName = map[Global]reflect.Type{}
		registry.byType = map[reflect.Type]Global{}
	}
	registry.byName[g] = t
	registry.byType[base] = g
}

// Extension registry (RegisterExtension).
var extensions struct {
	sync.RWMutex
	byCode map[int32]Global
	byName map[Global]int32
}

// RegisterExtension mirrors copyreg.add_extension(module, name, code): the
// decoder resolves EXT1/EXT2/EXT4 with this code to Global{module, name},
// and the encoder writes that Global as the EXT opcode in protocol 2 and
// later, as CPython does. The Python peer must register the same code.
// Codes are 1..2^31-1. An unregistered code decodes to Ext{Code}, which
// the encoder writes back as the same opcode.
func RegisterExtension(module, name string, code int32) {
	if code <= 0 {
		panic("pickle: RegisterExtension code must be positive")
	}
	g := Global{Module: module, Name: name}
	extensions.Lock()
	defer extensions.Unlock()
	if extensions.byCode == nil {
		extensions.byCode = map[int32]Global{}
		extensions.byName = map[Global]int32{}
	}
	extensions.byCode[code] = g
	extensions.byName[g] = code
}

func lookupExtension(code int32) (Global, bool) {
	extensions.RLock()
	defer extensions.RUnlock()
	g, ok := extensions.byCode[code]
	return g, ok
}

func extensionCode(g Global) (int32, bool) {
	extensions.RLock()
	defer extensions.RUnlock()
	c, ok := extensions.byName[g]
	return c, ok
}

func lookupClass(g Global) (reflect.Type, bool) {
	registry.RLock()
	defer registry.RUnlock()
	if registry.byName == nil {
		return nil, false
	}
	t, ok := registry.byName[g]
	return t, ok
}

func lookupType(t reflect.Type) (Global, bool) {
	registry.RLock()
	defer registry.RUnlock()
	if registry.byType == nil {
		return Global{}, false
	}
	g, ok := registry.byType[t]
	return g, ok
}

// Struct field metadata, cached per type like encoding/json.
type field struct {
	name      string
	nameLower string
	index     []int
	typ       reflect.Type
	omitEmpty bool // `pickle:",omitempty"`: left out when empty (see isEmptyValue)
	omitZero  bool // `pickle:",omitzero"`: left out when zero (IsZero() if the type has it)
}

type structInfo struct {
	fields []field
	byName map[string]int
}

var structCache sync.Map // reflect.Type -> *structInfo

func cachedFields(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{byName: map[string]int{}}
	seen := map[string]int{} // name -> depth
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("pickle")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := f.Type
			if f.Anonymous && !f.IsExported() && ft.Kind() == reflect.Pointer {
				// Cannot allocate an unexported embedded pointer (as encoding/json).
				continue
			}
			if f.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, idx, depth+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if d, ok := seen[name]; ok {
				if d <= depth {
					continue
				}
				// A shallower field wins: replace.
				j := si.byName[name]
				si.fields[j] = newField(name, idx, ft, opts)
				seen[name] = depth
				continue
			}
			seen[name] = depth
			si.byName[name] = len(si.fields)
			si.fields = append(si.fields, newField(name, idx, ft, opts))
		}
	}
	walk(t, nil, 0)
	v, _ := structCache.LoadOrStore(t, si)
	return v.(*structInfo)
}

func newField(name string, index []int, t reflect.Type, opts string) field {
	f := field{name: name, nameLower: strings.ToLower(name), index: index, typ: t}
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "omitempty":
			f.omitEmpty = true
		case "omitzero":
			f.omitZero = true
		}
	}
	return f
}

func (si *structInfo) lookup(name string) (*field, bool) {
	if i, ok := si.byName[name]; ok {
		return &si.fields[i], true
	}
	for i := range si.fields {
		if strings.EqualFold(si.fields[i].name, name) {
			return &si.fields[i], true
		}
	}
	return nil, false
}

// fieldByIndexAlloc is v.FieldByIndex allocating nil embedded pointers.
func fieldByIndexAlloc(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// converter stores generic values into typed Go values.
type converter struct {
	s     *decState
	count int
	depth int
	ptrs  map[ptrKey]reflect.Value // shared Python objects already converted to Go pointers
}

type ptrKey struct {
	src any // *Object, *Dict, *Set
	t   reflect.Type
}

func (c *converter) typeErr(src any, t reflect.Type, msg string) error {
	var off int64
	if c.s != nil {
		off = int64(c.s.pos)
	}
	val := pyTypeName(src)
	switch x := src.(type) {
	case int64:
		val = "int " + strconv.FormatInt(x, 10)
	case *big.Int:
		val = intText(x)
	}
	return &UnmarshalTypeError{Value: val, Type: t, Offset: off, Msg: msg}
}

// intText names x as an error does: "int " and its decimal text; past the
// 4300 digits CPython converts to decimal (DefaultMaxLongDigits;
// docs/spec.md, CPython-side safety caps), its size in bits instead. A
// LONG4 may hold 2^20 bytes (DefaultMaxLongBytes), and decimal conversion
// takes time super-linear in the length: 1 MiB decoded into an int64 cost
// ~1 s of big.Int.String (and 38 MB) for a 2.5 MB error.
func intText(x *big.Int) string {
	if pastMaxDigits(x) {
		sign := ""
		if x.Sign() < 0 {
			sign = "negative "
		}
		return sign + "int of " + strconv.Itoa(x.BitLen()) + " bits"
	}
	return "int " + x.String()
}

func prefixField(err error, seg string) error {
	if e, ok := err.(*UnmarshalTypeError); ok {
		if e.Field == "" || strings.HasPrefix(e.Field, "[") {
			e.Field = seg + e.Field
		} else {
			e.Field = seg + "." + e.Field
		}
	}
	return err
}

// charge counts n bytes allocated for the typed value against MaxAlloc.
func (c *converter) charge(n uintptr) error {
	s := c.s
	if s == nil {
		return nil
	}
	s.alloc += int64(n)
	if limit := s.m.allocLimit(s.pos); s.alloc > limit {
		return &LimitError{Limit: "MaxAlloc", Max: limit, Msg: "decoding and typed conversion allocated too many bytes (a shared value copied once per reference?)"}
	}
	return nil
}

// sliceHeader is what reflect.MakeSlice allocates besides the array.
const sliceHeader = unsafe.Sizeof([]any(nil))

// mapBytes estimates the allocation of a map of type t with n entries.
func mapBytes(t reflect.Type, n int) uintptr {
	return 48 + uintptr(n)*(t.Key().Size()+t.Elem().Size()+8)
}

func (c *converter) assign(dst reflect.Value, src any) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer func() { c.depth-- }()
	t := dst.Type()
	switch t.Kind() {
	case reflect.Pointer:
		return c.assignPtr(dst, src, t)
	case reflect.Interface:
		return c.assignIface(dst, src, t)
	}
	if dst.CanAddr() && reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := dst.Addr().Interface().(Unmarshaler).UnmarshalPickle(src); err != nil {
			return &MarshalerError{Type: t, Err: err, op: "UnmarshalPickle"}
		}
		return nil
	}
	if src == nil {
		switch t.Kind() {
		case reflect.Map, reflect.Slice:
			dst.SetZero()
		}
		return nil
	}
	if sv := reflect.ValueOf(src); sv.Type() == t {
		// Already a Go value of the right type (a registered class converted
		// earlier, or a generic value into a field of its own type).
		switch src.(type) {
		case []any, Tuple, *Dict, *Set, *FrozenSet, *Object:
		default:
			dst.Set(sv)
			return nil
		}
	}
	switch t {
	case timeType, durationType, bigIntType:
		return c.assignTimeOrBig(dst, src, t)
	}
	return c.assignKind(dst, src, t)
}

// enter counts a value made and checks the depth: a self-referential value
// converted into a recursive Go type would recurse forever, so the depth
// is bounded as the decoder bounds it.
func (c *converter) enter() error {
	c.count++
	if c.s != nil && c.count > c.s.m.maxObjects {
		return &LimitError{Limit: "MaxObjects", Max: int64(c.s.m.maxObjects), Msg: "typed conversion made too many values"}
	}
	c.depth++
	maxDepth := DefaultMaxDepth
	if c.s != nil {
		maxDepth = c.s.m.maxDepth
	}
	if c.depth > maxDepth {
		c.depth--
		return &LimitError{Limit: "MaxDepth", Max: int64(maxDepth), Msg: "typed conversion nested too deep (a cycle?)"}
	}
	return nil
}

func (c *converter) assignPtr(dst reflect.Value, src any, t reflect.Type) error {
	if src == nil {
		dst.SetZero()
		return nil
	}
	if sv := reflect.ValueOf(src); sv.Type() == t {
		dst.Set(sv)
		return nil
	}
	// One Python object referenced twice becomes one Go pointer (and a
	// self-referential one a Go cycle).
	switch src.(type) {
	case *Object, *Dict, *Set:
		k := ptrKey{src, t}
		if p, ok := c.ptrs[k]; ok {
			dst.Set(p)
			return nil
		}
		if err := c.charge(t.Elem().Size()); err != nil {
			return err
		}
		p := reflect.New(t.Elem())
		if c.ptrs == nil {
			c.ptrs = make(map[ptrKey]reflect.Value)
		}
		c.ptrs[k] = p
		dst.Set(p)
		return c.assign(p.Elem(), src)
	}
	if dst.IsNil() {
		if err := c.charge(t.Elem().Size()); err != nil {
			return err
		}
		dst.Set(reflect.New(t.Elem()))
	}
	return c.assign(dst.Elem(), src)
}

func (c *converter) assignIface(dst reflect.Value, src any, t reflect.Type) error {
	if src == nil {
		dst.SetZero()
		return nil
	}
	if o, ok := src.(*Object); ok && o.CallableValue == nil {
		if rt, ok := lookupClass(o.class()); ok && (reflect.PointerTo(rt).Implements(t) || rt.Implements(t)) {
			if err := c.charge(rt.Size()); err != nil {
				return err
			}
			v := reflect.New(rt).Elem()
			if err := c.assign(v, o); err != nil {
				return err
			}
			if v.Type().Implements(t) {
				dst.Set(v)
			} else {
				dst.Set(v.Addr())
			}
			return nil
		}
	}
	sv := reflect.ValueOf(src)
	if sv.Type().AssignableTo(t) {
		dst.Set(sv)
		return nil
	}
	return c.typeErr(src, t, "")
}

// assignTimeOrBig stores into time.Time, time.Duration and big.Int.
func (c *converter) assignTimeOrBig(dst reflect.Value, src any, t reflect.Type) error {
	switch t {
	case timeType:
		tm, err := toTime(src)
		if err != nil {
			return c.typeErr(src, t, err.Error())
		}
		dst.Set(reflect.ValueOf(tm))
		return nil
	case durationType:
		d, err := toDuration(src)
		if err != nil {
			return c.typeErr(src, t, err.Error())
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch x := src.(type) {
	case int64:
		dst.Set(reflect.ValueOf(*big.NewInt(x)))
		return nil
	case *big.Int:
		if err := c.charge(uintptr(len(x.Bits())) * unsafe.Sizeof(big.Word(0))); err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(*new(big.Int).Set(x)))
		return nil
	case bool:
		var b big.Int
		if x {
			b.SetInt64(1)
		}
		dst.Set(reflect.ValueOf(b))
		return nil
	}
	return c.typeErr(src, t, "")
}

// assignKind stores src by the kind of dst.
func (c *converter) assignKind(dst reflect.Value, src any, t reflect.Type) error {
	var done bool
	var err error
	switch t.Kind() {
	case reflect.Bool:
		if b, ok := src.(bool); ok {
			dst.SetBool(b)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		done, err = c.assignInt(dst, src, t)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		done, err = c.assignUint(dst, src, t)
	case reflect.Float32, reflect.Float64:
		return c.assignFloat(dst, src, t)
	case reflect.Complex64, reflect.Complex128:
		done = assignComplex(dst, src)
	case reflect.String:
		switch x := src.(type) {
		case string:
			dst.SetString(x)
			return nil
		case Global:
			dst.SetString(x.String())
			return nil
		}
	case reflect.Slice:
		done, err = c.assignSlice(dst, src, t)
	case reflect.Array:
		done, err = c.assignArray(dst, src)
	case reflect.Map:
		done, err = c.assignMap(dst, src, t)
	case reflect.Struct:
		switch x := src.(type) {
		case *Dict:
			return c.fromDict(dst, x)
		case *Object:
			return c.fromObject(dst, x, t)
		}
	}
	if done || err != nil {
		return err
	}
	return c.typeErr(src, t, "")
}

func (c *converter) assignInt(dst reflect.Value, src any, t reflect.Type) (bool, error) {
	switch x := src.(type) {
	case int64:
		if dst.OverflowInt(x) {
			return true, c.typeErr(src, t, "overflows "+t.String())
		}
		dst.SetInt(x)
		return true, nil
	case bool:
		if x {
			dst.SetInt(1)
		} else {
			dst.SetInt(0)
		}
		return true, nil
	case *big.Int:
		return true, c.typeErr(src, t, "overflows "+t.String())
	}
	return false, nil
}

func (c *converter) assignUint(dst reflect.Value, src any, t reflect.Type) (bool, error) {
	switch x := src.(type) {
	case int64:
		if x < 0 || dst.OverflowUint(uint64(x)) {
			return true, c.typeErr(src, t, "overflows "+t.String())
		}
		dst.SetUint(uint64(x))
		return true, nil
	case bool:
		if x {
			dst.SetUint(1)
		} else {
			dst.SetUint(0)
		}
		return true, nil
	case *big.Int:
		if x.Sign() < 0 || !x.IsUint64() || dst.OverflowUint(x.Uint64()) {
			return true, c.typeErr(src, t, "overflows "+t.String())
		}
		dst.SetUint(x.Uint64())
		return true, nil
	}
	return false, nil
}

func (c *converter) assignFloat(dst reflect.Value, src any, t reflect.Type) error {
	var f float64
	switch x := src.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case *big.Int:
		f, _ = new(big.Float).SetInt(x).Float64()
	default:
		return c.typeErr(src, t, "")
	}
	if t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && !math.IsNaN(f) && dst.OverflowFloat(f) {
		return c.typeErr(src, t, "overflows "+t.String())
	}
	dst.SetFloat(f)
	return nil
}

func assignComplex(dst reflect.Value, src any) bool {
	if o, ok := src.(*Object); ok && o.CallableValue == nil && o.Callable == (Global{"builtins", "complex"}) && len(o.Args) == 2 {
		re, ok1 := toFloat(o.Args[0])
		im, ok2 := toFloat(o.Args[1])
		if ok1 && ok2 {
			dst.SetComplex(complex(re, im))
			return true
		}
	}
	return false
}

// byteItems returns the data of bytes or a bytearray.
func byteItems(src any) ([]byte, bool) {
	switch x := src.(type) {
	case []byte:
		return x, true
	case ByteArray:
		return x, true
	}
	return nil, false
}

func (c *converter) assignSlice(dst reflect.Value, src any, t reflect.Type) (bool, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		if b, ok := byteItems(src); ok {
			if err := c.charge(uintptr(len(b))); err != nil {
				return true, err
			}
			dst.SetBytes(append(make([]byte, 0, len(b)), b...))
			return true, nil
		}
	}
	items, ok := seqItems(src)
	if !ok {
		return false, nil
	}
	if err := c.charge(sliceHeader + uintptr(len(items))*t.Elem().Size()); err != nil {
		return true, err
	}
	sl := reflect.MakeSlice(t, len(items), len(items))
	for i, it := range items {
		if err := c.assign(sl.Index(i), it); err != nil {
			return true, prefixField(err, "["+strconv.Itoa(i)+"]")
		}
	}
	dst.Set(sl)
	return true, nil
}

func (c *converter) assignArray(dst reflect.Value, src any) (bool, error) {
	if dst.Type().Elem().Kind() == reflect.Uint8 {
		if b, ok := byteItems(src); ok && b != nil {
			dst.SetZero()
			reflect.Copy(dst, reflect.ValueOf(b))
			return true, nil
		}
	}
	items, ok := seqItems(src)
	if !ok {
		return false, nil
	}
	dst.SetZero()
	for i, it := range items {
		if i >= dst.Len() {
			break
		}
		if err := c.assign(dst.Index(i), it); err != nil {
			return true, prefixField(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return true, nil
}

func (c *converter) assignMap(dst reflect.Value, src any, t reflect.Type) (bool, error) {
	// A set into map[T]bool or map[T]struct{}.
	if items, isSet := setItems(src); isSet && (t.Elem().Kind() == reflect.Bool || t.Elem().Kind() == reflect.Struct && t.Elem().NumField() == 0) {
		return true, c.setIntoMap(dst, items, t)
	}
	d, ok := src.(*Dict)
	if !ok {
		o, isObj := src.(*Object)
		if !isObj || o.DictItems == nil {
			return false, nil
		}
		d = o.DictItems
	}
	if err := c.charge(mapBytes(t, d.Len())); err != nil {
		return true, err
	}
	if dst.IsNil() {
		dst.Set(reflect.MakeMapWithSize(t, d.Len()))
	}
	kt, vt := t.Key(), t.Elem()
	for i := range d.ents {
		e := &d.ents[i]
		kv := reflect.New(kt).Elem()
		if err := c.assign(kv, e.k); err != nil {
			return true, prefixField(err, "[key "+reprShort(e.k)+"]")
		}
		if kt.Kind() == reflect.Interface && !kv.IsNil() && !kv.Elem().Type().Comparable() {
			return true, prefixField(c.typeErr(e.k, kt, "a Go map key must be comparable (decode into *Dict instead)"), "[key "+reprShort(e.k)+"]")
		}
		vv := reflect.New(vt).Elem()
		if err := c.assign(vv, e.v); err != nil {
			return true, prefixField(err, "["+reprShort(e.k)+"]")
		}
		dst.SetMapIndex(kv, vv)
	}
	return true, nil
}

// setIntoMap stores a set's items as the keys of a map[T]bool (true) or
// map[T]struct{}.
func (c *converter) setIntoMap(dst reflect.Value, items []any, t reflect.Type) error {
	if err := c.charge(mapBytes(t, len(items))); err != nil {
		return err
	}
	if dst.IsNil() {
		dst.Set(reflect.MakeMapWithSize(t, len(items)))
	}
	val := reflect.New(t.Elem()).Elem()
	if val.Kind() == reflect.Bool {
		val.SetBool(true)
	}
	for _, it := range items {
		kv := reflect.New(t.Key()).Elem()
		if err := c.assign(kv, it); err != nil {
			return prefixField(err, "[key "+reprShort(it)+"]")
		}
		if t.Key().Kind() == reflect.Interface && !kv.IsNil() && !kv.Elem().Type().Comparable() {
			return c.typeErr(it, t.Key(), "a Go map key must be comparable")
		}
		dst.SetMapIndex(kv, val)
	}
	return nil
}

func setItems(src any) ([]any, bool) {
	switch x := src.(type) {
	case *Set:
		return x.Items(), true
	case *FrozenSet:
		return x.Items(), true
	}
	return nil, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func seqItems(src any) ([]any, bool) {
	switch x := src.(type) {
	case []any:
		return x, true
	case Tuple:
		return x, true
	case *Set:
		return x.Items(), true
	case *FrozenSet:
		return x.Items(), true
	case *Object:
		if x.ListItems != nil {
			return x.ListItems, true
		}
	}
	return nil, false
}

func (c *converter) fromDict(dst reflect.Value, d *Dict) error {
	si := cachedFields(dst.Type())
	for i := range d.ents {
		e := &d.ents[i]
		name, ok := e.k.(string)
		if !ok {
			continue
		}
		f, ok := si.lookup(name)
		if !ok {
			continue
		}
		if err := c.assign(fieldByIndexAlloc(dst, f.index), e.v); err != nil {
			return prefixField(err, f.name)
		}
	}
	return nil
}

// fromObject fills a struct from an instance's state: BUILD's dict, or the
// (dict, slots) pair; keyword arguments of NEWOBJ_EX count as state too.
func (c *converter) fromObject(dst reflect.Value, o *Object, t reflect.Type) error {
	if t.Kind() == reflect.Pointer {
		if dst.IsNil() {
			if err := c.charge(t.Elem().Size()); err != nil {
				return err
			}
			dst.Set(reflect.New(t.Elem()))
		}
		dst = dst.Elem()
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return c.typeErr(o, t, "")
	}
	if o.Kwargs != nil {
		if err := c.fromDict(dst, o.Kwargs); err != nil {
			return err
		}
	}
	switch st := o.State.(type) {
	case nil:
		return nil
	case *Dict:
		return c.fromDict(dst, st)
	case Tuple:
		for _, part := range st {
			if d, ok := part.(*Dict); ok {
				if err := c.fromDict(dst, d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return c.typeErr(o, t, "object state is "+pyTypeName(o.State)+", not a dict")
}

// datetime support.

var (
	gDatetime  = Global{"datetime", "datetime"}
	gDate      = Global{"datetime", "date"}
	gTimedelta = Global{"datetime", "timedelta"}
	gTimezone  = Global{"datetime", "timezone"}
	gZoneInfo  = Global{"zoneinfo", "ZoneInfo"}
	gZoneUnpk  = Global{"zoneinfo.ZoneInfo", "_unpickle"}
)

// Naive is the location of times decoded from naive datetime.datetime
// values (no tzinfo); their wall clock is read as UTC. Marshal writes a
// time.Time in this location (compared by pointer) as a naive datetime, and
// a time in any other location — time.UTC included — as an aware datetime
// whose tzinfo is datetime.timezone(its UTC offset at that instant). Its
// name is "naive", so such a time prints as 2024-01-02 03:04:05 +0000 naive.
var Naive = time.FixedZone("naive", 0)

func stateBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string: // Python 2 pickles: latin-1 text
		return latin1(x)
	}
	return nil, false
}

func toTime(src any) (time.Time, error) {
	o, ok := src.(*Object)
	if !ok || o.CallableValue != nil {
		return time.Time{}, fmt.Errorf("not a datetime")
	}
	switch o.Callable {
	case gDatetime:
		if len(o.Args) < 1 || len(o.Args) > 2 {
			return time.Time{}, fmt.Errorf("datetime with %d arguments", len(o.Args))
		}
		b, ok := stateBytes(o.Args[0])
		if !ok || len(b) != 10 {
			return time.Time{}, fmt.Errorf("bad datetime state")
		}
		month := int(b[2] & 0x7f)
		if month < 1 || month > 12 || b[3] < 1 || b[3] > 31 || b[4] > 23 || b[5] > 59 || b[6] > 59 {
			return time.Time{}, fmt.Errorf("bad datetime state")
		}
		us := int(b[7])<<16 | int(b[8])<<8 | int(b[9])
		if us > 999999 {
			return time.Time{}, fmt.Errorf("bad datetime microseconds")
		}
		loc := Naive
		if len(o.Args) == 2 && o.Args[1] != nil {
			var err error
			if loc, err = toLocation(o.Args[1]); err != nil {
				return time.Time{}, err
			}
		}
		return time.Date(int(b[0])<<8|int(b[1]), time.Month(month), int(b[3]), int(b[4]), int(b[5]), int(b[6]), us*1000, loc), nil
	case gDate:
		if len(o.Args) != 1 {
			return time.Time{}, fmt.Errorf("date with %d arguments", len(o.Args))
		}
		b, ok := stateBytes(o.Args[0])
		if !ok || len(b) != 4 || b[2] < 1 || b[2] > 12 || b[3] < 1 || b[3] > 31 {
			return time.Time{}, fmt.Errorf("bad date state")
		}
		return time.Date(int(b[0])<<8|int(b[1]), time.Month(b[2]), int(b[3]), 0, 0, 0, 0, Naive), nil
	}
	return time.Time{}, fmt.Errorf("not a datetime")
}

func toLocation(v any) (*time.Location, error) {
	o, ok := v.(*Object)
	if !ok || o.CallableValue != nil {
		return nil, fmt.Errorf("unsupported tzinfo %s", pyTypeName(v))
	}
	switch o.Callable {
	case gTimezone:
		if len(o.Args) < 1 || len(o.Args) > 2 {
			return nil, fmt.Errorf("bad timezone arguments")
		}
		d, err := toDuration(o.Args[0])
		if err != nil {
			return nil, err
		}
		name := ""
		if len(o.Args) == 2 {
			name, _ = o.Args[1].(string)
		}
		if d == 0 && (name == "" || name == "UTC") {
			return time.UTC, nil
		}
		return time.FixedZone(name, int(d/time.Second)), nil
	case gZoneUnpk, gZoneInfo:
		if len(o.Args) >= 1 {
			if key, ok := o.Args[0].(string); ok {
				loc, err := time.LoadLocation(key)
				if err != nil {
					return nil, fmt.Errorf("zoneinfo %q: %w", key, err)
				}
				return loc, nil
			}
		}
	}
	return nil, fmt.Errorf("unsupported tzinfo %s", pyTypeName(v))
}

func toDuration(src any) (time.Duration, error) {
	o, ok := src.(*Object)
	if !ok || o.CallableValue != nil || o.Callable != gTimedelta || len(o.Args) != 3 {
		return 0, fmt.Errorf("not a timedelta")
	}
	var p [3]int64
	for i, a := range o.Args {
		n, ok := a.(int64)
		if !ok {
			return 0, fmt.Errorf("bad timedelta arguments")
		}
		p[i] = n
	}
	us := new(big.Int).Mul(big.NewInt(p[0]), big.NewInt(86400e6))
	us.Add(us, new(big.Int).Mul(big.NewInt(p[1]), big.NewInt(1e6)))
	us.Add(us, big.NewInt(p[2]))
	ns := us.Mul(us, big.NewInt(1000))
	if !ns.IsInt64() {
		return 0, fmt.Errorf("timedelta out of time.Duration range")
	}
	return time.Duration(ns.Int64()), nil
}
