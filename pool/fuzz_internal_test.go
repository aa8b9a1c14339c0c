package pool

import (
	"context"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

func fuzzSeeds(f *testing.F) {
	add := func(v any) {
		b, err := pickle.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	add(pickle.Tuple{int64(1), int64(0), pickle.Tuple{true, []any{int64(1), int64(4)}}})
	add(pickle.Tuple{int64(2), int64(3), pickle.Tuple{false, &pickle.Object{Callable: globalRebuildExc,
		Args: pickle.Tuple{&pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ValueError"}, Args: pickle.Tuple{"x"}}, "\n\"\"\"\ntb\n\"\"\""}}}})
	add(pickle.Tuple{int64(1), int64(0), globalMapstar, pickle.Tuple{pickle.Tuple{"square", pickle.Tuple{int64(1), "a"}}}, pickle.NewDict()})
	add(pickle.Tuple{int64(1), int64(0), globalStarmapstar, pickle.Tuple{pickle.Tuple{"add", pickle.Tuple{pickle.Tuple{int64(1), int64(2)}}}}, pickle.NewDict()})
	add(pickle.Tuple{int64(1), int64(0), &pickle.Object{Callable: pickle.Global{Module: "gopool", Name: "GoFunc"}, Args: pickle.Tuple{"square"}}, pickle.Tuple{int64(3)}, pickle.NewDict()})
	add(nil)
}

// FuzzResult: whatever a worker writes on outqueue, the Go parent's
// result parser returns an error or a result, and a failure value always
// becomes a *TaskError, without panicking.
func FuzzResult(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, ok, v, err := parseResult(data)
		if err == nil && !ok {
			if e, isTE := remoteError(v).(*TaskError); !isTE || e.Err == nil {
				t.Fatalf("remoteError(%v) = %v", v, e)
			}
		}
	})
}

// FuzzTask: whatever a parent writes on inqueue, the Go worker's task
// runner answers with a value or an exception, without panicking.
func FuzzTask(f *testing.F) {
	regMu.Lock()
	if _, ok := registry["square"]; !ok {
		registry["square"], _ = wrap("square", func(x int64) int64 { return x * x })
		registry["add"], _ = wrap("add", func(a, b int64) int64 { return a + b })
	}
	regMu.Unlock()
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var task any
		if pickle.Unmarshal(data, &task) != nil {
			return
		}
		tp, ok := task.(pickle.Tuple)
		if !ok || len(tp) != 5 {
			return
		}
		args, _ := tp[3].(pickle.Tuple)
		kwargs, _ := tp[4].(*pickle.Dict)
		v, terr := runTask(context.Background(), tp[2], args, kwargs)
		if terr != nil && terr.exc == nil {
			t.Fatal("failure without an exception")
		}
		if terr == nil {
			if _, err := pickle.Marshal(pickle.Tuple{true, v}); err != nil {
				t.Fatalf("result not picklable: %v", err)
			}
		}
	})
}

// FuzzCallItem: whatever an executor parent writes on the call queue, the
// Go worker parses a _CallItem or reports a protocol error, and runs it to
// a value or an exception that both pickle as a _ResultItem, without
// panicking.
func FuzzCallItem(f *testing.F) {
	regMu.Lock()
	if _, ok := registry["square"]; !ok {
		registry["square"], _ = wrap("square", func(x int64) int64 { return x * x })
		registry["add"], _ = wrap("add", func(a, b int64) int64 { return a + b })
	}
	regMu.Unlock()
	add := func(v any) {
		b, err := pickle.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	item := func(fn, args any) *pickle.Object {
		d := pickle.NewDict()
		_ = d.Set("work_id", int64(7))
		_ = d.Set("fn", fn)
		_ = d.Set("args", args)
		_ = d.Set("kwargs", pickle.NewDict())
		return &pickle.Object{Callable: globalCallItem, NewObj: true, Args: pickle.Tuple{}, State: d}
	}
	goFunc := &pickle.Object{Callable: pickle.Global{Module: "mpwire", Name: "GoFunc"}, Args: pickle.Tuple{"square"}}
	add(item(goFunc, pickle.Tuple{int64(3)}))
	add(item("add", []any{int64(1), int64(2)}))
	add(item(&pickle.Object{Callable: globalRebuildPart, Args: pickle.Tuple{globalProcessChunk, pickle.Tuple{goFunc}, pickle.NewDict()}},
		pickle.Tuple{pickle.Tuple{pickle.Tuple{int64(1)}, pickle.Tuple{int64(2)}}}))
	add(item(&pickle.Object{Callable: globalPartial, Args: pickle.Tuple{"add"}, State: pickle.Tuple{"add", pickle.Tuple{int64(40)}, nil, nil}},
		pickle.Tuple{int64(2)}))
	add(item(pickle.Global{Module: "builtins", Name: "len"}, pickle.Tuple{"x"}))
	add(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if pickle.Unmarshal(data, &v) != nil {
			return
		}
		workID, fn, args, kwargs, err := parseCallItem(v)
		if err != nil {
			return
		}
		res, fail := runCallItem(context.Background(), fn, args, kwargs)
		if fail != nil && fail.exc == nil {
			t.Fatal("failure without an exception")
		}
		if _, err := pickle.Marshal(resultItem(workID, res, fail, nil)); err != nil && fail != nil {
			t.Fatalf("failure result not picklable: %v", err)
		}
	})
}

// A partial that is its own function (a memo cycle) is refused, not
// followed forever.
func TestSelfReferentialPartial(t *testing.T) {
	p := &pickle.Object{Callable: globalPartial, Args: pickle.Tuple{nil}}
	p.State = pickle.Tuple{p, pickle.Tuple{}, nil, nil}
	_, fail := runCallItem(context.Background(), p, pickle.Tuple{}, nil)
	if fail == nil {
		t.Fatal("a self-referential partial ran")
	}
	pe, ok := fail.exc.(*pickle.PythonError)
	if !ok || pe.Type.Name != "TypeError" {
		t.Fatalf("got %v, want a TypeError", fail.exc)
	}
}
