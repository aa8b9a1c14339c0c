package sharedmem_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/sharedmem"
)

// TestMain doubles as the Go worker of the interop tests: started by a
// spawn parent (mpwire.GoProcess in pyfixtures/shm_values.py, or
// process.Start with Spec.Executable), the test binary plays the role named
// in kwargs["role"] instead of running the tests.
func TestMain(m *testing.M) {
	testworker.Main(m, testworker.Roles{
		"seed":  func(_ context.Context, child *process.ChildProcess) error { return roleSeed(child) },
		"types": func(_ context.Context, child *process.ChildProcess) error { return roleTypes(child) },
		"incr":  roleIncr,
		"named": func(_ context.Context, child *process.ChildProcess) error { return roleNamed(child) },
	})
}

// roleSeed is the Go half of the Value/Array tutorial: set the value to
// 3.1415927 and negate every element.
func roleSeed(child *process.ChildProcess) error {
	num, err := sharedmem.ValueFrom(child, child.Arg(0))
	if err != nil {
		return err
	}
	defer num.Close()
	arr, err := sharedmem.ArrayFrom(child, child.Arg(1))
	if err != nil {
		return err
	}
	defer arr.Close()
	if err := num.SetFloat(3.1415927); err != nil {
		return err
	}
	xs, err := sharedmem.Slice[int32](arr)
	if err != nil {
		return err
	}
	for i := range xs {
		xs[i] = -xs[i]
	}
	return nil
}

// roleIncr adds 1 to the Value n times under its lock.
func roleIncr(ctx context.Context, child *process.ChildProcess) error {
	v, err := sharedmem.ValueFrom(child, child.Arg(0))
	if err != nil {
		return err
	}
	defer v.Close()
	var n int
	if err := child.UnmarshalArg(1, &n); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := v.WithLock(ctx, func() error {
			x, err := v.Int()
			if err != nil {
				return err
			}
			return v.SetInt(x + 1)
		}); err != nil {
			return err
		}
	}
	return nil
}

// newValueFor is what roleTypes writes into a Value of type t.
func newValueFor(t sharedmem.CType, old any) any {
	switch t.Kind {
	case sharedmem.Signed:
		return int64(-42)
	case sharedmem.Unsigned:
		return uint64(42)
	case sharedmem.Float:
		return -1.25
	case sharedmem.Bool:
		return !old.(bool)
	case sharedmem.Char:
		return []byte("Z")
	case sharedmem.WChar:
		return "Ω"
	}
	return nil
}

// roleTypes reads every Value/Array argument, reports what it read on the
// Pipe in argument 0, checks the lock, and writes new contents.
func roleTypes(child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	kinds, ok := child.Arg(1).([]any)
	if !ok {
		return fmt.Errorf("argument 1 is %T", child.Arg(1))
	}
	var reads []any
	for i, k := range kinds {
		arg := child.Arg(2 + i)
		switch k {
		case "value":
			v, err := sharedmem.ValueFrom(child, arg)
			if err != nil {
				return fmt.Errorf("argument %d: %w", 2+i, err)
			}
			if err := checkLock(v.GetLock()); err != nil {
				return fmt.Errorf("argument %d: %w", 2+i, err)
			}
			old := v.Load()
			reads = append(reads, old)
			if err := v.Store(newValueFor(v.Type(), old)); err != nil {
				return fmt.Errorf("argument %d (%s): %w", 2+i, v.Type(), err)
			}
			v.Close()
		case "array", "string":
			a, err := sharedmem.ArrayFrom(child, arg)
			if err != nil {
				return fmt.Errorf("argument %d: %w", 2+i, err)
			}
			if err := checkLock(a.GetLock()); err != nil {
				return fmt.Errorf("argument %d: %w", 2+i, err)
			}
			if k == "string" {
				b, err := a.Value()
				if err != nil {
					return err
				}
				reads = append(reads, b)
				if err := a.SetValue([]byte("go")); err != nil {
					return err
				}
				a.Close()
				continue
			}
			elems := make([]any, a.Len())
			for j := range elems {
				if elems[j], err = a.Load(j); err != nil {
					return err
				}
			}
			reads = append(reads, elems)
			for j := range elems {
				if err := a.Store(j, elems[len(elems)-1-j]); err != nil {
					return err
				}
			}
			a.Close()
		}
	}
	return conn.Send(context.Background(), reads)
}

// checkLock takes and gives back a lock shared with the idle parent.
func checkLock(l *sharedmem.Lock) error {
	if l == nil {
		return nil
	}
	ok, err := l.AcquireTimeout(context.Background(), 5*time.Second)
	if err != nil || !ok {
		return fmt.Errorf("taking the lock %s: %v %v", l.Name(), ok, err)
	}
	return l.Release()
}

// roleNamed writes "from go" into a SharedMemory and a ShareableList that
// arrived in the spawn pickle, then closes them (never unlinking).
func roleNamed(child *process.ChildProcess) error {
	m, err := sharedmem.Attach(child.Arg(0))
	if err != nil {
		return err
	}
	defer m.Close()
	l, err := sharedmem.AttachList(child.Arg(1))
	if err != nil {
		return err
	}
	defer l.Close()
	copy(m.Bytes(), "from go")
	if err := l.Set(0, "from go"); err != nil {
		return err
	}
	return l.Set(2, 3.5)
}
