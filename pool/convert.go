package pool

import (
	"context"
	"fmt"
	"math"
	"reflect"

	"github.com/mpwire/mpwire/pickle"
)

var (
	typeContext = reflect.TypeFor[context.Context]()
	typeError   = reflect.TypeFor[error]()
)

// assign stores the generic pickle value v (what Unmarshal into *any
// produces) in dst. Plain numbers, strings and values already of dst's type
// are converted directly; everything else goes through a pickle round trip,
// so every type pickle.Unmarshal supports works.
func assign(dst reflect.Value, v any) error {
	t := dst.Type()
	if v == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map:
			dst.SetZero()
			return nil
		}
		return fmt.Errorf("cannot use None as %s", t)
	}
	rv := reflect.ValueOf(v)
	if rv.Type().AssignableTo(t) {
		dst.Set(rv)
		return nil
	}
	switch x := v.(type) {
	case int64:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if dst.OverflowInt(x) {
				return fmt.Errorf("%d overflows %s", x, t)
			}
			dst.SetInt(x)
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if x < 0 || dst.OverflowUint(uint64(x)) {
				return fmt.Errorf("%d overflows %s", x, t)
			}
			dst.SetUint(uint64(x))
			return nil
		case reflect.Float32, reflect.Float64:
			dst.SetFloat(float64(x))
			return nil
		}
	case float64:
		switch t.Kind() {
		case reflect.Float32, reflect.Float64:
			if t.Kind() == reflect.Float32 && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
				return fmt.Errorf("%g overflows %s", x, t)
			}
			dst.SetFloat(x)
			return nil
		}
	case string:
		if t.Kind() == reflect.String {
			dst.SetString(x)
			return nil
		}
	case bool:
		if t.Kind() == reflect.Bool {
			dst.SetBool(x)
			return nil
		}
	}
	b, err := pickle.Marshal(v)
	if err != nil {
		return err
	}
	p := reflect.New(t)
	if err := pickle.Unmarshal(b, p.Interface()); err != nil {
		return err
	}
	dst.Set(p.Elem())
	return nil
}

// assignTo is assign for a pointer out (any pointer; *any gets v as is).
func assignTo(out any, v any) error {
	if p, ok := out.(*any); ok {
		*p = v
		return nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("pool: result must be a non-nil pointer, not %T", out)
	}
	return assign(rv.Elem(), v)
}

// sliceItems returns the elements of a slice or array as values to pickle.
func sliceItems(items any) ([]any, error) {
	switch x := items.(type) {
	case []any:
		return x, nil
	case pickle.Tuple:
		return x, nil
	case nil:
		return nil, nil
	case []int:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = int64(v)
		}
		return out, nil
	case []int64:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = v
		}
		return out, nil
	case []float64:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = v
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = v
		}
		return out, nil
	}
	rv := reflect.ValueOf(items)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
	default:
		return nil, fmt.Errorf("pool: items must be a slice or array, not %T", items)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

// argTuple turns one starmap item (a slice, array or Tuple) into a Tuple.
func argTuple(item any) (pickle.Tuple, error) {
	switch x := item.(type) {
	case pickle.Tuple:
		return x, nil
	case []any:
		return pickle.Tuple(x), nil
	}
	s, err := sliceItems(item)
	if err != nil {
		return nil, fmt.Errorf("pool: starmap item: %w", err)
	}
	return pickle.Tuple(s), nil
}
