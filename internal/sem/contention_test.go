//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// TestContentionWithPython has a Python process and several goroutines
// increment one counter in a shared file under a Python-created Lock. A
// lost update or a "busy" flag seen set means mutual exclusion failed.
func TestContentionWithPython(t *testing.T) {
	pyN, goroutines, goN := 10000, 4, 2500
	if testing.Short() {
		pyN, goN = 2000, 500
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		p := startPeer(t, py)
		name := p.ok("new l Lock")
		l, err := Rebuild(State{Kind: Semaphore, MaxValue: 1, Name: name})
		require.NoError(t, err)
		defer l.Close()

		path := filepath.Join(t.TempDir(), "counter")
		require.NoError(t, os.WriteFile(path, make([]byte, 16), 0o600))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		mem, err := unix.Mmap(int(f.Fd()), 0, 16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		f.Close()
		require.NoError(t, err)
		defer unix.Munmap(mem)
		busy := (*uint64)(unsafe.Pointer(&mem[0]))
		counter := (*uint64)(unsafe.Pointer(&mem[8]))

		ctx := pyharness.Context(t, 60*time.Second)
		p.send("hammer l %d %s", pyN, path)
		var violations atomic.Int64
		var wg sync.WaitGroup
		var maxWaiters atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() { // evidence that the two sides really contended
			defer close(sampled)
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Microsecond):
				}
				if w, err := l.Sem().Waiters(); err == nil && int64(w) > maxWaiters.Load() {
					maxWaiters.Store(int64(w))
				}
			}
		}()
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < goN; i++ {
					if err := l.Acquire(ctx); err != nil {
						t.Error(err)
						return
					}
					if atomic.LoadUint64(busy) != 0 {
						violations.Add(1)
					}
					c := atomic.LoadUint64(counter)
					atomic.StoreUint64(busy, 1)
					atomic.StoreUint64(counter, c+1)
					atomic.StoreUint64(busy, 0)
					if err := l.Release(); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		pyViolations := p.okAnswer("hammer")
		close(stop)
		<-sampled
		assert.Equal(t, "0", pyViolations, "Python saw the counter busy")
		assert.Zero(t, violations.Load(), "Go saw the counter busy")
		assert.Equal(t, uint64(pyN+goroutines*goN), atomic.LoadUint64(counter), "lost updates")
		assert.Equal(t, "1", p.ok("value l"))
		w, err := l.Sem().Waiters()
		require.NoError(t, err)
		assert.Zero(t, w)
		t.Logf("%s: %d Python + %d Go critical sections, up to %d sleeping waiters seen", py.Name(), pyN, goroutines*goN, maxWaiters.Load())
	})
}

// TestGoroutinesShareLock checks mutual exclusion among goroutines alone,
// on two mappings of one semaphore; under -race it also checks that a
// Release happens before the Acquire that follows it.
func TestGoroutinesShareLock(t *testing.T) {
	a := createTemp(t, 1)
	b, err := Open(a.Name())
	require.NoError(t, err)
	defer b.Close()
	const goroutines, n = 8, 2000
	var counter int // plain memory: the semaphore must order the accesses
	var wg sync.WaitGroup
	// Bounded: a lost wake-up must fail the test, not hang the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for g := 0; g < goroutines; g++ {
		s := a
		if g%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if i%3 == 0 {
					if ok, err := s.AcquireTimeout(10 * time.Second); err != nil || !ok {
						t.Errorf("AcquireTimeout: %v %v", ok, err)
						return
					}
				} else if err := s.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := s.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, goroutines*n, counter)
	v, err := a.Value()
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	w, err := a.Waiters()
	require.NoError(t, err)
	assert.Zero(t, w)
}
