package pickle

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Decode plans: what the typed decoder (typed_decode.go) does with a value
// of one Go type, built once per type and cached, like encoding/json's
// field caches. A plan of kind pkFallback (and every plan that can reach
// one) sends the whole decode through the generic value and converter.go.

type planKind uint8

const (
	pkFallback planKind = iota
	pkBool
	pkInt
	pkUint
	pkFloat
	pkString
	pkSlice // any slice; one of uint8 also takes bytes
	pkArray
	pkMap // string-keyed
	pkStruct
	pkPtr
)

type decPlan struct {
	t      reflect.Type
	kind   planKind
	size   uintptr // t.Size()
	bytes  bool    // slice or array of a uint8 kind: takes bytes too
	elem   *decPlan
	key    *decPlan // pkMap
	si     *structInfo
	fields []fieldPlan // pkStruct, parallel to si.fields
	arrLen int
	// fast is false when a value of this type may need the generic path
	// (an interface, time.Time, an Unmarshaler... anywhere inside it).
	fast bool
	// empty is the data pointer of a non-nil empty slice of this type.
	empty unsafe.Pointer
	// id names the plan in the typed decoder's memo, which holds no
	// pointers (planIDs); 0 is no plan.
	id uint32
}

type fieldPlan struct {
	off    uintptr
	direct bool  // no embedded pointer on the way: the field is at off
	index  []int // path for the others
	plan   *decPlan
}

var planCache sync.Map // reflect.Type -> *decPlan

// planIDs numbers the plans built: the typed decoder's memo names a plan
// by its id so that it holds no pointers (the GC neither scans it nor runs
// write barriers on it).
var planIDs atomic.Uint32

// planFor returns the decode plan of t.
func planFor(t reflect.Type) *decPlan {
	if p, ok := planCache.Load(t); ok {
		return p.(*decPlan)
	}
	building := map[reflect.Type]*decPlan{}
	p := buildPlan(t, building)
	markSlow(building)
	for _, bp := range building {
		bp.id = planIDs.Add(1)
	}
	// Publish only whole graphs: another goroutine never sees a plan being
	// built (two may build the same type; either result is right).
	for bt, bp := range building {
		planCache.LoadOrStore(bt, bp)
	}
	return p
}

func buildPlan(t reflect.Type, building map[reflect.Type]*decPlan) *decPlan {
	if p, ok := planCache.Load(t); ok {
		return p.(*decPlan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &decPlan{t: t, size: t.Size(), fast: true}
	building[t] = p
	if t == timeType || t == durationType || t == bigIntType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return p // pkFallback
	}
	switch t.Kind() {
	case reflect.Bool:
		p.kind = pkBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind = pkInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind = pkUint
	case reflect.Float32, reflect.Float64:
		p.kind = pkFloat
	case reflect.String:
		p.kind = pkString
	case reflect.Slice:
		p.kind = pkSlice
		p.elem = buildPlan(t.Elem(), building)
		p.bytes = t.Elem().Kind() == reflect.Uint8
		p.empty = reflect.MakeSlice(t, 0, 0).UnsafePointer()
	case reflect.Array:
		p.kind = pkArray
		p.elem = buildPlan(t.Elem(), building)
		p.bytes = t.Elem().Kind() == reflect.Uint8
		p.arrLen = t.Len()
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			p.kind = pkMap
			p.key = buildPlan(t.Key(), building)
			p.elem = buildPlan(t.Elem(), building)
		}
	case reflect.Struct:
		p.kind = pkStruct
		p.si = cachedFields(t)
		p.fields = make([]fieldPlan, len(p.si.fields))
		for i, f := range p.si.fields {
			p.fields[i] = fieldPlanOf(t, f, building)
		}
	case reflect.Pointer:
		p.kind = pkPtr
		p.elem = buildPlan(t.Elem(), building)
	}
	return p
}

func fieldPlanOf(t reflect.Type, f field, building map[reflect.Type]*decPlan) fieldPlan {
	fp := fieldPlan{direct: true, index: f.index, plan: buildPlan(f.typ, building)}
	for i, x := range f.index {
		if i > 0 && t.Kind() == reflect.Pointer {
			fp.direct = false
			t = t.Elem()
		}
		sf := t.Field(x)
		fp.off += sf.Offset
		t = sf.Type
	}
	return fp
}

// markSlow clears fast on every plan that can reach a fallback plan.
func markSlow(building map[reflect.Type]*decPlan) {
	for _, p := range building {
		if p.kind == pkFallback {
			p.fast = false
		}
	}
	for changed := true; changed; {
		changed = false
		for _, p := range building {
			if !p.fast {
				continue
			}
			slow := p.elem != nil && !p.elem.fast || p.key != nil && !p.key.fast
			for _, f := range p.fields {
				slow = slow || !f.plan.fast
			}
			if slow {
				p.fast, changed = false, true
			}
		}
	}
}
