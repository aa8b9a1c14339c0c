package synchronize

import (
	"errors"

	"github.com/mpwire/mpwire/internal/restrack"
	"github.com/mpwire/mpwire/process"
)

// Tracker is a multiprocessing resource tracker: *process.ResourceTracker
// (one a Go parent started), or ChildTracker(child) in a Go worker (the
// tracker of its Python parent). A tracked name is unlinked by the tracker
// if this process dies without closing the object, as Python's tracker
// does for Python's own semaphores.
type Tracker = process.Tracker

// ChildTracker is the resource tracker a Go worker inherited from its
// spawn parent (tracker_fd): child.Tracker(), nil if the parent passed
// none. Child already makes it the default tracker, with which every New
// object registers its names.
func ChildTracker(c *process.ChildProcess) Tracker { return c.Tracker() }

// Track registers the name with t (REGISTER:name:semaphore), as Python's
// SemLock.__init__ does, instead of with the default tracker
// (process.SetDefaultTracker), which New objects use without Track;
// unlinking the name (Close, Unlink) then unregisters it. Only a handle
// that owns its name (made by a New function) can be tracked.
func (l *SemLock) Track(t Tracker) error {
	if !l.owner.Load() {
		return errors.New("synchronize: only the creator of a semaphore tracks it")
	}
	if t == nil {
		return errors.New("synchronize: Track with a nil tracker")
	}
	return restrack.Track(l.Name(), process.ResourceSemaphore, t)
}

// Track registers every semaphore the Condition created.
func (c *Condition) Track(t Tracker) error {
	var errs []error
	if c.closeLock && c.lock.Owner() {
		errs = append(errs, c.lock.Track(t))
	}
	for _, s := range []*SemLock{c.sleeping, c.woken, c.waitSem} {
		if s.Owner() {
			errs = append(errs, s.Track(t))
		}
	}
	return errors.Join(errs...)
}

// Track registers the Event's semaphores.
func (e *Event) Track(t Tracker) error {
	errs := []error{e.cond.Track(t)}
	if e.flag.Owner() {
		errs = append(errs, e.flag.Track(t))
	}
	if e.lock != nil && e.lock.Owner() {
		errs = append(errs, e.lock.Track(t))
	}
	return errors.Join(errs...)
}
