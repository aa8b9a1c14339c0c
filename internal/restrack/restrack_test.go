package restrack

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// fakeTracker records the lines a real tracker would receive.
type fakeTracker struct {
	lines []string
	fail  bool
}

func (f *fakeTracker) Register(name, rtype string) error {
	if f.fail {
		return errors.New("tracker gone")
	}
	f.lines = append(f.lines, "REGISTER:"+name+":"+rtype)
	return nil
}

func (f *fakeTracker) Unregister(name, rtype string) error {
	f.lines = append(f.lines, "UNREGISTER:"+name+":"+rtype)
	return nil
}

func reset(t *testing.T) {
	mu.Lock()
	live, dflt = map[key]Tracker{}, nil
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		live, dflt = map[key]Tracker{}, nil
		mu.Unlock()
	})
}

func TestNamesFollowTheirTracker(t *testing.T) {
	reset(t)
	a, b := &fakeTracker{}, &fakeTracker{}
	Created("/mp-none", Semaphore) // no default yet: recorded only
	SetDefault(a)
	Created("/mp-1", Semaphore)
	Created("/psm_1", SharedMemory)
	if err := Track("/mp-1", Semaphore, b); err != nil {
		t.Fatal(err)
	}
	if err := Track("/mp-1", Semaphore, b); err != nil { // again: nothing to do
		t.Fatal(err)
	}
	Unlinked("/mp-1", Semaphore)
	Forget("/psm_1", SharedMemory)
	Unlinked("/mp-unknown", Semaphore) // never recorded: nobody is told
	want := func(f *fakeTracker, lines ...string) {
		t.Helper()
		if strings.Join(f.lines, "\n") != strings.Join(lines, "\n") {
			t.Errorf("tracker got %q, want %q", f.lines, lines)
		}
	}
	want(a, "REGISTER:/mp-1:semaphore", "REGISTER:/psm_1:shared_memory", "UNREGISTER:/mp-1:semaphore")
	want(b, "REGISTER:/mp-1:semaphore", "UNREGISTER:/mp-1:semaphore")
	if got := Live(); len(got) != 1 || got[0] != (Resource{"/mp-none", Semaphore}) {
		t.Errorf("Live() = %v", got)
	}
}

func TestCleanupUnlinksWhatIsLeft(t *testing.T) {
	reset(t)
	f := &fakeTracker{fail: true}
	SetDefault(f)
	Created("/mp-a", Semaphore) // the tracker refuses: still recorded for Cleanup
	Created("/mp-gone", Semaphore)
	Created("/x", "mystery")
	var unlinked []string
	SetUnlinker(Semaphore, func(name string) error {
		if name == "/mp-gone" {
			return fs.ErrNotExist
		}
		unlinked = append(unlinked, name)
		return nil
	})
	err := Cleanup(func(err error) bool { return errors.Is(err, fs.ErrNotExist) })
	if err == nil || !strings.Contains(err.Error(), "no way to unlink mystery /x") {
		t.Errorf("Cleanup() = %v, want the unknown type reported", err)
	}
	if strings.Join(unlinked, ",") != "/mp-a" {
		t.Errorf("unlinked %v", unlinked)
	}
	if got := Live(); len(got) != 1 || got[0].Name != "/x" {
		t.Errorf("left after Cleanup: %v, want only what it could not unlink", got)
	}
}
