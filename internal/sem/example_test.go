//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mpwire/mpwire/internal/sem"
)

// A Go-created Lock that a spawned Python child could rebuild from its
// State (Python: multiprocessing.synchronize.Lock with __setstate__).
func ExampleNewLock() {
	l, err := sem.NewLock()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	defer l.Unlink() // the creator owns the name

	st := l.State()
	fmt.Println(st.Kind, st.MaxValue, len(st.Name))

	if err := l.Acquire(context.Background()); err != nil {
		panic(err)
	}
	ok, _ := l.AcquireTimeout(10 * time.Millisecond)
	fmt.Println("second acquire:", ok)
	fmt.Println(l.Release())
	fmt.Println(l.Release())
	v, _ := l.GetValue()
	fmt.Println("value:", v)
	// Output:
	// SEMAPHORE 1 12
	// second acquire: false
	// <nil>
	// semaphore or lock released too many times
	// value: 1
}

// Opening a semaphore that Python created, by the name in its pickled
// state, e.g. (handle, 1, 1, "/mp-u4jerdd2") of a multiprocessing.Lock.
func ExampleRebuild() {
	// Stand-in for the Python creator.
	creator, err := sem.NewBoundedSemaphore(2)
	if err != nil {
		panic(err)
	}
	defer creator.Close()
	defer creator.Unlink()

	l, err := sem.Rebuild(sem.State{Kind: sem.Semaphore, MaxValue: 2, Name: creator.Name()})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	ok, _ := l.TryAcquire()
	v, _ := creator.GetValue()
	fmt.Println(ok, v)
	// Output: true 1
}
