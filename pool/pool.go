package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// Config describes a Pool: Config.New starts one with these settings, New
// with the zero Config (Python workers, one per CPU, the interpreter
// process.Python finds). A Pool copies its Config.
type Config struct {
	// Python is the workers' interpreter (a path, or a name in PATH); empty
	// (with no Executable) means process.Python(). Each worker runs
	// multiprocessing.pool.worker, CPython's own loop.
	Python string
	// Flags are interpreter flags for the workers.
	Flags []string
	// Executable, instead of Python, starts Go workers: a program whose
	// main calls ServeWorker (Executable[0], then an argv prefix). Task
	// functions are then registered names rather than "module:function".
	Executable []string
	// Path is prepended to the workers' sys.path (PYTHONPATH) so the
	// functions' modules can be imported.
	Path []string
	// MainPath is the main script of the program the workers work for:
	// each Python worker runs it as __mp_main__ before unpickling tasks,
	// as Python's spawn does for its parent's __main__, so functions
	// defined there unpickle (see process.Spec.MainPath). Empty: none.
	MainPath string
	// Authkey is the workers' authentication key (process.Spec.Authkey;
	// nil: 32 random bytes). Python's workers inherit their parent's, which
	// manager proxies among the tasks' arguments need to connect.
	Authkey []byte
	// Env is added to the workers' environment; Dir is their working
	// directory (empty: the current one).
	Env []string
	Dir string
	// Stdout and Stderr receive the workers' output (nil: this process's).
	Stdout, Stderr io.Writer

	// Processes is the number of workers; 0 means runtime.NumCPU()
	// (Python: os.cpu_count()).
	Processes int
	// Initializer, if set, is called as Initializer(*InitArgs) when each
	// worker starts: "module:function" or a Python callable as a pickle
	// value (as for the calls' fn) for Python workers, a registered name
	// for Go workers.
	Initializer any
	InitArgs    []any
	// MaxTasksPerChild, if positive, makes a worker exit after that many
	// tasks; the pool starts a fresh one (Python: maxtasksperchild).
	MaxTasksPerChild int
	// Tracker is passed to the workers as their resource tracker (see
	// process.Spec.Tracker); nil lets each Python worker start its own
	// when it needs one.
	Tracker *process.ResourceTracker
	// RestartDelay is the pause before retrying a worker that failed to
	// start (default 100ms).
	RestartDelay time.Duration
	// TerminateGrace is how long Terminate waits after SIGTERM before
	// SIGKILL (default 2s).
	TerminateGrace time.Duration
	// Queue holds the settings of the task and result queues (item size
	// limit, pickle modes). Its Logger defaults to the pool's.
	Queue queue.Config
	// Logger, if set, records the workers' lives: Debug when one starts,
	// Info when one exits normally (MaxTasksPerChild), Warn when one exits
	// with an error or cannot be started (with its pid, exit code and the
	// last line of its stderr: a traceback's exception, often an
	// initializer that failed), Error when the pool gives up
	// (ErrWorkerFailed). nil logs nothing.
	Logger *slog.Logger
}

// maxWorkerFailures is how many workers in a row may exit with an error
// (or fail to start) without the pool receiving a single result in
// between before it gives up with ErrWorkerFailed: a failing initializer,
// a function module every worker dies importing, a crash in every task.
const maxWorkerFailures = 3

const (
	stateRun = iota
	stateClose
	stateTerminate
)

// Pool is a multiprocessing pool of Python (or Go) worker processes driven
// from Go: the workers run multiprocessing.pool.worker and talk to the Go
// parent over two SimpleQueues exactly as they would to a Python Pool.
//
// All methods are safe for concurrent use.
type Pool struct {
	cfg       Config
	newCtx    context.Context // New's context
	ctx       context.Context // the pool's lifetime: ends at Terminate or after Join
	cancel    context.CancelFunc
	inq, outq *queue.SimpleQueue
	init      any
	initArgs  pickle.Tuple
	spawned   atomic.Int64

	mu      sync.Mutex
	state   int
	workers map[*process.Process]struct{}
	jobs    map[int64]*job
	nextJob int64
	changed chan struct{} // closed and replaced whenever workers or jobs change
	lastErr error         // last worker start failure
	// failures counts workers that exited with an error or failed to
	// start since the last result arrived; results counts results.
	failures int
	results  int64
	broken   error // why the pool gave up (ErrWorkerFailed), once it has

	readerDone chan struct{}
	finishOnce sync.Once
	joined     chan struct{}
}

// New starts a pool of Python workers with the default settings (Python:
// multiprocessing.get_context("spawn").Pool()): one per CPU, run by the
// interpreter process.Python() finds. It returns once every worker has read
// its spawn payload. When ctx ends, the pool is terminated.
func New(ctx context.Context) (*Pool, error) { return Config{}.New(ctx) }

// New is the package-level New with these settings.
func (cfg Config) New(ctx context.Context) (*Pool, error) {
	if cfg.Python != "" && len(cfg.Executable) > 0 {
		return nil, fmt.Errorf("%w: both Python and Executable set", ErrBadConfig)
	}
	if cfg.Python == "" && len(cfg.Executable) == 0 {
		py, err := process.Python()
		if err != nil {
			return nil, fmt.Errorf("%w: no Python or Executable set, and %w", ErrBadConfig, err)
		}
		cfg.Python = py
	}
	if cfg.Processes < 0 {
		return nil, fmt.Errorf("%w: Processes %d", ErrBadConfig, cfg.Processes)
	}
	if cfg.Processes == 0 {
		cfg.Processes = runtime.NumCPU()
	}
	if cfg.RestartDelay <= 0 {
		cfg.RestartDelay = 100 * time.Millisecond
	}
	if cfg.TerminateGrace <= 0 {
		cfg.TerminateGrace = 2 * time.Second
	}
	if cfg.Queue.Logger == nil {
		cfg.Queue.Logger = cfg.Logger
	}
	p := &Pool{cfg: cfg, newCtx: ctx, workers: map[*process.Process]struct{}{}, jobs: map[int64]*job{},
		changed: make(chan struct{}), readerDone: make(chan struct{}), joined: make(chan struct{})}
	if cfg.Initializer != nil && cfg.Initializer != "" {
		ref, err := p.funcRef(cfg.Initializer)
		if err != nil {
			return nil, fmt.Errorf("%w: Initializer: %v", ErrBadConfig, err)
		}
		p.init = ref
	}
	p.initArgs = pickle.Tuple(cfg.InitArgs)
	if p.initArgs == nil {
		p.initArgs = pickle.Tuple{}
	}
	var err error
	if p.inq, err = cfg.Queue.NewSimple(); err != nil {
		return nil, err
	}
	if p.outq, err = cfg.Queue.NewSimple(); err != nil {
		p.inq.Close()
		return nil, err
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.readResults()

	errs := make([]error, cfg.Processes)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.startWorker()
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		p.Terminate()
		// Usually the same failure each time (an initializer that cannot
		// be imported): report the first, which holds the traceback.
		return nil, fmt.Errorf("pool: %d of %d workers failed to start; the first: %w", len(failed), len(errs), failed[0])
	}
	go func() {
		select {
		case <-ctx.Done():
			p.Terminate()
		case <-p.joined:
		}
	}()
	return p, nil
}

// funcRef is what a task's func is: a GLOBAL (or the callable given) for
// Python workers, the registered name for Go workers. The function
// argument of the calls (Map, Imap, ApplyAsync, …) and Config.Initializer
// is, for Python workers, "module:function" or a Python callable as a
// pickle value, sent to the workers unchanged: a pickle.Global, or a
// *pickle.Object such as a functools.partial or a bound method
// (getattr(obj, name)), what a Python client of a manager's Pool sends.
// For Go workers it is the name the function was registered under.
func (p *Pool) funcRef(f any) (any, error) {
	fn, isName := f.(string)
	if len(p.cfg.Executable) > 0 {
		if !isName {
			return nil, fmt.Errorf("function %T: Go workers take a registered name", f)
		}
		if fn == "" {
			return nil, errors.New("empty function name")
		}
		return fn, nil
	}
	if !isName {
		if f == nil {
			return nil, errors.New("no function")
		}
		return f, nil
	}
	mod, name, ok := strings.Cut(fn, ":")
	if !ok || mod == "" || name == "" {
		return nil, fmt.Errorf("function %q is not \"module:function\"", fn)
	}
	return pickle.Global{Module: mod, Name: name}, nil
}

// startWorker starts one worker and a goroutine that replaces it when it
// exits while the pool needs it.
func (p *Pool) startWorker() error {
	var maxtasks any
	if p.cfg.MaxTasksPerChild > 0 {
		maxtasks = p.cfg.MaxTasksPerChild
	}
	spec := process.Spec{
		Python: p.cfg.Python, Flags: p.cfg.Flags, Executable: p.cfg.Executable,
		Target: "multiprocessing.pool:worker", Path: p.cfg.Path,
		Args:   []any{p.inq, p.outq, p.init, p.initArgs, maxtasks, true},
		Name:   "SpawnPoolWorker-" + strconv.FormatInt(p.spawned.Add(1), 10),
		Daemon: true, Tracker: p.cfg.Tracker, Dir: p.cfg.Dir, Env: p.cfg.Env,
		MainPath: p.cfg.MainPath, Authkey: p.cfg.Authkey,
		Stdout: p.cfg.Stdout, Stderr: p.cfg.Stderr,
	}
	w, err := process.Start(p.ctx, spec)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.lastErr = err
		if p.state != stateTerminate {
			p.log(slog.LevelWarn, "pool: starting a worker failed", slog.String("name", spec.Name), slog.Any("err", err))
		}
		return fmt.Errorf("pool: starting a worker: %w", err)
	}
	if p.state == stateTerminate {
		_ = w.Kill()
		return nil
	}
	p.workers[w] = struct{}{}
	p.broadcastLocked()
	p.log(slog.LevelDebug, "pool: worker started", slog.String("name", w.Name()), slog.Int("pid", w.Pid()))
	go p.watch(w)
	return nil
}

func (p *Pool) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if p.cfg.Logger != nil {
		p.cfg.Logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

// failedLocked counts a worker that exited with an error or could not be
// started; it reports the pool's failure once maxWorkerFailures have
// happened without a result in between.
func (p *Pool) failedLocked(err error) error {
	p.failures++
	if p.failures < maxWorkerFailures || p.broken != nil {
		return nil
	}
	when := "since the last result"
	if p.results == 0 {
		when = "before the pool received any result"
	}
	p.broken = fmt.Errorf("pool: %w: %d in a row exited with an error or failed to start %s; the last: %w",
		ErrWorkerFailed, p.failures, when, err)
	return p.broken
}

// watch is Python's _maintain_pool for one worker, which also notices
// workers that keep failing (see maxWorkerFailures).
func (p *Pool) watch(w *process.Process) {
	<-w.Done()
	exitErr := w.Wait(context.Background())
	p.mu.Lock()
	delete(p.workers, w)
	p.broadcastLocked()
	var broken error
	if p.state != stateTerminate {
		attrs := []slog.Attr{slog.String("name", w.Name()), slog.Int("pid", w.Pid()), slog.Int("exitcode", w.ExitCode())}
		switch {
		case exitErr == nil:
			p.log(slog.LevelInfo, "pool: worker exited", attrs...)
		default:
			var ee *process.ExitError
			if errors.As(exitErr, &ee) {
				attrs = append(attrs, slog.String("stderr", lastLine(ee.Stderr)))
			}
			msg := "pool: worker exited with an error"
			if p.results == 0 {
				msg = "pool: worker exited with an error before the pool's first result (a failing initializer?)"
			}
			p.log(slog.LevelWarn, msg, attrs...)
			broken = p.failedLocked(exitErr)
		}
	}
	p.mu.Unlock()
	for {
		if broken != nil {
			p.giveUp(broken)
			return
		}
		p.mu.Lock()
		need := p.state == stateRun || (p.state == stateClose && len(p.jobs) > 0)
		p.mu.Unlock()
		if !need {
			return
		}
		err := p.startWorker()
		if err == nil {
			return
		}
		p.mu.Lock()
		broken = p.failedLocked(err)
		p.mu.Unlock()
		if broken != nil {
			continue
		}
		select {
		case <-time.After(p.cfg.RestartDelay):
		case <-p.ctx.Done():
			return
		}
	}
}

// giveUp terminates a pool whose workers keep failing: the calls waiting
// fail with err, and so do later ones.
func (p *Pool) giveUp(err error) {
	p.log(slog.LevelError, "pool: workers keep failing; terminating the pool", slog.Any("err", err))
	p.terminate(err)
}

// lastLine is the last non-empty line of s (a traceback's exception).
func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (p *Pool) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// readResults is Python's result handler thread.
func (p *Pool) readResults() {
	defer close(p.readerDone)
	for {
		data, err := p.outq.GetPickle(p.ctx)
		if err != nil {
			return
		}
		id, i, success, value, err := parseResult(data)
		if err != nil {
			continue
		}
		p.mu.Lock()
		j := p.jobs[id]
		p.results++
		p.failures = 0
		p.mu.Unlock()
		if j != nil && j.set(i, success, value) {
			p.removeJob(j)
		}
	}
}

// abandon drops a job whose caller stopped waiting (its context ended):
// results still in flight are discarded when they arrive, and Close does
// not wait for them.
func (p *Pool) abandon(j *job, err error) {
	j.fail(err)
	p.removeJob(j)
}

// parseResult decodes one outqueue message, (job, i, (success, value)).
func parseResult(data []byte) (id int64, i int, success bool, value any, err error) {
	var msg any
	if err := pickle.Unmarshal(data, &msg); err != nil {
		return 0, 0, false, nil, fmt.Errorf("pool: %w: result message: %v", ErrProtocol, err)
	}
	t, ok := msg.(pickle.Tuple)
	if !ok || len(t) != 3 {
		return 0, 0, false, nil, errBadResult
	}
	id, ok1 := t[0].(int64)
	n, ok2 := t[1].(int64)
	r, ok3 := t[2].(pickle.Tuple)
	if !ok1 || !ok2 || !ok3 || len(r) != 2 || n < 0 || n > math.MaxInt32 {
		return 0, 0, false, nil, errBadResult
	}
	success, ok = r[0].(bool)
	if !ok {
		return 0, 0, false, nil, errBadResult
	}
	return id, int(n), success, r[1], nil
}

func (p *Pool) removeJob(j *job) {
	p.mu.Lock()
	delete(p.jobs, j.id)
	p.broadcastLocked()
	p.mu.Unlock()
}

// Processes is the configured number of workers.
func (p *Pool) Processes() int { return p.cfg.Processes }

// Pids lists the running workers' process ids.
func (p *Pool) Pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, 0, len(p.workers))
	for w := range p.workers {
		pids = append(pids, w.Pid())
	}
	sort.Ints(pids)
	return pids
}

// Close stops accepting calls; the workers exit once the calls already
// made are done (Python: close()). It does not wait: use Join.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state != stateRun {
		p.mu.Unlock()
		return nil
	}
	p.state = stateClose
	p.broadcastLocked()
	p.mu.Unlock()
	go p.drain()
	return nil
}

// drain waits for the pending calls, sends one None per worker and, once
// they have exited, releases the queues.
func (p *Pool) drain() {
	var n int
	for {
		p.mu.Lock()
		if p.state == stateTerminate {
			p.mu.Unlock()
			return
		}
		if len(p.jobs) == 0 {
			n = len(p.workers)
			p.mu.Unlock()
			break
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.ctx.Done():
			return
		}
	}
	none, _ := pickle.Marshal(nil)
	for range n {
		if p.inq.PutPickle(p.ctx, none) != nil {
			return
		}
	}
	for {
		p.mu.Lock()
		left := len(p.workers)
		ch := p.changed
		p.mu.Unlock()
		if left == 0 {
			break
		}
		select {
		case <-ch:
		case <-p.ctx.Done():
			return
		}
	}
	p.finish()
}

// finish ends the pool's lifetime and releases the queues.
func (p *Pool) finish() {
	p.finishOnce.Do(func() {
		p.cancel()
		<-p.readerDone
		p.inq.Close()
		p.outq.Close()
		close(p.joined)
	})
}

// Terminate stops the workers at once (SIGTERM, then SIGKILL after
// Config.TerminateGrace), fails the calls still waiting with ErrTerminated
// and releases the queues (Python: terminate()). It returns when the
// workers have exited.
func (p *Pool) Terminate() error { return p.terminate(ErrTerminated) }

// terminate is Terminate failing the waiting calls with jobErr.
func (p *Pool) terminate(jobErr error) error {
	p.mu.Lock()
	if p.state == stateTerminate {
		p.mu.Unlock()
		<-p.joined
		return nil
	}
	p.state = stateTerminate
	jobs := make([]*job, 0, len(p.jobs))
	for _, j := range p.jobs {
		jobs = append(jobs, j)
	}
	p.jobs = map[int64]*job{}
	workers := make([]*process.Process, 0, len(p.workers))
	for w := range p.workers {
		workers = append(workers, w)
	}
	p.broadcastLocked()
	p.mu.Unlock()
	for _, j := range jobs {
		j.fail(jobErr)
	}
	for _, w := range workers {
		_ = w.Terminate()
	}
	for _, w := range workers {
		if exited, _ := w.JoinTimeout(context.Background(), p.cfg.TerminateGrace); !exited {
			_ = w.Kill()
			<-w.Done()
		}
	}
	p.finish()
	return nil
}

// Join waits until the pool has shut down after Close or Terminate
// (Python: join(), which also refuses a running pool).
func (p *Pool) Join(ctx context.Context) error {
	p.mu.Lock()
	st := p.state
	p.mu.Unlock()
	if st == stateRun && p.newCtx.Err() == nil {
		return errors.New("pool: Join on a running pool (call Close or Terminate first)")
	}
	select {
	case <-p.joined:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CallOption configures one Map, Starmap, Imap or ImapUnordered call.
type CallOption func(*callOpts)

type callOpts struct{ chunksize int }

// Chunksize sets how many items go to a worker in one task (Python's
// chunksize argument). Map and Starmap default to Python's choice,
// ceil(len(items) / (4 * Processes)); Imap and ImapUnordered to 1.
func Chunksize(n int) CallOption { return func(o *callOpts) { o.chunksize = n } }

var emptyKwargs = pickle.NewDict()

// newJob registers a job of n tasks (chunked: each result is a list).
func (p *Pool) newJob(n int, chunked bool) (*job, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return nil, p.broken
	}
	if p.state != stateRun {
		return nil, errNotRunning
	}
	p.nextJob++
	j := &job{id: p.nextJob, n: n, chunked: chunked, res: make([]taskResult, n),
		arrived: make(chan int, n), done: make(chan struct{})}
	p.jobs[j.id] = j
	return j, nil
}

// dispatch writes the tasks of j (Python's task handler thread), stopping
// early when ctx ends or the pool terminates.
func (p *Pool) dispatch(ctx context.Context, j *job, tasks func(i int) pickle.Tuple) {
	for i := 0; i < j.n; i++ {
		if err := ctx.Err(); err != nil {
			j.fail(err)
			break
		}
		if j.failed() {
			break
		}
		t := tasks(i)
		data, err := pickle.Marshal(pickle.Tuple{j.id, int64(i), t[0], t[1], t[2]})
		if err != nil {
			j.fail(fmt.Errorf("pool: pickling task %d: %w", i, err))
			break
		}
		j.sending()
		if err := p.inq.PutPickle(p.ctx, data); err != nil {
			j.unsend()
			if p.ctx.Err() != nil {
				err = ErrTerminated
			}
			j.fail(err)
			break
		}
	}
	if j.dispatched() {
		p.removeJob(j)
	}
}

// defaultChunk is Pool._map_async's chunksize.
func (p *Pool) defaultChunk(n int) int {
	c, extra := n/(p.cfg.Processes*4), n%(p.cfg.Processes*4)
	if extra != 0 {
		c++
	}
	if c < 1 {
		c = 1
	}
	return c
}

// start dispatches fn over items (star: each item is an argument tuple)
// in chunks and returns the job. chunk 0 means Python's map default.
func (p *Pool) start(ctx context.Context, fn any, items any, star bool, chunk int, mapstar bool) (*job, []any, int, error) {
	ref, err := p.funcRef(fn)
	if err != nil {
		return nil, nil, 0, err
	}
	list, err := sliceItems(items)
	if err != nil {
		return nil, nil, 0, err
	}
	if chunk <= 0 {
		chunk = p.defaultChunk(len(list))
	}
	helper := globalMapstar
	if star {
		helper = globalStarmapstar
	}
	chunked := chunk > 1 || star || mapstar // Python's map always uses mapstar
	ntasks := (len(list) + chunk - 1) / chunk
	j, err := p.newJob(ntasks, chunked)
	if err != nil {
		return nil, nil, 0, err
	}
	tasks := func(i int) pickle.Tuple {
		lo, hi := i*chunk, min((i+1)*chunk, len(list))
		if !chunked {
			return pickle.Tuple{ref, pickle.Tuple{list[lo]}, emptyKwargs}
		}
		return pickle.Tuple{helper, pickle.Tuple{pickle.Tuple{ref, pickle.Tuple(list[lo:hi])}}, emptyKwargs}
	}
	go p.dispatch(ctx, j, tasks)
	return j, list, chunk, nil
}

// Map is Python's map(func, iterable, chunksize): fn ("module:function",
// or a Python callable as a pickle value: see the package doc)
// applied to every element of items (a slice or array), results stored in
// out, a pointer to a slice (*[]any for generic values, or *[]T: each
// result is decoded into T). It waits for every task; the first exception
// is returned as a *TaskError. When ctx ends, the remaining chunks are not
// sent and Map returns ctx's error (tasks already sent still run).
func (p *Pool) Map(ctx context.Context, fn any, items any, out any, opts ...CallOption) error {
	return p.mapCall(ctx, fn, items, out, false, opts)
}

// Starmap is Python's starmap: each element of items is an argument list
// (a slice, array or pickle.Tuple) for fn.
func (p *Pool) Starmap(ctx context.Context, fn any, items any, out any, opts ...CallOption) error {
	return p.mapCall(ctx, fn, items, out, true, opts)
}

func (p *Pool) mapCall(ctx context.Context, fn any, items any, out any, star bool, opts []CallOption) error {
	var o callOpts
	for _, f := range opts {
		f(&o)
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("pool: out must be a pointer to a slice, not %T", out)
	}
	j, _, _, err := p.start(ctx, fn, items, star, o.chunksize, true)
	if err != nil {
		return err
	}
	vals, err := j.wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			p.abandon(j, ctx.Err())
		}
		return err
	}
	return storeSlice(rv.Elem(), vals)
}

func storeSlice(s reflect.Value, vals []any) error {
	switch p := s.Addr().Interface().(type) {
	case *[]any:
		*p = vals
		return nil
	case *[]int64:
		out := make([]int64, len(vals))
		for i, v := range vals {
			x, ok := v.(int64)
			if !ok {
				if err := assign(reflect.ValueOf(&out[i]).Elem(), v); err != nil {
					return fmt.Errorf("pool: result %d: %w", i, err)
				}
				continue
			}
			out[i] = x
		}
		*p = out
		return nil
	}
	out := reflect.MakeSlice(s.Type(), len(vals), len(vals))
	for i, v := range vals {
		if err := assign(out.Index(i), v); err != nil {
			return fmt.Errorf("pool: result %d: %w", i, err)
		}
	}
	s.Set(out)
	return nil
}

// MapOf is Map returning a []T.
func MapOf[T any](ctx context.Context, p *Pool, fn any, items any, opts ...CallOption) ([]T, error) {
	var out []T
	err := p.Map(ctx, fn, items, &out, opts...)
	return out, err
}

// Imap is Python's imap: the results of fn over items, in order, as an
// iterator of (value, error). A failed task yields its *TaskError in its
// place (a failed chunk yields one error for the whole chunk) and the
// iteration goes on; when ctx ends it yields ctx's error and stops.
// Breaking out of the loop abandons the remaining results. Tasks are sent
// when Imap is called; the iterator may be used once.
func (p *Pool) Imap(ctx context.Context, fn any, items any, opts ...CallOption) iter.Seq2[any, error] {
	return p.imap(ctx, fn, items, true, opts)
}

// ImapUnordered is Python's imap_unordered: like Imap, in the order the
// results arrive.
func (p *Pool) ImapUnordered(ctx context.Context, fn any, items any, opts ...CallOption) iter.Seq2[any, error] {
	return p.imap(ctx, fn, items, false, opts)
}

func (p *Pool) imap(ctx context.Context, fn any, items any, ordered bool, opts []CallOption) iter.Seq2[any, error] {
	o := callOpts{chunksize: 1}
	for _, f := range opts {
		f(&o)
	}
	if o.chunksize < 1 {
		o.chunksize = 1
	}
	j, _, _, err := p.start(ctx, fn, items, false, o.chunksize, false)
	return func(yield func(any, error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		defer func() {
			if !j.isFinished() {
				p.abandon(j, context.Canceled)
			}
		}()
		emit := func(r taskResult) bool {
			if !r.ok {
				return yield(nil, r.err)
			}
			if !j.chunked {
				return yield(r.val, nil)
			}
			list, _ := r.val.([]any)
			for _, v := range list {
				if !yield(v, nil) {
					return false
				}
			}
			return true
		}
		for k := 0; k < j.n; k++ {
			var r taskResult
			var err error
			if ordered {
				r, err = j.next(ctx, k)
			} else {
				r, err = j.any(ctx)
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !emit(r) {
				return
			}
		}
	}
}

// Apply is Python's apply(func, args, kwds): it calls fn once in a worker
// and stores the result in out (a pointer; *any for a generic value, or
// nil to discard it).
func (p *Pool) Apply(ctx context.Context, fn any, args []any, kwargs map[string]any, out any) error {
	r := p.ApplyAsync(ctx, fn, args, kwargs)
	err := r.Get(ctx, out)
	if err != nil && ctx.Err() != nil && r.j != nil {
		p.abandon(r.j, ctx.Err())
	}
	return err
}

// AsyncResult is the pending result of ApplyAsync or MapAsync (Python:
// AsyncResult / MapResult). Its methods are safe for concurrent use.
type AsyncResult struct {
	j      *job
	single bool
	err    error // a failure to submit

	once sync.Once
	val  any
	verr error
}

// ErrNotReady is returned by Successful before the result is ready.
var ErrNotReady = errors.New("pool: result not ready")

// ApplyAsync is Python's apply_async: it sends one call of fn and returns
// at once. ctx bounds the call: if it ends before the result arrives, the
// call is dropped (as for Apply) and the AsyncResult reports ctx's error.
func (p *Pool) ApplyAsync(ctx context.Context, fn any, args []any, kwargs map[string]any) *AsyncResult {
	ref, err := p.funcRef(fn)
	if err != nil {
		return &AsyncResult{err: err}
	}
	kw := emptyKwargs
	if len(kwargs) > 0 {
		kw = pickle.NewDict()
		keys := make([]string, 0, len(kwargs))
		for k := range kwargs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := kw.Set(k, kwargs[k]); err != nil {
				return &AsyncResult{err: err}
			}
		}
	}
	j, err := p.newJob(1, false)
	if err != nil {
		return &AsyncResult{err: err}
	}
	a := pickle.Tuple(args)
	if a == nil {
		a = pickle.Tuple{}
	}
	p.bound(ctx, j)
	go p.dispatch(ctx, j, func(int) pickle.Tuple { return pickle.Tuple{ref, a, kw} })
	return &AsyncResult{j: j, single: true}
}

// bound drops j from the pool, failing it with ctx's error, if ctx ends
// before j has finished (the async calls).
func (p *Pool) bound(ctx context.Context, j *job) {
	if ctx.Done() == nil {
		return
	}
	stop := context.AfterFunc(ctx, func() {
		if j.cancel(fmt.Errorf("pool: %w", ctx.Err())) {
			p.removeJob(j)
		}
	})
	go func() {
		<-j.done
		stop()
	}()
}

// MapAsync is Python's map_async: Map without waiting; Get stores the
// results in a slice pointer. ctx bounds the call: if it ends first, the
// remaining chunks are not sent, the call is dropped and the AsyncResult
// reports ctx's error.
func (p *Pool) MapAsync(ctx context.Context, fn any, items any, opts ...CallOption) *AsyncResult {
	return p.mapAsync(ctx, fn, items, false, opts)
}

// StarmapAsync is Python's starmap_async; ctx as for MapAsync.
func (p *Pool) StarmapAsync(ctx context.Context, fn any, items any, opts ...CallOption) *AsyncResult {
	return p.mapAsync(ctx, fn, items, true, opts)
}

func (p *Pool) mapAsync(ctx context.Context, fn any, items any, star bool, opts []CallOption) *AsyncResult {
	var o callOpts
	for _, f := range opts {
		f(&o)
	}
	j, _, _, err := p.start(ctx, fn, items, star, o.chunksize, true)
	if err != nil {
		return &AsyncResult{err: err}
	}
	p.bound(ctx, j)
	return &AsyncResult{j: j}
}

// Done is closed when the result is ready.
func (r *AsyncResult) Done() <-chan struct{} {
	if r.err != nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return r.j.done
}

// Ready reports whether the call has completed (Python: ready()).
func (r *AsyncResult) Ready() bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

// Wait waits until the result is ready or ctx ends (Python: wait(timeout)).
func (r *AsyncResult) Wait(ctx context.Context) error {
	select {
	case <-r.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pool: %w", ctx.Err())
	}
}

// Successful reports whether the call completed without raising
// (Python: successful(); ErrNotReady before it is ready).
func (r *AsyncResult) Successful() (bool, error) {
	if !r.Ready() {
		return false, ErrNotReady
	}
	_, err := r.Value(context.Background()) // ready: does not wait
	return err == nil, nil
}

// Value waits for the result and returns it as a generic value (a []any
// for MapAsync) or the call's error; when ctx ends first, an error matching
// ctx.Err() (the call goes on).
func (r *AsyncResult) Value(ctx context.Context) (any, error) {
	if r.err != nil {
		return nil, r.err
	}
	select {
	case <-r.j.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("pool: %w", ctx.Err())
	}
	r.once.Do(func() {
		vals, err := r.j.wait(context.Background())
		if err != nil {
			r.verr = err
		} else if r.single {
			r.val = vals[0]
		} else {
			r.val = vals
		}
	})
	return r.val, r.verr
}

// Get waits for the result (at most until ctx ends: then ctx's error, the
// call goes on) and stores it in out (Python: get(timeout)): a pointer
// (*any, *T; for MapAsync a pointer to a slice), or nil to discard it.
func (r *AsyncResult) Get(ctx context.Context, out any) error {
	if err := r.Wait(ctx); err != nil {
		return err
	}
	v, err := r.Value(ctx)
	if err != nil || out == nil {
		return err
	}
	if !r.single {
		rv := reflect.ValueOf(out)
		if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Slice {
			return storeSlice(rv.Elem(), v.([]any))
		}
	}
	return assignTo(out, v)
}

// SemaphoreNames lists the named semaphores of the pool's two queues
// (they are unlinked when the pool shuts down).
func (p *Pool) SemaphoreNames() []string {
	return append(p.inq.Names(), p.outq.Names()...)
}
