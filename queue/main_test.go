package queue_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// TestMain doubles as the Go worker of the interop tests: started by a
// spawn parent (mpwire.GoProcess in Python, or process.Start with
// Spec.Executable), the test binary plays kwargs["role"] instead of
// running the tests.
func TestMain(m *testing.M) {
	testworker.Main(m, testworker.Roles{
		"put":           rolePut,
		"echo":          roleEcho,
		"timeouts":      roleTimeouts,
		"produce":       roleProduce,
		"consume":       roleConsume,
		"bench-produce": roleBenchProduce,
		"bench-consume": roleBenchConsume,
	})
}

// putter is what the roles need from any of the three queue kinds.
type putter interface {
	Put(ctx context.Context, v any) error
}

type getter interface {
	Get(ctx context.Context, v any) error
}

// closeFlush closes a queue and waits until its feeder wrote everything.
func closeFlush(ctx context.Context, q any) error {
	switch x := q.(type) {
	case *queue.Queue:
		if err := x.Close(); err != nil {
			return err
		}
		return x.JoinThread(ctx)
	case *queue.JoinableQueue:
		if err := x.Close(); err != nil {
			return err
		}
		return x.JoinThread(ctx)
	case *queue.SimpleQueue:
		return x.Close()
	}
	return fmt.Errorf("not a queue: %T", q)
}

// openArg rebuilds whichever queue kind argument i is.
func openArg(child *process.ChildProcess, i int) (any, error) {
	v := child.Arg(i)
	if o, ok := v.(*pickle.Object); ok {
		switch o.Callable.Name {
		case "Queue":
			return queue.Open(child, v)
		case "JoinableQueue":
			return queue.OpenJoinable(child, v)
		case "SimpleQueue":
			return queue.OpenSimple(child, v)
		}
	}
	return nil, fmt.Errorf("argument %d is %T, not a pickled queue", i, v)
}

// rolePut: put kwargs["items"] on argument 0, flush.
func rolePut(ctx context.Context, child *process.ChildProcess) error {
	q, err := openArg(child, 0)
	if err != nil {
		return err
	}
	items, _ := child.Kwarg("items")
	for _, it := range items.([]any) {
		if err := q.(putter).Put(ctx, it); err != nil {
			return err
		}
	}
	return closeFlush(ctx, q)
}

// roleEcho: get kwargs["n"] items from argument 0 (generic values) and put
// each back on argument 1; task_done each if the input is joinable.
func roleEcho(ctx context.Context, child *process.ChildProcess) error {
	qin, err := openArg(child, 0)
	if err != nil {
		return err
	}
	qout, err := openArg(child, 1)
	if err != nil {
		return err
	}
	var n int
	if err := child.UnmarshalKwarg("n", &n); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		var v any
		if err := qin.(getter).Get(ctx, &v); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if err := qout.(putter).Put(ctx, v); err != nil {
			return err
		}
		if j, ok := qin.(*queue.JoinableQueue); ok {
			if err := j.TaskDone(ctx); err != nil {
				return err
			}
		}
	}
	return closeFlush(ctx, qout)
}

// roleTimeouts runs Full/Empty cases on argument 0 (an empty Queue(1))
// and reports what happened on argument 1.
func roleTimeouts(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return err
	}
	out, err := queue.Open(child, child.Arg(1))
	if err != nil {
		return err
	}
	res := map[string]any{}
	name := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, queue.ErrEmpty):
			return "Empty"
		case errors.Is(err, queue.ErrFull):
			return "Full"
		}
		return err.Error()
	}
	var v any
	res["get_nowait_empty"] = name(q.GetNowait(&v))
	t0 := time.Now()
	res["get_timeout_empty"] = name(q.GetTimeout(context.Background(), 200*time.Millisecond, &v))
	res["get_timeout_waited"] = time.Since(t0).Seconds()
	res["put_nowait_1"] = name(q.PutNowait("one"))
	res["put_nowait_2"] = name(q.PutNowait("two"))
	t0 = time.Now()
	res["put_timeout_2"] = name(q.PutTimeout(context.Background(), 200*time.Millisecond, "two"))
	res["put_timeout_waited"] = time.Since(t0).Seconds()
	n, err := q.Qsize()
	if err != nil {
		return err
	}
	res["qsize"] = n
	full, err := q.Full()
	if err != nil {
		return err
	}
	res["full"] = full
	if err := out.Put(ctx, res); err != nil {
		return err
	}
	if err := closeFlush(ctx, q); err != nil {
		return err
	}
	return closeFlush(ctx, out)
}

// roleProduce (stress): put kwargs start..start+n-1 as ints on argument 0.
func roleProduce(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return err
	}
	var start, n int
	if err := child.UnmarshalKwarg("start", &start); err != nil {
		return err
	}
	if err := child.UnmarshalKwarg("n", &n); err != nil {
		return err
	}
	for i := start; i < start+n; i++ {
		if err := q.Put(ctx, i); err != nil {
			return err
		}
	}
	return closeFlush(ctx, q)
}

// roleConsume (stress): get ints from argument 0 until None, then send
// them as native int64s on the Connection argument 1.
func roleConsume(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return err
	}
	conn, err := child.Conn(1)
	if err != nil {
		return err
	}
	var got []byte
	for {
		var v any
		if err := q.Get(ctx, &v); err != nil {
			return err
		}
		if v == nil {
			break
		}
		got = binary.NativeEndian.AppendUint64(got, uint64(v.(int64)))
	}
	if err := conn.SendBytes(context.Background(), got); err != nil {
		return err
	}
	return conn.Close()
}

func roleBenchProduce(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return err
	}
	var n, size int
	if err := child.UnmarshalKwarg("n", &n); err != nil {
		return err
	}
	if err := child.UnmarshalKwarg("size", &size); err != nil {
		return err
	}
	var item []byte
	if size > 0 {
		if item, err = pickle.Marshal(make([]byte, size)); err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		if size > 0 {
			err = q.PutPickle(ctx, item)
		} else {
			err = q.Put(ctx, i)
		}
		if err != nil {
			return err
		}
	}
	return closeFlush(ctx, q)
}

func roleBenchConsume(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return err
	}
	conn, err := child.Conn(1)
	if err != nil {
		return err
	}
	var n int
	if err := child.UnmarshalKwarg("n", &n); err != nil {
		return err
	}
	var v any
	if err := q.Get(ctx, &v); err != nil {
		return err
	}
	t0 := time.Now()
	for i := 1; i < n; i++ {
		if err := q.Get(ctx, &v); err != nil {
			return err
		}
	}
	b, err := pickle.Marshal(time.Since(t0).Seconds())
	if err != nil {
		return err
	}
	if err := conn.SendBytes(context.Background(), b); err != nil {
		return err
	}
	return conn.Close()
}
