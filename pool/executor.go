package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mpwire/mpwire/internal/schedyield"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// Names in concurrent.futures.process (the same in CPython 3.8 to 3.13)
// that a ProcessPoolExecutor's worker sees or sends (docs/spec.md#executor-workers).
var (
	globalProcessWorker = pickle.Global{Module: "concurrent.futures.process", Name: "_process_worker"}
	globalSafeQueue     = pickle.Global{Module: "concurrent.futures.process", Name: "_SafeQueue"}
	globalCallItem      = pickle.Global{Module: "concurrent.futures.process", Name: "_CallItem"}
	globalResultItem    = pickle.Global{Module: "concurrent.futures.process", Name: "_ResultItem"}
	globalProcessChunk  = pickle.Global{Module: "concurrent.futures.process", Name: "_process_chunk"}
	globalRebuildExcCF  = pickle.Global{Module: "concurrent.futures.process", Name: "_rebuild_exc"}
	globalPartial       = pickle.Global{Module: "functools", Name: "partial"}
	globalRebuildPart   = pickle.Global{Module: "multiprocessing.reduction", Name: "_rebuild_partial"}
	globalMPQueue       = pickle.Global{Module: "multiprocessing.queues", Name: "Queue"}
)

// isExecutorWorker tells the two worker protocols apart: the executor's
// workers are started with target concurrent.futures.process._process_worker
// (Python's GoProcessPoolExecutor keeps it) and a Queue, not a SimpleQueue,
// as their first argument.
func isExecutorWorker(child *process.ChildProcess) bool {
	if g, ok := child.Target().(pickle.Global); ok {
		return g == globalProcessWorker
	}
	if o, ok := child.Arg(0).(*pickle.Object); ok {
		c := o.Class()
		return c == globalSafeQueue || c == globalMPQueue
	}
	return false
}

// callQueueState returns the pickled call queue as the plain
// multiprocessing.queues.Queue that it is on the wire (_SafeQueue adds
// nothing to Queue's pickled state).
func callQueueState(v any) any {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != globalSafeQueue {
		return v
	}
	q := *o
	q.Callable = globalMPQueue
	return &q
}

// executorWorker is concurrent.futures.process._process_worker(call_queue,
// result_queue, initializer, initargs[, max_tasks]) in Go
// (docs/spec.md#executor-workers).
func (wc WorkerConfig) executorWorker(ctx context.Context, child *process.ChildProcess) error {
	if child.NumArgs() < 4 {
		return fmt.Errorf("pool: executor worker got %d arguments, want (call_queue, result_queue, initializer, initargs[, max_tasks])", child.NumArgs())
	}
	callq, err := wc.Queue.Open(child, callQueueState(child.Arg(0)))
	if err != nil {
		return fmt.Errorf("pool: call queue: %w", err)
	}
	defer callq.Close()
	resq, err := wc.Queue.OpenSimple(child, child.Arg(1))
	if err != nil {
		return fmt.Errorf("pool: result queue: %w", err)
	}
	defer resq.Close()
	qctx, stop := queueContext(ctx, callq.Close, resq.Close)
	defer stop()
	if init := child.Arg(2); init != nil {
		initargs, _ := child.Arg(3).(pickle.Tuple)
		if _, f := call(ctx, init, initargs, nil); f != nil {
			// Python logs "Exception in initializer:" and returns; the
			// parent sees the worker exit and breaks the pool.
			fmt.Fprintf(os.Stderr, "Exception in initializer:\n%s", f.tb)
			return nil
		}
	}
	maxTasks := int64(-1) // 3.11+ pass max_tasks; None or absent: no limit
	if m, ok := child.Arg(4).(int64); ok && m > 0 {
		maxTasks = m
	}
	enc := wc.Queue.EncMode
	if enc == nil {
		enc = defaultEnc
	}
	pid := int64(os.Getpid())
	var yield schedyield.Every
	for done := int64(0); ; {
		yield.Maybe()
		var item any
		if err := callq.Get(qctx, &item); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			return fmt.Errorf("pool: getting a call item: %w", err)
		}
		if item == nil {
			// The shutdown sentinel: tell the executor which worker left.
			if err := resq.Put(qctx, pid); err != nil && ctx.Err() == nil {
				return fmt.Errorf("pool: putting the exit pid: %w", err)
			}
			return nil
		}
		workID, fn, args, kwargs, err := parseCallItem(item)
		if err != nil {
			return err
		}
		var exitPid any
		if maxTasks > 0 {
			if done++; done >= maxTasks {
				exitPid = pid
			}
		}
		v, f := runCallItem(ctx, fn, args, kwargs)
		data, err := enc.Marshal(resultItem(workID, v, f, exitPid))
		if err != nil {
			// Python's _sendback_result: the result cannot be pickled, so
			// the pickling error is sent instead.
			e := pyErr("TypeError", "cannot pickle the result of the Go function: %v", err)
			tb := fmt.Sprintf("Go worker (pid %d) could not pickle a result:\n  %v\n%s\n", pid, err, e.Error())
			if data, err = enc.Marshal(resultItem(workID, nil, &callFailure{exc: e, tb: tb}, exitPid)); err != nil {
				return fmt.Errorf("pool: pickling a result item: %w", err)
			}
		}
		if err := resq.PutPickle(qctx, data); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("pool: putting a result item: %w", err)
		}
		if exitPid != nil {
			return nil
		}
	}
}

// parseCallItem reads a _CallItem(work_id, fn, args, kwargs): NEWOBJ of
// the class and BUILD of its __dict__.
func parseCallItem(item any) (workID any, fn any, args pickle.Tuple, kwargs *pickle.Dict, err error) {
	o, ok := item.(*pickle.Object)
	var d *pickle.Dict
	if ok && o.Class() == globalCallItem {
		d, ok = o.State.(*pickle.Dict)
	}
	if !ok {
		return nil, nil, nil, nil, fmt.Errorf("pool: %w: call item is %s, not a concurrent.futures.process._CallItem", ErrProtocol, describe(item))
	}
	workID, ok1 := d.Get("work_id")
	fn, ok2 := d.Get("fn")
	a, _ := d.Get("args")
	k, _ := d.Get("kwargs")
	args, ok3 := asTuple(a)
	kwargs, ok4 := k.(*pickle.Dict)
	if k == nil {
		ok4 = true
	}
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, nil, nil, nil, fmt.Errorf("pool: %w: _CallItem state has work_id %s, fn %s, args %s, kwargs %s",
			ErrProtocol, describe(workID), describe(fn), describe(a), describe(k))
	}
	return workID, fn, args, kwargs, nil
}

// partialParts unpacks functools.partial(func, *args, **keywords) in
// either pickled form: multiprocessing's ForkingPickler (every queue)
// reduces it to _rebuild_partial(func, args, keywords); plain pickle
// writes REDUCE of the class with (func,) and BUILD of (func, args,
// keywords, __dict__).
func partialParts(v any) (fn any, args pickle.Tuple, kw *pickle.Dict, ok bool) {
	o, isObj := v.(*pickle.Object)
	if !isObj {
		return nil, nil, nil, false
	}
	var parts []any
	switch o.Class() {
	case globalRebuildPart:
		parts = o.Args
	case globalPartial:
		st, _ := o.State.(pickle.Tuple)
		parts = st
	}
	if len(parts) < 3 {
		return nil, nil, nil, false
	}
	args, ok = asTuple(parts[1])
	if !ok {
		return nil, nil, nil, false
	}
	kw, ok = parts[2].(*pickle.Dict)
	if !ok && parts[2] != nil {
		return nil, nil, nil, false
	}
	return parts[0], args, kw, true
}

// asTuple accepts a tuple, a list (Python 3.8's Executor.submit passes
// the arguments as a list) or None.
func asTuple(v any) (pickle.Tuple, bool) {
	switch x := v.(type) {
	case pickle.Tuple:
		return x, true
	case []any:
		return pickle.Tuple(x), true
	case nil:
		return pickle.Tuple{}, true
	}
	return nil, false
}

// runCallItem is call_item.fn(*call_item.args, **call_item.kwargs): fn is a
// registered name (GoFunc or str), functools.partial(_process_chunk, name)
// for Executor.map's chunks, or a partial of a name.
func runCallItem(ctx context.Context, fn any, args pickle.Tuple, kwargs *pickle.Dict) (any, *callFailure) {
	return runPartial(ctx, fn, args, kwargs, 0)
}

// maxPartialDepth bounds partial(partial(…)) nesting: a hostile pickle can
// make a partial its own function through the memo.
const maxPartialDepth = 32

func runPartial(ctx context.Context, fn any, args pickle.Tuple, kwargs *pickle.Dict, depth int) (any, *callFailure) {
	pfn, pargs, pkw, ok := partialParts(fn)
	if !ok {
		return call(ctx, fn, args, kwargs)
	}
	if depth >= maxPartialDepth {
		e := pyErr("TypeError", "mpwire pool: functools.partial nested more than %d deep", maxPartialDepth)
		return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
	}
	if g, isGlobal := pfn.(pickle.Global); isGlobal && g == globalProcessChunk {
		// _process_chunk(fn, chunk) = [fn(*args) for args in chunk]
		all := append(append(pickle.Tuple{}, pargs...), args...)
		if len(all) != 2 || (pkw != nil && pkw.Len() > 0) || (kwargs != nil && kwargs.Len() > 0) {
			e := pyErr("TypeError", "_process_chunk() takes 2 positional arguments but %d were given", len(all))
			return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
		}
		chunk, err := sliceItems(all[1])
		if err != nil {
			e := pyErr("TypeError", "_process_chunk(): chunk is %s", describe(all[1]))
			return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
		}
		return callChunk(ctx, all[0], chunk, true)
	}
	// partial(f, *pargs, **pkw)(*args, **kwargs) = f(*pargs, *args, **{**pkw, **kwargs})
	all := append(append(make(pickle.Tuple, 0, len(pargs)+len(args)), pargs...), args...)
	kw := kwargs
	if pkw != nil && pkw.Len() > 0 {
		kw = pickle.NewDict()
		for _, d := range []*pickle.Dict{pkw, kwargs} {
			if d == nil {
				continue
			}
			for k, v := range d.All() {
				if err := kw.Set(k, v); err != nil {
					e := pyErr("TypeError", "partial keywords: %v", err)
					return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
				}
			}
		}
	}
	return runPartial(ctx, pfn, all, kw, depth+1)
}

// resultItem is _ResultItem(work_id, exception, result, exit_pid); a
// failure travels as _ExceptionWithTraceback's reduction,
// _rebuild_exc(exc, '\n"""\n' + traceback + '"""'), so Python sets the Go
// text as the exception's __cause__ (a _RemoteTraceback). Python 3.8-3.10
// ignore the extra exit_pid attribute.
func resultItem(workID, v any, f *callFailure, exitPid any) *pickle.Object {
	d := pickle.NewDict()
	var exc any
	if f != nil {
		exc = &pickle.Object{Callable: globalRebuildExcCF, Args: pickle.Tuple{f.exc, "\n\"\"\"\n" + f.tb + "\"\"\""}}
		v = nil
	}
	_ = d.Set("work_id", workID)
	_ = d.Set("exception", exc)
	_ = d.Set("result", v)
	_ = d.Set("exit_pid", exitPid)
	return &pickle.Object{Callable: globalResultItem, NewObj: true, Args: pickle.Tuple{}, State: d}
}
