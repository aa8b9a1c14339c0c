package process

import (
	"errors"
	"io/fs"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/mpwire/mpwire/internal/restrack"
)

// Tracker is a multiprocessing resource tracker as seen by the objects
// that register their names with it: *ResourceTracker (a tracker this
// process started), or ChildProcess.Tracker() in a Go worker (the tracker
// of its Python parent). A registered name is unlinked by the tracker if
// it is still registered when the tracker's last user exits.
type Tracker interface {
	// Register asks the tracker to unlink name (of type rtype, e.g.
	// ResourceSemaphore) when its users are gone.
	Register(name, rtype string) error
	// Unregister withdraws a Register (the owner unlinked the name).
	Unregister(name, rtype string) error
}

// SetDefaultTracker makes t the resource tracker of this process and
// returns the previous one (nil: none). Every named semaphore (Lock, Queue,
// Pool, …) and shared memory segment mpwire creates afterwards is
// registered with it until it is unlinked, as Python registers its own
// with resource_tracker; and Start passes it to children whose Spec names
// no Tracker, as a Python parent passes its tracker to every child. Child
// calls it with the parent's tracker in a Go worker (see
// ChildConfig.NoDefaultTracker).
//
// With a tracker, nothing a process creates outlives the tracker's users,
// however the process ends (SIGKILL included). Without one, names left
// behind by a process that exits without closing its objects stay in
// /dev/shm: see CleanupResources.
func SetDefaultTracker(t Tracker) Tracker {
	var rt restrack.Tracker
	if t != nil {
		rt = t
	}
	prev, _ := restrack.SetDefault(rt).(Tracker)
	return prev
}

// DefaultTracker returns the tracker set by SetDefaultTracker (nil if
// none).
func DefaultTracker() Tracker {
	t, _ := restrack.Default().(Tracker)
	return t
}

// Resource is a named semaphore or shared memory segment this process
// created and has not unlinked.
type Resource struct {
	Name string // as a resource tracker names it: "/mp-xxxxxxxx", "/psm_xxxxxxxx"
	Type string // ResourceSemaphore or ResourceSharedMemory
}

// Resources lists what CleanupResources would unlink: the named
// semaphores and shared memory segments mpwire created in this process
// that are still linked (objects not closed yet, or never closed).
func Resources() []Resource {
	live := restrack.Live()
	out := make([]Resource, len(live))
	for i, r := range live {
		out[i] = Resource{Name: r.Name, Type: r.Type}
	}
	return out
}

// CleanupResources unlinks every named semaphore and shared memory segment
// mpwire created in this process and that is still linked — objects never
// closed — and unregisters them from their tracker. Processes that already
// opened them keep working; no one can open them any more.
//
// Go has no atexit: a program that may leave objects unclosed and has no
// resource tracker (SetDefaultTracker) calls it at the end of main
// ("defer process.CleanupResources()"; deferred calls do not run after
// os.Exit or log.Fatal), or in its own SIGINT/SIGTERM handler, or lets
// CleanupResourcesOnSignal do that. A SIGKILL leaves the names in
// /dev/shm (sem.mp-*, psm_*) unless a tracker holds them.
func CleanupResources() error {
	return restrack.Cleanup(func(err error) bool { return errors.Is(err, fs.ErrNotExist) })
}

// CleanupResourcesOnSignal is an opt-in for programs that do not handle
// termination signals themselves: it catches sigs (SIGINT and SIGTERM if
// none are given), and on the first one runs CleanupResources, restores
// the signals' default handling and sends the signal again, so the program
// still dies of it (exit status -signum to a parent, as without the hook).
// The returned stop removes the hook. A program with its own handler for
// these signals must not use it (the hook resets every handler of the
// signal before re-raising it); it calls CleanupResources from its own
// handler instead.
func CleanupResourcesOnSignal(sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, sigs...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-c:
			_ = CleanupResources()
			signal.Reset(sigs...)
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(c)
			close(done)
		})
	}
}
