// Package restrack records the named resources this process created — POSIX
// semaphores and shared memory segments, which outlive their creator until
// someone unlinks them — so that they can be left to a resource tracker or
// unlinked at the end (process.CleanupResources and
// process.SetDefaultTracker are the public face; the tracker's protocol is
// docs/spec.md, Spawn, "Resource tracker").
//
// Each live name remembers the tracker it was registered with, if any: the
// process's default tracker when it was created, or the one a caller gave
// explicitly (Track). When the owner unlinks the name (Unlinked), it is
// unregistered from that tracker, so the tracker never warns about it.
package restrack

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Tracker is a multiprocessing resource tracker: REGISTER and UNREGISTER
// lines ("CMD:name:rtype") on its pipe.
type Tracker interface {
	Register(name, rtype string) error
	Unregister(name, rtype string) error
}

// Resource types (multiprocessing.resource_tracker's names).
const (
	Semaphore    = "semaphore"
	SharedMemory = "shared_memory"
)

type key struct{ name, rtype string }

var (
	mu       sync.Mutex
	live     = map[key]Tracker{} // a nil Tracker: recorded, registered nowhere
	dflt     Tracker
	unlinker = map[string]func(name string) error{}
)

// SetUnlinker says how to unlink names of rtype (the package that creates
// them calls it from init).
func SetUnlinker(rtype string, unlink func(name string) error) {
	mu.Lock()
	unlinker[rtype] = unlink
	mu.Unlock()
}

// SetDefault makes t the tracker that names created from now on are
// registered with (nil: none) and returns the previous one.
func SetDefault(t Tracker) Tracker {
	mu.Lock()
	defer mu.Unlock()
	prev := dflt
	dflt = t
	return prev
}

// Default returns the default tracker (nil if none).
func Default() Tracker {
	mu.Lock()
	defer mu.Unlock()
	return dflt
}

// Created records name, just created by this process, and registers it with
// the default tracker. A failed registration leaves the name recorded for
// Cleanup (the tracker is unreachable, so it will not clean up either).
func Created(name, rtype string) {
	mu.Lock()
	t := dflt
	live[key{name, rtype}] = nil
	mu.Unlock()
	if t == nil || t.Register(name, rtype) != nil {
		return
	}
	mu.Lock()
	if _, ok := live[key{name, rtype}]; ok {
		live[key{name, rtype}] = t
	}
	mu.Unlock()
}

// Track registers name with t instead of the tracker it has (which then
// forgets it), recording the name if it was not.
func Track(name, rtype string, t Tracker) error {
	if t == nil {
		return errors.New("restrack: nil tracker")
	}
	k := key{name, rtype}
	mu.Lock()
	old := live[k]
	mu.Unlock()
	if old == t {
		return nil
	}
	if err := t.Register(name, rtype); err != nil {
		return err
	}
	mu.Lock()
	live[k] = t
	mu.Unlock()
	if old != nil {
		_ = old.Unregister(name, rtype)
	}
	return nil
}

// Unlinked forgets name, which its owner has just unlinked, and
// unregisters it from its tracker (best effort: an unreachable tracker has
// nothing left to clean).
func Unlinked(name, rtype string) {
	mu.Lock()
	k := key{name, rtype}
	t, ok := live[k]
	delete(live, k)
	mu.Unlock()
	if ok && t != nil {
		_ = t.Unregister(name, rtype)
	}
}

// Forget drops name without telling its tracker: someone else unlinked it
// (and unregistered it, if it was Python).
func Forget(name, rtype string) {
	mu.Lock()
	delete(live, key{name, rtype})
	mu.Unlock()
}

// Resource is one recorded name.
type Resource struct {
	Name string // as the tracker knows it: "/mp-xxxxxxxx", "/psm_xxxxxxxx"
	Type string // Semaphore or SharedMemory
}

// Live lists the recorded names, sorted.
func Live() []Resource {
	mu.Lock()
	out := make([]Resource, 0, len(live))
	for k := range live {
		out = append(out, Resource{k.name, k.rtype})
	}
	mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Cleanup unlinks every recorded name and unregisters it from its tracker.
// Names already gone are not an error.
func Cleanup(notExist func(error) bool) error {
	var errs []error
	for _, r := range Live() {
		mu.Lock()
		unlink := unlinker[r.Type]
		mu.Unlock()
		if unlink == nil {
			errs = append(errs, fmt.Errorf("restrack: no way to unlink %s %s", r.Type, r.Name))
			continue
		}
		err := unlink(r.Name) // the creating package calls Unlinked or Forget
		if err != nil && !notExist(err) {
			errs = append(errs, err)
		}
		Forget(r.Name, r.Type)
	}
	return errors.Join(errs...)
}
