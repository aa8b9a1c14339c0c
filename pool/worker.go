package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/mpwire/mpwire/internal/schedyield"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// Func is the raw form of a Go pool function: it gets the positional and
// keyword arguments exactly as decoded (generic pickle values) and returns
// a value to pickle. Returning a *pickle.PythonError raises that exception
// in the Python caller; any other error raises RuntimeError.
type Func func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Func{}
	wrapped  = map[string]bool{} // registered through a wrapper that does not keep its args
)

func noRetain(name string) bool {
	regMu.RLock()
	defer regMu.RUnlock()
	return wrapped[name]
}

// Register makes fn callable from a Python pool under name (Python:
// GoFunc(name), or the plain string). fn is a function whose parameters
// are an optional leading context.Context followed by the positional
// arguments, each decoded from its pickle value into the parameter's type
// (int64, float64, string, []byte, any, slices, maps, structs with pickle
// tags: whatever pickle.Unmarshal supports); a final variadic parameter
// takes the remaining arguments. It returns (R), (R, error), (error) or
// nothing. Keyword arguments are refused unless fn is a Func.
//
// Register panics if fn has another shape or name is empty or taken, like
// http.HandleFunc; call it from init or main before Worker runs.
func Register(name string, fn any) {
	if name == "" {
		panic("pool: Register with an empty name")
	}
	f, err := wrap(name, fn)
	if err != nil {
		panic(err)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("pool: function " + name + " registered twice")
	}
	registry[name] = f
	_, raw := fn.(Func)
	_, rawFunc := fn.(func(context.Context, pickle.Tuple, *pickle.Dict) (any, error))
	wrapped[name] = !raw && !rawFunc
}

// Registered lists the registered names, sorted.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookup(name string) (Func, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// wrap adapts a typed Go function to Func.
func wrap(name string, fn any) (Func, error) {
	switch f := fn.(type) {
	case Func:
		return f, nil
	case func(context.Context, pickle.Tuple, *pickle.Dict) (any, error):
		return f, nil
	}
	if f := fastPath(name, fn); f != nil {
		return f, nil
	}
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	if fv.Kind() != reflect.Func || fv.IsNil() {
		return nil, fmt.Errorf("pool: Register(%q): %T is not a function", name, fn)
	}
	withCtx := ft.NumIn() > 0 && ft.In(0) == typeContext
	first := 0
	if withCtx {
		first = 1
	}
	hasErr := ft.NumOut() > 0 && ft.Out(ft.NumOut()-1) == typeError
	nval := ft.NumOut()
	if hasErr {
		nval--
	}
	if nval > 1 {
		return nil, fmt.Errorf("pool: Register(%q): %s returns more than a value and an error", name, ft)
	}
	nparams := ft.NumIn() - first
	variadic := ft.IsVariadic()
	return func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
		if kwargs != nil && kwargs.Len() > 0 {
			return nil, pyErr("TypeError", "%s() takes no keyword arguments", name)
		}
		if (!variadic && len(args) != nparams) || (variadic && len(args) < nparams-1) {
			return nil, pyErr("TypeError", "%s() takes %d positional arguments but %d were given", name, nparams, len(args))
		}
		in := make([]reflect.Value, 0, first+len(args))
		if withCtx {
			in = append(in, reflect.ValueOf(ctx))
		}
		for i, a := range args {
			var t reflect.Type
			if variadic && i >= nparams-1 {
				t = ft.In(ft.NumIn() - 1).Elem()
			} else {
				t = ft.In(first + i)
			}
			v := reflect.New(t).Elem()
			if err := assign(v, a); err != nil {
				return nil, pyErr("TypeError", "%s() argument %d: %v", name, i+1, err)
			}
			in = append(in, v)
		}
		out := fv.Call(in)
		var err error
		if hasErr {
			if e := out[len(out)-1]; !e.IsNil() {
				err = e.Interface().(error)
			}
		}
		if err != nil {
			return nil, err
		}
		if nval == 1 {
			return out[0].Interface(), nil
		}
		return nil, nil
	}, nil
}

// fastPath wraps common one-argument signatures without reflect.Call.
func fastPath(name string, fn any) Func {
	one := func(args pickle.Tuple, kwargs *pickle.Dict) error {
		if kwargs != nil && kwargs.Len() > 0 {
			return pyErr("TypeError", "%s() takes no keyword arguments", name)
		}
		if len(args) != 1 {
			return pyErr("TypeError", "%s() takes 1 positional argument but %d were given", name, len(args))
		}
		return nil
	}
	argErr := func(err error) error { return pyErr("TypeError", "%s() argument 1: %v", name, err) }
	switch f := fn.(type) {
	case func(int64) int64:
		return func(_ context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
			if err := one(args, kwargs); err != nil {
				return nil, err
			}
			x, ok := args[0].(int64)
			if !ok {
				if err := assign(reflect.ValueOf(&x).Elem(), args[0]); err != nil {
					return nil, argErr(err)
				}
			}
			return f(x), nil
		}
	case func(int64) (int64, error):
		return func(_ context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
			if err := one(args, kwargs); err != nil {
				return nil, err
			}
			x, ok := args[0].(int64)
			if !ok {
				if err := assign(reflect.ValueOf(&x).Elem(), args[0]); err != nil {
					return nil, argErr(err)
				}
			}
			v, err := f(x)
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	case func(float64) float64:
		return func(_ context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
			if err := one(args, kwargs); err != nil {
				return nil, err
			}
			var x float64
			if err := assign(reflect.ValueOf(&x).Elem(), args[0]); err != nil {
				return nil, argErr(err)
			}
			return f(x), nil
		}
	case func(any) any:
		return func(_ context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
			if err := one(args, kwargs); err != nil {
				return nil, err
			}
			return f(args[0]), nil
		}
	}
	return nil
}

func pyErr(typ, format string, a ...any) *pickle.PythonError {
	return &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: typ}, Args: pickle.Tuple{fmt.Sprintf(format, a...)}}
}

// Names of multiprocessing.pool's helpers that appear as a task's func.
var (
	globalMapstar     = pickle.Global{Module: "multiprocessing.pool", Name: "mapstar"}
	globalStarmapstar = pickle.Global{Module: "multiprocessing.pool", Name: "starmapstar"}
	globalReraise     = pickle.Global{Module: "multiprocessing.pool", Name: "_helper_reraises_exception"}
	globalRebuildExc  = pickle.Global{Module: "multiprocessing.pool", Name: "rebuild_exc"}
)

// goFuncName tells which registered function a pickled callable names: a
// GoFunc object (REDUCE of any class named GoFunc with the name as its only
// argument) or a plain string.
func goFuncName(f any) (string, bool) {
	switch x := f.(type) {
	case string:
		return x, true
	case *pickle.Object:
		if x.Callable.Name == "GoFunc" && len(x.Args) == 1 {
			s, ok := x.Args[0].(string)
			return s, ok
		}
	}
	return "", false
}

// callFailure is a failed call: the exception to send and its traceback text.
type callFailure struct {
	exc any
	tb  string
}

// call runs a named Go function, turning errors and panics into Python
// exceptions.
func call(ctx context.Context, f any, args pickle.Tuple, kwargs *pickle.Dict) (any, *callFailure) {
	name, fn, fail := resolve(f)
	if fail != nil {
		return nil, fail
	}
	return protect(name, func() (any, error) { return fn(ctx, args, kwargs) })
}

// resolve finds the registered function a pickled callable names.
func resolve(f any) (string, Func, *callFailure) {
	name, ok := goFuncName(f)
	if !ok {
		e := pyErr("TypeError", "mpwire pool: %s is not a Go function (use GoFunc(name) or a name string)", describe(f))
		return "", nil, &callFailure{exc: e, tb: e.Error() + "\n"}
	}
	fn, ok := lookup(name)
	if !ok {
		e := pyErr("NotImplementedError", "mpwire pool: no Go function registered as %q (have %s)", name, strings.Join(Registered(), ", "))
		return "", nil, &callFailure{exc: e, tb: e.Error() + "\n"}
	}
	return name, fn, nil
}

// protect runs body (calls of the Go function name), turning its error or
// panic into the Python exception to send.
func protect(name string, body func() (any, error)) (res any, terr *callFailure) {
	defer func() {
		if r := recover(); r != nil {
			e := pyErr("RuntimeError", "panic in Go function %s: %v", name, r)
			res, terr = nil, &callFailure{exc: e, tb: fmt.Sprintf("Go panic in %s (pid %d): %v\n\n%s\n%s\n", name, os.Getpid(), r, debug.Stack(), e.Error())}
		}
	}()
	v, err := body()
	if err != nil {
		if f, ok := err.(*callFailure); ok {
			return nil, f
		}
		var pe *pickle.PythonError
		if !errors.As(err, &pe) {
			pe = pyErr("RuntimeError", "%s", err.Error())
		}
		tb := fmt.Sprintf("Go function %s (pid %d) failed:\n", name, os.Getpid())
		if msg := err.Error(); msg != pe.Error() {
			tb += "  " + msg + "\n"
		}
		return nil, &callFailure{exc: pe, tb: tb + pe.Error() + "\n"}
	}
	return v, nil
}

// Error makes a callFailure usable as an error inside protect: it is sent
// as it is.
func (f *callFailure) Error() string { return f.tb }

// callChunk runs the Go function ref names over a map chunk (Python's
// mapstar, starmapstar and concurrent.futures' _process_chunk): fn(item)
// for each item, or fn(*item) when star. The name is looked up once per
// chunk; the first failure fails the chunk, as in Python.
func callChunk(ctx context.Context, ref any, chunk []any, star bool) (any, *callFailure) {
	name, fn, fail := resolve(ref)
	if fail != nil {
		return nil, fail
	}
	// Functions wrapped by Register do not keep their arguments, so one
	// argument tuple serves every item; a raw Func might keep it.
	reuse := !star && noRetain(name)
	var one [1]any
	return protect(name, func() (any, error) {
		out := make([]any, len(chunk))
		for i, item := range chunk {
			var a pickle.Tuple
			switch {
			case star:
				var err error
				if a, err = argTuple(item); err != nil {
					e := pyErr("TypeError", "%v", err)
					return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
				}
			case reuse:
				one[0] = item
				a = one[:]
			default:
				a = pickle.Tuple{item}
			}
			v, err := fn(ctx, a, nil)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	})
}

func describe(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Callable.Module + "." + x.Callable.Name + " object"
	case pickle.Global:
		return x.Module + "." + x.Name
	}
	return fmt.Sprintf("%T", v)
}

// runTask is the body of Python's worker loop for one task:
// func(*args, **kwds) where func may be mapstar/starmapstar over a chunk.
func runTask(ctx context.Context, f any, args pickle.Tuple, kwargs *pickle.Dict) (any, *callFailure) {
	g, isGlobal := f.(pickle.Global)
	if !isGlobal {
		return call(ctx, f, args, kwargs)
	}
	switch g {
	case globalMapstar, globalStarmapstar:
		if len(args) != 1 {
			break
		}
		pair, ok := args[0].(pickle.Tuple)
		if !ok || len(pair) != 2 {
			break
		}
		chunk, err := sliceItems(pair[1])
		if err != nil {
			break
		}
		return callChunk(ctx, pair[0], chunk, g == globalStarmapstar)
	case globalReraise:
		if len(args) == 1 && args[0] != nil {
			// The task generator failed in the parent: send the exception back unwrapped.
			return nil, &callFailure{exc: args[0]}
		}
	}
	e := pyErr("TypeError", "mpwire pool: cannot run %s in a Go worker", describe(f))
	return nil, &callFailure{exc: e, tb: e.Error() + "\n"}
}

var defaultEnc, _ = pickle.EncOptions{}.EncMode()

// WorkerConfig holds the settings of a Go pool worker. The zero value gives
// the defaults.
type WorkerConfig struct {
	// Queue holds the settings of the inherited inqueue and outqueue (item
	// size limit, pickle modes).
	Queue queue.Config
}

// Worker runs the worker loop of whichever Python pool started this
// process, with the registered Go functions.
//
// Started by a multiprocessing pool (the Python package's mpwire.GoPool,
// or New with Config.Executable), it runs multiprocessing.pool.worker:
// child's arguments are (inqueue, outqueue, initializer, initargs,
// maxtasks, wrap_exception). It gets (job, i, func, args, kwds) tasks from
// inqueue, runs the registered Go function (directly or over a
// mapstar/starmapstar chunk) and puts (job, i, (success, value)) on
// outqueue, until None, EOF, maxtasks tasks or the end of ctx. A failed
// call is sent as the exception multiprocessing's own worker sends
// (wrapped in ExceptionWithTraceback's rebuild_exc form when
// wrap_exception is true, so the caller sees the Go text as the remote
// traceback). An initializer that fails ends the worker with the error,
// as in Python.
//
// Started by a concurrent.futures.ProcessPoolExecutor (the Python
// package's mpwire.GoProcessPoolExecutor: the process target is
// concurrent.futures.process._process_worker), it runs that function's
// loop: child's arguments are (call_queue, result_queue, initializer,
// initargs[, max_tasks]). It gets _CallItem(work_id, fn, args, kwargs)
// from call_queue (a multiprocessing Queue), calls the registered function
// fn names (a name, or functools.partial(_process_chunk, name) for the
// chunks of Executor.map) and puts _ResultItem(work_id, exception, result,
// exit_pid) on result_queue; a failure is the exception with the Go text as
// its remote traceback (exc.__cause__ in Python). The None sentinel makes
// it put its pid on result_queue and return; with max_tasks (Python 3.11+)
// it sets exit_pid on its last result and returns. An initializer that
// fails is reported on standard error and the worker returns nil, as
// Python's does (the executor then reports BrokenProcessPool).
func Worker(ctx context.Context, child *process.ChildProcess) error {
	return WorkerConfig{}.Worker(ctx, child)
}

// Worker is the package-level Worker with these settings.
func (wc WorkerConfig) Worker(ctx context.Context, child *process.ChildProcess) error {
	if isExecutorWorker(child) {
		return wc.executorWorker(ctx, child)
	}
	if child.NumArgs() < 2 {
		return fmt.Errorf("pool: worker got %d arguments, want (inqueue, outqueue, initializer, initargs, maxtasks, wrap_exception)", child.NumArgs())
	}
	inq, err := wc.Queue.OpenSimple(child, child.Arg(0))
	if err != nil {
		return fmt.Errorf("pool: inqueue: %w", err)
	}
	defer inq.Close()
	outq, err := wc.Queue.OpenSimple(child, child.Arg(1))
	if err != nil {
		return fmt.Errorf("pool: outqueue: %w", err)
	}
	defer outq.Close()
	qctx, stop := queueContext(ctx, inq.Close, outq.Close)
	defer stop()
	arg := func(i int) any {
		if i < child.NumArgs() {
			return child.Arg(i)
		}
		return nil
	}
	if init := arg(2); init != nil {
		initargs, _ := arg(3).(pickle.Tuple)
		if _, terr := call(ctx, init, initargs, nil); terr != nil {
			return fmt.Errorf("pool: initializer: %v\n%s", terr.exc, terr.tb)
		}
	}
	maxtasks := int64(-1)
	if m, ok := arg(4).(int64); ok {
		maxtasks = m
	}
	wrapExc, _ := arg(5).(bool)
	var yield schedyield.Every // see queueContext
	for completed := int64(0); maxtasks < 0 || completed < maxtasks; completed++ {
		yield.Maybe()
		var task any
		if err := inq.Get(qctx, &task); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			return fmt.Errorf("pool: getting a task: %w", err)
		}
		if task == nil {
			return nil
		}
		t, ok := task.(pickle.Tuple)
		if !ok || len(t) != 5 {
			return fmt.Errorf("pool: malformed task %s", describe(task))
		}
		args, _ := t[3].(pickle.Tuple)
		kwargs, _ := t[4].(*pickle.Dict)
		v, terr := runTask(ctx, t[2], args, kwargs)
		var result pickle.Tuple
		if terr == nil {
			result = pickle.Tuple{true, v}
		} else {
			exc := terr.exc
			if wrapExc && terr.tb != "" {
				exc = &pickle.Object{Callable: globalRebuildExc, Args: pickle.Tuple{exc, "\n\"\"\"\n" + terr.tb + "\"\"\""}}
			}
			result = pickle.Tuple{false, exc}
		}
		if err := outq.Put(qctx, pickle.Tuple{t[0], t[1], result}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Python: MaybeEncodingError when the result cannot be pickled.
			e := pyErr("RuntimeError", "Error sending result: %s. Reason: %v", describe(v), err)
			if err := outq.Put(qctx, pickle.Tuple{t[0], t[1], pickle.Tuple{false, e}}); err != nil {
				return fmt.Errorf("pool: putting a result: %w", err)
			}
		}
	}
	return nil
}

// queueContext returns the context a worker's queue operations use: ctx's
// values without its cancellation, so that a Get waits for the next task
// the way Python's get() does (in a system call, without per-call timers:
// see connection.Config.ThreadWait); the end of ctx closes the queues
// instead, which interrupts a waiting Get or Put. stop undoes that.
func queueContext(ctx context.Context, closers ...func() error) (qctx context.Context, stop func() bool) {
	return context.WithoutCancel(ctx), context.AfterFunc(ctx, func() {
		for _, c := range closers {
			_ = c()
		}
	})
}

// IsWorker reports whether this process was started as a pool worker (a
// multiprocessing spawn child; see process.IsChild).
func IsWorker() bool { return process.IsChild(os.Args) }

// ServeWorker is the whole main of a Go pool worker: it reads the spawn
// payload, runs Worker and exits with Python's exit codes (0, or 1 with the
// error on stderr). Call it first thing in main when IsWorker() is true,
// after registering functions.
func ServeWorker() {
	child, err := process.Child(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool worker:", err)
		os.Exit(1)
	}
	child.Run(func(ctx context.Context) error { return Worker(ctx, child) })
	os.Exit(0)
}
