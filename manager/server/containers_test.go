package server_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// A client controls the factor of list * n; a huge one must be refused, not
// overflow the size check, panic the server or spin for 2**62 iterations.
func TestListRepeatRefusesHugeFactors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, method := range []string{"__mul__", "__rmul__", "__imul__"} {
		for _, tc := range []struct {
			items []any
			n     int64
			want  int // length of the result, or -1 for MemoryError
		}{
			{[]any{1, 2}, 3, 6},
			{[]any{1, 2}, -5, 0},
			{[]any{1, 2}, 1 << 62, -1},
			{[]any{1, 2}, 1<<62 + 1<<61, -1},
			{[]any{1, 2, 3}, 1 << 25, -1},
			{nil, 1 << 62, 0},
		} {
			l := server.NewList(tc.items)
			done := make(chan struct{})
			var v any
			var err error
			go func() {
				defer close(done)
				v, err = l.CallMethod(ctx, nil, method, pickle.Tuple{tc.n}, nil)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatalf("%s(%d) on %d items did not return", method, tc.n, len(tc.items))
			}
			if tc.want < 0 {
				var pe *pickle.PythonError
				if !errors.As(err, &pe) || pe.Type.Name != "MemoryError" {
					t.Errorf("%s(%d) on %d items: %v, want MemoryError", method, tc.n, len(tc.items), err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s(%d): %v", method, tc.n, err)
				continue
			}
			if got := len(v.([]any)); got != tc.want {
				t.Errorf("%s(%d) on %d items: %d items, want %d", method, tc.n, len(tc.items), got, tc.want)
			}
		}
	}
}

// Slice steps come from the client; start+step must not overflow into
// indices outside the list (Python: [1, 2, 3][1::2**63-1] == [2]).
func TestListSliceWithExtremeSteps(t *testing.T) {
	ctx := context.Background()
	const maxInt = int64(^uint64(0) >> 1)
	for _, tc := range []struct {
		start, stop, step any
		want              []any
	}{
		{nil, nil, int64(2), []any{"a", "c"}},
		{int64(1), nil, maxInt, []any{"b"}},
		{int64(2), nil, maxInt - 1, []any{"c"}},
		{nil, nil, -maxInt - 1, []any{"c"}},
		{int64(1), nil, -maxInt, []any{"b"}},
		{nil, nil, int64(-2), []any{"c", "a"}},
		{int64(-maxInt - 1), int64(maxInt), int64(1), []any{"a", "b", "c"}},
	} {
		l := server.NewList([]any{"a", "b", "c"})
		v, err := l.CallMethod(ctx, nil, "__getitem__", pickle.Tuple{manager.Slice(tc.start, tc.stop, tc.step)}, nil)
		if err != nil {
			t.Errorf("[%v:%v:%v]: %v", tc.start, tc.stop, tc.step, err)
			continue
		}
		if got, ok := v.([]any); !ok || len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[1] != tc.want[1]) {
			t.Errorf("[%v:%v:%v] = %#v, want %#v", tc.start, tc.stop, tc.step, v, tc.want)
		}
		// Deleting the same slice removes as many items.
		if _, err := l.CallMethod(ctx, nil, "__delitem__", pickle.Tuple{manager.Slice(tc.start, tc.stop, tc.step)}, nil); err != nil {
			t.Errorf("del [%v:%v:%v]: %v", tc.start, tc.stop, tc.step, err)
		} else if n := len(l.Value()); n != 3-len(tc.want) {
			t.Errorf("del [%v:%v:%v] left %d items, want %d", tc.start, tc.stop, tc.step, n, 3-len(tc.want))
		}
	}
}

// A pickled range() from a client is expanded by counting, as Python's
// len(range(...)): stepping past stop would overflow for a huge step.
func TestListExtendWithExtremeRanges(t *testing.T) {
	ctx := context.Background()
	const maxInt = int64(^uint64(0) >> 1)
	rng := func(a, b, c int64) *pickle.Object {
		return &pickle.Object{Callable: pickle.Global{Module: "builtins", Name: "range"}, Args: pickle.Tuple{a, b, c}}
	}
	for _, tc := range []struct {
		r    *pickle.Object
		want []int64 // nil: MemoryError
	}{
		{rng(0, 5, 2), []int64{0, 2, 4}},
		{rng(5, 0, -2), []int64{5, 3, 1}},
		{rng(1, 3, maxInt), []int64{1}},
		{rng(-2, -maxInt-1, -maxInt-1), []int64{-2}},
		{rng(maxInt-1, maxInt, maxInt), []int64{maxInt - 1}},
		{rng(-maxInt-1, maxInt, maxInt), []int64{-maxInt - 1, -1, maxInt - 1}},
		{rng(0, 0, 1), []int64{}},
		{rng(0, maxInt, 1), nil},
		{rng(-maxInt-1, maxInt, 1), nil},
	} {
		l := server.NewList(nil)
		_, err := l.CallMethod(ctx, nil, "extend", pickle.Tuple{tc.r}, nil)
		if tc.want == nil {
			var pe *pickle.PythonError
			if !errors.As(err, &pe) || pe.Type.Name != "MemoryError" {
				t.Errorf("range%v: %v, want MemoryError", tc.r.Args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("range%v: %v", tc.r.Args, err)
			continue
		}
		got := l.Value()
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			ok = got[i] == tc.want[i]
		}
		if !ok {
			t.Errorf("list(range%v) = %v, want %v", tc.r.Args, got, tc.want)
		}
	}
}

// Timeouts come from the client as floats: a huge one waits (it must not
// convert to a negative Duration and time out at once), NaN behaves as in Python.
func TestEventWaitExtremeTimeouts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := server.NewEvent()
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := e.CallMethod(wctx, nil, "wait", pickle.Tuple{1e300}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("wait(1e300) on an unset event returned at once: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	wcancel()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("wait(1e300) ignored its cancelled context")
	}
	// Python's Event.wait(nan) does not block ("timeout > 0" is false).
	if v, err := e.CallMethod(ctx, nil, "wait", pickle.Tuple{math.NaN()}, nil); err != nil || v != false {
		t.Fatalf("wait(nan) = %v, %v; want False", v, err)
	}
}

// list.extend(s) of a str adds its characters as list(s) does; a lone
// surrogate (held in its 'surrogatepass' bytes, as the pickle package
// decodes it) is one character, not three invalid bytes.
func TestListExtendWithStr(t *testing.T) {
	l := server.NewList(nil)
	if _, err := l.CallMethod(context.Background(), nil, "extend", pickle.Tuple{"a\u00e9\xed\xa0\x80"}, nil); err != nil {
		t.Fatal(err)
	}
	got, want := l.Value(), []any{"a", "\u00e9", "\xed\xa0\x80"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list.extend of a str with a lone surrogate: %q, want %q", got, want)
	}
}
