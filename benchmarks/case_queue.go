package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// workerRoles are the parts this program plays when process.Start runs it
// as a queue case's Go producer or consumer.
var workerRoles = testworker.Roles{"bench-produce": roleProduce, "bench-consume": roleConsume}

// roleProduce puts kwargs n items on argument 0: ints (size 0) or a
// size-byte bytes object pickled once, like queue_peer.bench_produce.
func roleProduce(ctx context.Context, child *process.ChildProcess) error {
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
	if err := q.Close(); err != nil {
		return err
	}
	return q.JoinThread(ctx)
}

// roleConsume gets kwargs n items from argument 0 and sends the seconds
// from the first item to the last on the Connection argument 1, like
// queue_peer.bench_consume.
func roleConsume(ctx context.Context, child *process.ChildProcess) error {
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

// queueRun moves n items per producer through one multiprocessing.Queue,
// every producer and the consumer its own process, and returns ns per item
// as the consumer measured it (first item to last).
func (r *runner) queueRun(prods []string, cons string, n, size int, cfg queue.Config) (float64, error) {
	ctx := r.ctx
	q, err := cfg.New(0)
	if err != nil {
		return 0, err
	}
	defer q.Close()
	total := n * len(prods)
	rconn, wconn, err := connection.Pipe(false)
	if err != nil {
		return 0, err
	}
	defer rconn.Close()
	stderr := &pyharness.SyncBuffer{}
	start := func(lang, role string, args []any, kw map[string]any) (*process.Process, error) {
		spec := process.Spec{Args: args, Stderr: stderr, Dir: r.tmp}
		if lang == "py" {
			spec.Python, spec.Path, spec.Target = r.cfg.Python.Path, []string{pyharness.Dir()}, "queue_peer:bench_"+role
			if role == "produce" {
				spec.Args = append(append([]any{}, args...), kw["n"], kw["size"])
			} else {
				spec.Args = []any{args[0], kw["n"], args[1]}
			}
		} else {
			spec.Executable, spec.Kwargs = []string{r.cfg.Exe}, kw
			spec.Kwargs["role"] = "bench-" + role
		}
		return process.Start(ctx, spec)
	}
	var procs []*process.Process
	defer func() {
		for _, p := range procs {
			p.Kill()
			p.Wait(context.Background())
		}
	}()
	cp, err := start(cons, "consume", []any{q, wconn}, map[string]any{"n": total})
	wconn.Close()
	if err != nil {
		return 0, err
	}
	procs = append(procs, cp)
	for _, lang := range prods {
		p, err := start(lang, "produce", []any{q}, map[string]any{"n": n, "size": size})
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	b, err := rconn.RecvBytes(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue %v→%s: %w (stderr: %s)", prods, cons, err, stderr.String())
	}
	var secs float64
	if err := pickle.Unmarshal(b, &secs); err != nil {
		return 0, err
	}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			return 0, fmt.Errorf("queue %v→%s: %w (stderr: %s)", prods, cons, err, stderr.String())
		}
	}
	procs = nil
	if total <= 1 || secs <= 0 {
		// Smoke runs move one item: no interval to time.
		return 1, nil
	}
	return secs * 1e9 / float64(total-1), nil
}

func runQueue(r *runner) error {
	small, big := r.pick(20000, 2), r.pick(200, 2)
	type qrow struct {
		name  string
		prods []string
		cons  string
	}
	pairs := []qrow{
		{"Py→Py", []string{"py"}, "py"},
		{"Go→Py", []string{"go"}, "py"},
		{"Py→Go", []string{"py"}, "go"},
		{"Go→Go", []string{"go"}, "go"},
	}
	for _, sz := range []struct {
		label string
		size  int
		n     int
	}{{"small ints", 0, small}, {"1 MiB bytes", 1 << 20, big}} {
		rows := pairs
		if sz.size == 0 {
			rows = append(rows, qrow{"4→1 Py", []string{"py", "py", "py", "py"}, "py"},
				qrow{"4→1 Go", []string{"go", "go", "go", "go"}, "go"})
		}
		for _, row := range rows {
			n := sz.n
			if len(row.prods) > 1 {
				n = max(1, n/len(row.prods))
			}
			ns, err := r.queueRun(row.prods, row.cons, n, sz.size, queue.Config{})
			if err != nil {
				return err
			}
			r.add("queue/"+sz.label+"/"+row.name, ns)
		}
		k := "queue/" + sz.label + "/"
		if sz.size > 0 {
			// The same with the pipe enlarged (F_SETPIPE_SZ through
			// queue.Config.PipeSize): a 1 MiB item then needs one pipe fill
			// instead of sixteen.
			ns, err := r.queueRun([]string{"go"}, "go", sz.n, sz.size, queue.Config{PipeSize: sz.size})
			if err != nil {
				return err
			}
			r.add(k+"Go→Go pipe", ns)
		}
		var b int64
		if sz.size > 0 {
			b = int64(sz.size)
		}
		wl := fmt.Sprintf("%s, %d items", sz.label, sz.n)
		r.compare(comparison{Case: "Queue", Workload: wl, Subject: "Go→Py", SubjectKey: k + "Go→Py", Baseline: "Py→Py", BaseKey: k + "Py→Py", Bytes: b, Goal: 1.0})
		r.compare(comparison{Case: "Queue", Workload: wl, Subject: "Py→Go", SubjectKey: k + "Py→Go", Baseline: "Py→Py", BaseKey: k + "Py→Py", Bytes: b, Goal: 1.0})
		r.compare(comparison{Case: "Queue", Workload: wl, Subject: "Go→Go", SubjectKey: k + "Go→Go", Baseline: "Py→Py", BaseKey: k + "Py→Py", Bytes: b, Goal: 3.0})
		if sz.size > 0 {
			r.compare(comparison{Case: "Queue", Workload: wl, Subject: "Go→Go, Config.PipeSize 1 MiB", SubjectKey: k + "Go→Go pipe",
				Baseline: "Py→Py", BaseKey: k + "Py→Py", Bytes: b})
		}
		if sz.size == 0 {
			r.compare(comparison{Case: "Queue", Workload: wl + ", 4 producers → 1 consumer", Subject: "4 Go → Go", SubjectKey: k + "4→1 Go",
				Baseline: "4 Py → Py", BaseKey: k + "4→1 Py", Bytes: b})
		}
	}
	r.note("Queue: every producer and the consumer is its own process (Python: pyfixtures/queue_peer.py bench_produce/bench_consume " +
		"started by process.Start; Go: this program as a spawn worker); the consumer times first item to last. Time is per item.")

	return nil
}
