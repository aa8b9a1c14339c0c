//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// waitWaiters waits until glibc's nwaiters count of s reaches n: a Python
// (or Go) waiter has registered and is sleeping or about to.
func waitWaiters(t testing.TB, s *Sem, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		w, err := s.Waiters()
		return err == nil && w == n
	}, 20*time.Second, 2*time.Millisecond, "waiting for nwaiters == %d", n)
}

func goValue(t testing.TB, l *SemLock) int {
	t.Helper()
	v, err := l.GetValue()
	require.NoError(t, err)
	return v
}

func shmBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("/dev/shm/sem." + strings.TrimLeft(name, "/"))
	require.NoError(t, err)
	return b
}

// Note on /dev/shm sweeps: pyharness.StartT's cleanup removes "leaked"
// /dev/shm/sem.mp-* entries that no process maps or holds open under that
// name. glibc maps a new semaphore through a temporary file it then
// deletes, so a semaphore Python has just created looks unused; sem_peer.py
// therefore keeps each one it creates open by name ("pins" it), which lets
// the per-interpreter subtests run in parallel.

// TestPythonLockWithGo shares a spawn-context Lock created by Python: both
// sides block, time out and wake each other, and the value and maxvalue
// check agree.
func TestPythonLockWithGo(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		p := startPeer(t, py)
		name := p.ok("new l Lock")
		require.Regexp(t, `^/mp-[a-z0-9_]{8}$`, name)
		st := State{Kind: Semaphore, MaxValue: 1, Name: name}
		f := strings.Fields(p.ok("state l"))
		require.Equal(t, []string{"1", "1", name}, f[1:], "Python's SemLock state")

		l, err := Rebuild(st)
		require.NoError(t, err)
		defer l.Close()
		assert.Equal(t, 1, goValue(t, l))
		assert.Equal(t, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0}, shmBytes(t, name)[:12])

		t.Run("Go holds it, so Python's timed acquire times out", func(t *testing.T) {
			ok, err := l.TryAcquire()
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, "0", p.ok("value l"))
			assert.False(t, acquired(t, p.ok("acquire l 0.2")))
			assert.Equal(t, "True", p.ok("iszero l"))
		})

		t.Run("a Go release wakes a Python waiter blocked in acquire", func(t *testing.T) {
			p.send("acquire l 30")
			waitWaiters(t, l.Sem(), 1) // glibc registered the Python waiter
			assert.Equal(t, []byte{0, 0, 0, 0, 1, 0, 0, 0}, shmBytes(t, name)[:8])
			require.NoError(t, l.Release())
			assert.True(t, acquired(t, p.okAnswer("acquire l 30")))
			waitWaiters(t, l.Sem(), 0)
			assert.Equal(t, 0, goValue(t, l))
			assert.Equal(t, "True", p.ok("ismine l"))
		})

		t.Run("a private-futex wake does not reach Python, so ops must be shared", func(t *testing.T) {
			// Python holds the Lock and blocks on it a second time.
			p.send("acquire l 1")
			waitWaiters(t, l.Sem(), 1)
			// sem_post's CAS, then a wake with FUTEX_PRIVATE_FLAG: keyed on
			// this process's address space, it cannot reach the Python
			// waiter, which sleeps until its timeout and then reports
			// failure without looking at the count again (glibc).
			s := l.Sem()
			atomic.AddUint64(s.data, 1)
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(s.word)), futexWake_|128, 1, 0, 0, 0)
			assert.False(t, acquired(t, p.okAnswer("acquire l 1")))
			assert.Equal(t, "1", p.ok("value l"))
			waitWaiters(t, s, 0)
			assert.True(t, acquired(t, p.ok("acquire l 0 noblock")), "Python holds it again")
		})

		t.Run("a Python release wakes a Go waiter sleeping on the futex", func(t *testing.T) {
			res := make(chan error, 1)
			go func() {
				// No context: one futex sleep, so only a wake-up (not a
				// poll) can end it before the 30 s timeout.
				ok, err := l.AcquireTimeout(30 * time.Second)
				if err == nil && !ok {
					err = errors.New("timed out")
				}
				res <- err
			}()
			waitWaiters(t, l.Sem(), 1)
			p.ok("release l")
			require.NoError(t, <-res)
			waitWaiters(t, l.Sem(), 0)
			assert.Equal(t, "0", p.ok("value l"))
		})

		t.Run("a Python release wakes a Go waiter with a context", func(t *testing.T) {
			require.NoError(t, l.Release())
			assert.True(t, acquired(t, p.ok("acquire l 5")))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- l.Acquire(ctx) }()
			waitWaiters(t, l.Sem(), 1)
			p.ok("release l")
			require.NoError(t, <-res)
		})

		t.Run("maxvalue is enforced on both sides", func(t *testing.T) {
			require.NoError(t, l.Release())
			assert.Equal(t, "1", p.ok("value l"))
			assert.ErrorIs(t, l.Release(), ErrReleasedTooManyTimes)
			assert.Equal(t, "ValueError: "+ErrReleasedTooManyTimes.Error(), p.fails("release l"))
			assert.Equal(t, 1, goValue(t, l))
		})

		t.Run("Go times out and is cancelled while Python holds it", func(t *testing.T) {
			assert.True(t, acquired(t, p.ok("acquire l 0 noblock")))
			ok, err := l.AcquireTimeout(100 * time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			assert.ErrorIs(t, l.Acquire(ctx), context.Canceled)
			dctx, dcancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
			defer dcancel()
			assert.ErrorIs(t, l.Acquire(dctx), context.DeadlineExceeded)
			w, err := l.Sem().Waiters()
			require.NoError(t, err)
			assert.Zero(t, w, "a Go waiter that gave up must deregister")
			p.ok("release l")
			ok, err = l.AcquireTimeout(time.Second)
			require.NoError(t, err)
			assert.True(t, ok)
			require.NoError(t, l.Release())
			assert.Equal(t, "1", p.ok("value l"))
		})

		t.Run("the name goes away with Python's object, the mapping stays", func(t *testing.T) {
			p.ok("del l")
			_, err := Open(name)
			require.ErrorIs(t, err, fs.ErrNotExist)
			ok, err := l.TryAcquire()
			require.NoError(t, err)
			assert.True(t, ok)
			require.NoError(t, l.Release())
		})
	})
}

// TestPythonRLockWithGo checks RLock recursion and ownership across the
// boundary: recursion never touches the shared count and Python's thread
// ownership check holds against Go.
func TestPythonRLockWithGo(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		p := startPeer(t, py)
		name := p.ok("new r RLock")
		assert.Equal(t, "0", p.ok("kind r"))
		l, err := Rebuild(State{Kind: RecursiveMutex, MaxValue: 1, Name: name})
		require.NoError(t, err)
		defer l.Close()

		for i := 0; i < 2; i++ {
			assert.True(t, acquired(t, p.ok("acquire r")))
		}
		assert.Equal(t, "2", p.ok("count r"))
		assert.Equal(t, 0, goValue(t, l))
		ok, err := l.TryAcquire()
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, "AssertionError: "+ErrNotOwner.Error(), p.fails("thread_release r"))
		assert.ErrorIs(t, l.Release(), ErrNotOwner)
		p.ok("release r")
		assert.Equal(t, 0, goValue(t, l), "only the final release posts")
		p.ok("release r")
		assert.Equal(t, 1, goValue(t, l))

		for i := 0; i < 3; i++ {
			ok, err := l.AcquireTimeout(time.Second)
			require.NoError(t, err)
			require.True(t, ok)
		}
		assert.Equal(t, 3, l.Count())
		assert.True(t, l.IsMine())
		assert.Equal(t, "0", p.ok("value r"))
		assert.False(t, acquired(t, p.ok("acquire r 0.1")))
		assert.Equal(t, "AssertionError: "+ErrNotOwner.Error(), p.fails("release r"))

		other, err := l.Clone()
		require.NoError(t, err)
		defer other.Close()
		ok, err = other.TryAcquire()
		require.NoError(t, err)
		assert.False(t, ok, "a clone is another owner")
		assert.ErrorIs(t, other.Release(), ErrNotOwner)

		p.send("acquire r 30")
		waitWaiters(t, l.Sem(), 1)
		for i := 0; i < 3; i++ {
			require.NoError(t, l.Release())
		}
		assert.True(t, acquired(t, p.okAnswer("acquire r 30")))
		assert.False(t, l.IsMine())
		assert.ErrorIs(t, l.Release(), ErrNotOwner)
		p.ok("release r")
		assert.Equal(t, 1, goValue(t, l))
	})
}

// TestPythonSemaphoresWithGo covers Semaphore, BoundedSemaphore and a raw
// _multiprocessing.SemLock: values agree and the bounds are enforced.
func TestPythonSemaphoresWithGo(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		p := startPeer(t, py)
		sname := p.ok("new s Semaphore 3")
		bname := p.ok("new b BoundedSemaphore 2")
		rname := p.ok("raw x 1 0 4")
		assert.Equal(t, strconv.Itoa(SemValueMax), p.ok("maxvalue s"))
		assert.Equal(t, "2", p.ok("maxvalue b"))

		s, err := Rebuild(State{Kind: Semaphore, MaxValue: SemValueMax, Name: sname})
		require.NoError(t, err)
		defer s.Close()
		b, err := Rebuild(State{Kind: Semaphore, MaxValue: 2, Name: bname})
		require.NoError(t, err)
		defer b.Close()
		x, err := Rebuild(State{Kind: Semaphore, MaxValue: 4, Name: rname})
		require.NoError(t, err)
		defer x.Close()

		assert.Equal(t, 3, goValue(t, s))
		assert.Equal(t, []byte{3, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0}, shmBytes(t, sname)[:12])
		for i := 0; i < 2; i++ {
			ok, err := s.TryAcquire()
			require.NoError(t, err)
			require.True(t, ok)
		}
		assert.Equal(t, "1", p.ok("value s"))
		assert.Equal(t, 2, s.Count())
		assert.True(t, acquired(t, p.ok("acquire s 0")))
		assert.False(t, acquired(t, p.ok("acquire s 0.05")))
		for i := 0; i < 5; i++ {
			require.NoError(t, s.Release())
		}
		assert.Equal(t, "5", p.ok("value s"))
		assert.Equal(t, -3, s.Count(), "Count goes negative like CPython's")

		assert.ErrorIs(t, b.Release(), ErrReleasedTooManyTimes)
		assert.True(t, acquired(t, p.ok("acquire b")))
		require.NoError(t, b.Release())
		assert.ErrorIs(t, b.Release(), ErrReleasedTooManyTimes)
		assert.Contains(t, p.fails("release b"), "ValueError")
		assert.Equal(t, "2", p.ok("value b"))

		assert.Equal(t, "True", p.ok("iszero x"))
		zero, err := x.IsZero()
		require.NoError(t, err)
		assert.True(t, zero)
		for i := 0; i < 4; i++ {
			require.NoError(t, x.Release())
		}
		assert.ErrorIs(t, x.Release(), ErrReleasedTooManyTimes)
		assert.Equal(t, "4", p.ok("value x"))
		assert.Contains(t, p.fails("release x"), "released too many times")
	})
}

// TestGoSemLockInPython creates SemLocks in Go and has Python rebuild them
// the way unpickling does (class __setstate__ and the raw _rebuild), then
// checks both directions of blocking and waking.
func TestGoSemLockInPython(t *testing.T) {
	cases := []struct {
		class    string
		new      func() (*SemLock, error)
		kind     Kind
		maxvalue int
		value    int
	}{
		{"Lock", NewLock, Semaphore, 1, 1},
		{"RLock", NewRLock, RecursiveMutex, 1, 1},
		{"Semaphore", func() (*SemLock, error) { return NewSemaphore(2) }, Semaphore, SemValueMax, 2},
		{"BoundedSemaphore", func() (*SemLock, error) { return NewBoundedSemaphore(2) }, Semaphore, 2, 2},
		{"raw", func() (*SemLock, error) { return NewSemLock(Semaphore, 0, 3, RandomName("/mp")) }, Semaphore, 3, 0},
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		p := startPeer(t, py)
		for _, c := range cases {
			t.Run(c.class, func(t *testing.T) {
				l, err := c.new()
				require.NoError(t, err)
				defer func() {
					require.NoError(t, l.Unlink())
					require.NoError(t, l.Close())
				}()
				st := l.State()
				assert.Equal(t, c.kind, st.Kind)
				assert.Equal(t, c.maxvalue, st.MaxValue)
				assert.NotZero(t, st.Handle)
				if c.class != "raw" {
					assert.Equal(t, c.class, st.PythonClass())
				}
				require.Regexp(t, `^/mp-[a-z0-9_]{8}$`, st.Name)

				raw := shmBytes(t, st.Name)
				want := make([]byte, SemSize)
				binary.LittleEndian.PutUint32(want, uint32(c.value))
				want[8] = 0x80
				assert.Equal(t, want, raw, "glibc layout")
				fi, err := os.Stat("/dev/shm/sem." + st.Name[1:])
				require.NoError(t, err)
				assert.Zero(t, fi.Mode().Perm()&^0o600, "mode %v", fi.Mode())

				key := "g" + c.class
				assert.Equal(t, st.Name, p.ok("rebuild %s %s %d %d %s", key, c.class, st.Kind, st.MaxValue, st.Name))
				assert.Equal(t, strconv.Itoa(c.value), p.ok("value %s", key))
				assert.Equal(t, strconv.Itoa(int(c.kind)), p.ok("kind %s", key))

				// Drain to zero from Go, then Python blocks and Go wakes it.
				for i := 0; i < c.value; i++ {
					ok, err := l.TryAcquire()
					require.NoError(t, err)
					require.True(t, ok)
				}
				p.send("acquire %s 30", key)
				waitWaiters(t, l.Sem(), 1)
				require.NoError(t, l.Release())
				assert.True(t, acquired(t, p.okAnswer("acquire "+key)))
				assert.Equal(t, "0", p.ok("value %s", key))
				assert.False(t, l.IsMine() && c.kind == RecursiveMutex, "the final release gives up ownership")

				// Go blocks and Python wakes it.
				res := make(chan error, 1)
				go func() {
					ok, err := l.AcquireTimeout(30 * time.Second)
					if err == nil && !ok {
						err = errors.New("timed out")
					}
					res <- err
				}()
				waitWaiters(t, l.Sem(), 1)
				p.ok("release %s", key)
				require.NoError(t, <-res)
				require.NoError(t, l.Release())
				assert.Equal(t, "1", p.ok("value %s", key))
				p.ok("del %s", key)
			})
		}
		t.Run("raw _rebuild", func(t *testing.T) {
			l, err := NewLock()
			require.NoError(t, err)
			defer l.Close()
			defer l.Unlink()
			assert.Equal(t, l.Name(), p.ok("rebuild q raw 1 1 %s", l.Name()))
			assert.True(t, acquired(t, p.ok("acquire q 1")))
			assert.Equal(t, 0, goValue(t, l))
			p.ok("release q")
			assert.Equal(t, 1, goValue(t, l))
		})
		t.Run("unlinked name", func(t *testing.T) {
			assert.Contains(t, p.fails("rebuild z Lock 1 1 /mp-mpwgone0"), "FileNotFoundError")
			_, err := Rebuild(State{Kind: Semaphore, MaxValue: 1, Name: "/mp-mpwgone0"})
			assert.ErrorIs(t, err, fs.ErrNotExist)
		})
	})
}
