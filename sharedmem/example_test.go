package sharedmem_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/sharedmem"
)

// A segment Python opens with SharedMemory(name); Go owns the name and
// unlinks it.
func ExampleCreate() {
	m, err := sharedmem.Create("", 1024) // a random "psm_xxxxxxxx" name
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unlink()
	defer m.Close()
	copy(m.Bytes(), "hello")

	// The pickled form Python rebuilds: SharedMemory(name, False, 1024).
	b, err := pickle.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		log.Fatal(err)
	}
	o, err := sharedmem.Attach(v) // what a Go receiver of that pickle does
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	fmt.Println(o.Size(), string(o.Bytes()[:5]))
	// Output: 1024 hello
}

// A ShareableList for a CPython 3.8 reader, then opened again by name.
func ExampleCreateShareableList() {
	l, err := sharedmem.CreateShareableList("", []any{"howdy", int64(42), 2.5, nil, true}, sharedmem.LayoutFor(3, 8))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Unlink()
	defer l.Close()
	if err := l.Set(0, "hi"); err != nil {
		log.Fatal(err)
	}
	err = l.Set(0, "far too long for the slot")
	fmt.Println(err)

	o, err := sharedmem.OpenShareableList(l.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	items, _ := o.Items()
	f, _ := o.Format()
	fmt.Println(o.Layout(), items, f)
	// Output:
	// bytes/str item exceeds available storage: item 0 holds 8 bytes, got 25
	// 3.8 [hi 42 2.5 <nil> true] 8sqdxxxxxx?xxxxxxxx?
}

// A synchronized Value for Python children: pass it in process.Spec.Args;
// the child sees multiprocessing.sharedctypes.Synchronized.
func ExampleNewValue() {
	v, err := sharedmem.NewValue(sharedmem.CDouble)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	err = v.WithLock(context.Background(), func() error {
		f, _ := v.Float()
		return v.SetFloat(f + 1.5)
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Type(), v.Load(), v.Synchronized())
	// Output: c_double 1.5 true
}

// Zero-copy typed views of an Array.
func ExampleSlice() {
	a, err := sharedmem.NewRawArray(sharedmem.CInt, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	xs, err := sharedmem.Slice[int32](a)
	if err != nil {
		log.Fatal(err)
	}
	for i := range xs {
		xs[i] = int32(i * i)
	}
	ints, _ := a.Ints()
	fmt.Println(ints)
	// Output: [0 1 4 9]
}
