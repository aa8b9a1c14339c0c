package manager_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// TestClientAgainstPython runs every SyncManager typeid through a Go
// client against a CPython SyncManager server, on every interpreter.
func TestClientAgainstPython(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		network, address := startPyServer(t, ctx, py, "tcp")
		c := dialT(t, ctx, network, address)
		runSyncManagerSuite(t, ctx, c, true)
		t.Run("version differences", func(t *testing.T) {
			// Queue is an AutoProxy: its methods are public_methods(queue.Queue()),
			// which gained shutdown() in 3.13.
			q := must(c.Queue(ctx, 0))(t)
			defer q.Close()
			if has, want := slices.Contains(q.Exposed(), "shutdown"), py.AtLeast(3, 13); has != want {
				t.Fatalf("Queue exposed %v: shutdown present = %v, want %v", q.Exposed(), has, want)
			}
			// dict proxies: the exposed tuple lists __iter__ twice (exposed and
			// method_to_typeid) on every version.
			d := must(c.Dict(ctx, nil))(t)
			defer d.Close()
			if !slices.Contains(d.Exposed(), "__iter__") || !slices.Contains(d.Exposed(), "popitem") {
				t.Fatalf("dict exposed %v", d.Exposed())
			}
		})
		t.Run("custom typeid and errors", func(t *testing.T) { customSuite(t, ctx, c) })
		waitObjects(t, ctx, c, 0)
		ok(t, c.Shutdown(ctx))
	})
}

func TestDialWrongKey(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	network, address := startPyServer(t, ctx, py, "tcp")
	_, err := manager.Dial(ctx, network, address, []byte("wrong"))
	if err == nil {
		t.Fatal("Dial with a wrong key succeeded")
	}
}

// runSyncManagerSuite exercises each SyncManager typeid; pyServer tells
// whether the server is CPython (for version-independent checks only).
func runSyncManagerSuite(t *testing.T, ctx context.Context, c *manager.Client, pyServer bool) {
	t.Run("dict", func(t *testing.T) {
		d := must(c.Dict(ctx, nil))(t)
		defer d.Close()
		ok(t, d.Set(ctx, int64(1), "1"))
		ok(t, d.Set(ctx, "2", int64(2)))
		if v := must(d.Get(ctx, "2"))(t); v != int64(2) {
			t.Fatalf("d['2'] = %#v", v)
		}
		_, err := d.Get(ctx, "zz")
		var pe *pickle.PythonError
		if !errors.As(err, &pe) || pe.Type.Name != "KeyError" || len(pe.Args) != 1 || pe.Args[0] != "zz" {
			t.Fatalf("missing key: %v (%#v)", err, pe)
		}
		if !manager.IsPythonError(err, "KeyError") {
			t.Fatalf("IsPythonError(KeyError) false for %v", err)
		}
		if n := must(d.Len(ctx))(t); n != 2 {
			t.Fatalf("len = %d", n)
		}
		if !must(d.Contains(ctx, int64(1)))(t) || must(d.Contains(ctx, 3))(t) {
			t.Fatal("contains")
		}
		if k := must(d.Keys(ctx))(t); !slices.Equal(k, []any{int64(1), "2"}) {
			t.Fatalf("keys = %#v", k)
		}
		if it := must(d.Items(ctx))(t); len(it) != 2 || it[0] != [2]any{int64(1), "1"} {
			t.Fatalf("items = %#v", it)
		}
		if v := must(d.Values(ctx))(t); len(v) != 2 {
			t.Fatalf("values = %#v", v)
		}
		r := must(d.Repr(ctx))(t)
		if r != "{1: '1', '2': 2}" {
			t.Fatalf("repr = %q", r)
		}
		it := must(d.Iter(ctx))(t)
		var keys []any
		for {
			k, more, err := it.Next(ctx)
			ok(t, err)
			if !more {
				break
			}
			keys = append(keys, k)
		}
		ok(t, it.Close())
		if len(keys) != 2 {
			t.Fatalf("iterated %#v", keys)
		}
		if v := must(d.GetDefault(ctx, "nope", "dflt"))(t); v != "dflt" {
			t.Fatalf("get default = %#v", v)
		}
		if v := must(d.SetDefault(ctx, "sd", int64(7)))(t); v != int64(7) {
			t.Fatalf("setdefault = %#v", v)
		}
		upd := pickle.NewDict()
		ok(t, upd.Set("u", 1.5))
		ok(t, d.Update(ctx, upd))
		if v := must(d.Pop(ctx, "u"))(t); v != 1.5 {
			t.Fatalf("pop = %#v", v)
		}
		if v := must(d.PopDefault(ctx, "u", nil))(t); v != nil {
			t.Fatalf("pop default = %#v", v)
		}
		k, v, err := d.PopItem(ctx)
		ok(t, err)
		if k != "sd" || v != int64(7) {
			t.Fatalf("popitem = %v, %v", k, v)
		}
		cp := must(d.Copy(ctx))(t)
		if cp.Len() != 2 {
			t.Fatalf("copy = %v", cp)
		}
		ok(t, d.Delete(ctx, "2"))
		val := must(d.Value(ctx))(t)
		if val.Len() != 1 {
			t.Fatalf("value = %v", val)
		}
		ok(t, d.Clear(ctx))
		if n := must(d.Len(ctx))(t); n != 0 {
			t.Fatalf("len after clear = %d", n)
		}
	})
	t.Run("list", func(t *testing.T) {
		l := must(c.List(ctx, []any{0, 1, 2, 3, 4}))(t)
		defer l.Close()
		ok(t, l.Append(ctx, 1))
		ok(t, l.Extend(ctx, []any{7, 8}))
		ok(t, l.Insert(ctx, 0, -1))
		if v := must(l.Value(ctx))(t); !slices.Equal(v, []any{int64(-1), int64(0), int64(1), int64(2), int64(3), int64(4), int64(1), int64(7), int64(8)}) {
			t.Fatalf("value = %#v", v)
		}
		if i := must(l.Index(ctx, 3))(t); i != 4 {
			t.Fatalf("index = %d", i)
		}
		if n := must(l.Count(ctx, 1))(t); n != 2 {
			t.Fatalf("count = %d", n)
		}
		if v := must(l.Get(ctx, -1))(t); v != int64(8) {
			t.Fatalf("l[-1] = %#v", v)
		}
		if s := must(l.Slice(ctx, 1, 3))(t); !slices.Equal(s, []any{int64(0), int64(1)}) {
			t.Fatalf("l[1:3] = %#v", s)
		}
		_, err := l.Get(ctx, 100)
		if !manager.IsPythonError(err, "IndexError") {
			t.Fatalf("l[100]: %v", err)
		}
		if err := l.Remove(ctx, 99); !manager.IsPythonError(err, "ValueError") {
			t.Fatalf("remove missing: %v", err)
		}
		ok(t, l.Set(ctx, 0, "x"))
		ok(t, l.Delete(ctx, 0))
		ok(t, l.Sort(ctx, true))
		if v := must(l.Get(ctx, 0))(t); v != int64(8) {
			t.Fatalf("after sort l[0] = %#v", v)
		}
		ok(t, l.Reverse(ctx))
		if v := must(l.Pop(ctx))(t); v != int64(8) {
			t.Fatalf("pop = %#v", v)
		}
		if v := must(l.PopAt(ctx, 0))(t); v != int64(0) {
			t.Fatalf("pop(0) = %#v", v)
		}
		if !must(l.Contains(ctx, 7))(t) {
			t.Fatal("7 not in l")
		}
		if s := must(l.Add(ctx, []any{"z"}))(t); len(s) != 7 || s[6] != "z" {
			t.Fatalf("l + ['z'] = %#v", s)
		}
		if s := must(l.Mul(ctx, 2))(t); len(s) != 12 {
			t.Fatalf("l * 2 = %#v", s)
		}
		ok(t, l.IMul(ctx, 2))
		if n := must(l.Len(ctx))(t); n != 12 {
			t.Fatalf("len after *= 2: %d", n)
		}
		r := must(l.Repr(ctx))(t)
		if r[0] != '[' {
			t.Fatalf("repr = %q", r)
		}
	})
	t.Run("Namespace", func(t *testing.T) {
		ns := must(c.Namespace(ctx, map[string]any{"a": 1}))(t)
		defer ns.Close()
		ok(t, ns.Set(ctx, "x", "y"))
		if v := must(ns.Get(ctx, "x"))(t); v != "y" {
			t.Fatalf("ns.x = %#v", v)
		}
		if v := must(ns.Get(ctx, "a"))(t); v != int64(1) {
			t.Fatalf("ns.a = %#v", v)
		}
		_, err := ns.Get(ctx, "missing")
		if !manager.IsPythonError(err, "AttributeError") {
			t.Fatalf("missing attribute: %v", err)
		}
		ok(t, ns.Delete(ctx, "a"))
		attrs := must(ns.Attrs(ctx))(t)
		if attrs.Len() != 1 {
			t.Fatalf("attrs = %v", attrs)
		}
	})
	t.Run("Queue", func(t *testing.T) {
		q := must(c.Queue(ctx, 1))(t)
		defer q.Close()
		ok(t, q.Put(ctx, "a"))
		if err := q.PutNowait(ctx, "b"); !errors.Is(err, manager.ErrFull) {
			t.Fatalf("put_nowait on a full queue: %v", err)
		}
		if !must(q.Full(ctx))(t) || must(q.Qsize(ctx))(t) != 1 {
			t.Fatal("full/qsize")
		}
		if v := must(q.Get(ctx))(t); v != "a" {
			t.Fatalf("get = %#v", v)
		}
		start := time.Now()
		_, err := q.GetTimeout(ctx, 200*time.Millisecond)
		if !errors.Is(err, manager.ErrEmpty) || !manager.IsPythonError(err, "Empty") {
			t.Fatalf("get with timeout on empty queue: %v", err)
		}
		if el := time.Since(start); el < 150*time.Millisecond {
			t.Fatalf("get(timeout=0.2) returned after %v", el)
		}
		if _, err := q.GetNowait(ctx); !errors.Is(err, manager.ErrEmpty) {
			t.Fatalf("get_nowait: %v", err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			q.Put(ctx, int64(42))
		}()
		if v := must(q.Get(ctx))(t); v != int64(42) {
			t.Fatalf("blocking get = %#v", v)
		}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err = q.Get(cctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("get with an expiring context: %v", err)
		}
		if !must(q.Empty(ctx))(t) {
			t.Fatal("not empty")
		}
		jq := must(c.JoinableQueue(ctx, 0))(t)
		defer jq.Close()
		ok(t, jq.Put(ctx, 1))
		ok(t, jq.Put(ctx, 2))
		done := make(chan error, 1)
		go func() { done <- jq.Join(ctx) }()
		for i := 0; i < 2; i++ {
			must(jq.Get(ctx))(t)
			ok(t, jq.TaskDone(ctx))
		}
		ok(t, <-done)
		if err := jq.TaskDone(ctx); !manager.IsPythonError(err, "ValueError") {
			t.Fatalf("extra task_done: %v", err)
		}
	})
	t.Run("Lock contention", func(t *testing.T) {
		l := must(c.Lock(ctx))(t)
		defer l.Close()
		ok(t, l.Acquire(ctx))
		if must(l.TryAcquire(ctx))(t) {
			t.Fatal("acquired a held lock")
		}
		if must(l.AcquireTimeout(ctx, 100*time.Millisecond))(t) {
			t.Fatal("acquired a held lock with timeout")
		}
		got := make(chan error, 1)
		go func() { got <- l.Acquire(ctx) }()
		select {
		case err := <-got:
			t.Fatalf("second acquire returned early: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		ok(t, l.Release(ctx))
		ok(t, <-got)
		ok(t, l.Release(ctx))
		// Many goroutines incrementing a shared value under the lock.
		v := must(c.Value(ctx, "i", 0))(t)
		defer v.Close()
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := l.Acquire(ctx); err != nil {
						t.Error(err)
						return
					}
					n, _ := v.Get(ctx)
					v.Set(ctx, n.(int64)+1)
					l.Release(ctx)
				}
			}()
		}
		wg.Wait()
		if n := must(v.Get(ctx))(t); n != int64(40) {
			t.Fatalf("counter = %v", n)
		}
	})
	t.Run("RLock", func(t *testing.T) {
		r := must(c.RLock(ctx))(t)
		defer r.Close()
		ok(t, r.Acquire(ctx))
		ok(t, r.Acquire(ctx))
		other := must(r.Clone(ctx))(t)
		defer other.Close()
		o := &manager.AcquirerProxy{Proxy: other}
		if must(o.TryAcquire(ctx))(t) {
			t.Fatal("another owner acquired a held RLock")
		}
		if err := o.Release(ctx); !manager.IsPythonError(err, "RuntimeError") {
			t.Fatalf("release by non-owner: %v", err)
		}
		ok(t, r.Release(ctx))
		ok(t, r.Release(ctx))
		if !must(o.TryAcquire(ctx))(t) {
			t.Fatal("could not acquire a free RLock")
		}
		ok(t, o.Release(ctx))
	})
	t.Run("Semaphore", func(t *testing.T) {
		s := must(c.Semaphore(ctx, 2))(t)
		defer s.Close()
		ok(t, s.Acquire(ctx))
		ok(t, s.Acquire(ctx))
		if must(s.TryAcquire(ctx))(t) {
			t.Fatal("acquired a third time")
		}
		ok(t, s.Release(ctx))
		ok(t, s.Release(ctx))
		ok(t, s.Release(ctx)) // unbounded
		b := must(c.BoundedSemaphore(ctx, 1))(t)
		defer b.Close()
		ok(t, b.Acquire(ctx))
		ok(t, b.Release(ctx))
		if err := b.Release(ctx); !manager.IsPythonError(err, "ValueError") {
			t.Fatalf("over-release of a BoundedSemaphore: %v", err)
		}
	})
	t.Run("Condition", func(t *testing.T) {
		waiter := must(c.Condition(ctx))(t)
		defer waiter.Close()
		notifier := must(waiter.Clone(ctx))(t)
		defer notifier.Close()
		ok(t, waiter.Acquire(ctx))
		woke := make(chan error, 1)
		go func() { woke <- waiter.Wait(ctx) }()
		// The waiter released the lock inside wait: the notifier can take it.
		for {
			ok(t, notifier.Acquire(ctx))
			err := notifier.Notify(ctx, 1)
			ok(t, notifier.Release(ctx))
			ok(t, err)
			select {
			case err := <-woke:
				ok(t, err)
				ok(t, waiter.Release(ctx))
				if n, _ := waiter.WaitTimeout(ctx, 0); n {
					t.Fatal("wait without holding the lock succeeded")
				}
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	t.Run("Event", func(t *testing.T) {
		e := must(c.Event(ctx))(t)
		defer e.Close()
		if must(e.WaitTimeout(ctx, 50*time.Millisecond))(t) {
			t.Fatal("unset event waited true")
		}
		done := make(chan error, 1)
		go func() { done <- e.Wait(ctx) }()
		time.Sleep(100 * time.Millisecond)
		ok(t, e.Set(ctx))
		ok(t, <-done)
		if !must(e.IsSet(ctx))(t) {
			t.Fatal("not set")
		}
		ok(t, e.Clear(ctx))
		if must(e.IsSet(ctx))(t) {
			t.Fatal("still set")
		}
	})
	t.Run("Barrier", func(t *testing.T) {
		b := must(c.Barrier(ctx, 3, -1))(t)
		defer b.Close()
		if n := must(b.Parties(ctx))(t); n != 3 {
			t.Fatalf("parties = %d", n)
		}
		var wg sync.WaitGroup
		idx := make(chan int, 3)
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := b.WaitTimeout(ctx, 10*time.Second)
				if err != nil {
					t.Error(err)
				}
				idx <- n
			}()
		}
		wg.Wait()
		close(idx)
		seen := map[int]bool{}
		for n := range idx {
			seen[n] = true
		}
		if len(seen) != 3 {
			t.Fatalf("arrival indexes %v", seen)
		}
		ok(t, b.Abort(ctx))
		if !must(b.Broken(ctx))(t) {
			t.Fatal("not broken after abort")
		}
		if _, err := b.WaitTimeout(ctx, time.Second); !errors.Is(err, manager.ErrBrokenBarrier) {
			t.Fatalf("wait on a broken barrier: %v", err)
		}
		ok(t, b.Reset(ctx))
		if n := must(b.NWaiting(ctx))(t); n != 0 {
			t.Fatalf("n_waiting = %d", n)
		}
	})
	t.Run("Value and Array", func(t *testing.T) {
		v := must(c.Value(ctx, "d", 1.5))(t)
		defer v.Close()
		ok(t, v.Set(ctx, 2.5))
		if x := must(v.Get(ctx))(t); x != 2.5 {
			t.Fatalf("value = %#v", x)
		}
		a := must(c.Array(ctx, "i", []any{1, 2, 3}))(t)
		defer a.Close()
		if n := must(a.Len(ctx))(t); n != 3 {
			t.Fatalf("len = %d", n)
		}
		ok(t, a.Set(ctx, 1, 20))
		if x := must(a.Get(ctx, 1))(t); x != int64(20) {
			t.Fatalf("a[1] = %#v", x)
		}
		if err := a.Set(ctx, 0, "str"); !manager.IsPythonError(err, "TypeError") {
			t.Fatalf("a[0] = 'str': %v", err)
		}
		if vals := must(a.Value(ctx))(t); !slices.Equal(vals, []any{int64(1), int64(20), int64(3)}) {
			t.Fatalf("array = %#v", vals)
		}
	})
}

func customSuite(t *testing.T, ctx context.Context, c *manager.Client) {
	p := must(c.Create(ctx, "Custom", nil, nil))(t)
	defer p.Close()
	if v := must(p.Call(ctx, "add", []any{2, 3}, nil))(t); v != int64(5) {
		t.Fatalf("add = %#v", v)
	}
	var echoed []any
	ok(t, p.CallInto(ctx, &echoed, "echo", []any{"a"}, map[string]any{"k": true}))
	if len(echoed) != 2 {
		t.Fatalf("echo = %#v", echoed)
	}
	_, err := p.Call(ctx, "fail", nil, nil)
	var pe *pickle.PythonError
	if !errors.As(err, &pe) || pe.Type.Name != "ValueError" || len(pe.Args) != 2 || pe.Args[0] != "custom" || pe.Args[1] != int64(42) {
		t.Fatalf("fail: %v %#v", err, pe)
	}
	_, err = p.Call(ctx, "oops", nil, nil)
	if !errors.As(err, &pe) || pe.Type.Name != "CustomError" || pe.Args[0] != "oops" {
		t.Fatalf("oops: %v", err)
	}
	_, err = p.Call(ctx, "unpicklable", nil, nil)
	var re *manager.RemoteError
	if !errors.As(err, &re) || re.Kind != "#UNSERIALIZABLE" {
		t.Fatalf("unpicklable: %v", err)
	}
	_, err = p.Call(ctx, "nosuch", nil, nil)
	if !errors.As(err, &re) || re.Kind != "#TRACEBACK" {
		t.Fatalf("nosuch: %v", err)
	}
	if _, err := c.Create(ctx, "NoSuchType", nil, nil); !errors.As(err, &re) {
		t.Fatalf("create of an unknown typeid: %v", err)
	}
	s1 := must(c.Create(ctx, "get_shared", nil, nil))(t)
	s2 := must(c.Create(ctx, "get_shared", nil, nil))(t)
	if s1.Token().ID != s2.Token().ID {
		t.Fatalf("get_shared gave %s and %s", s1.Token().ID, s2.Token().ID)
	}
	if m := must(c.GetMethods(ctx, s1.Token()))(t); !slices.Contains(m, "keys") {
		t.Fatalf("get_methods = %v", m)
	}
	ok(t, s1.Close())
	ok(t, s2.Close())
}
