// Command sharedmem shares memory between a Go parent and CPython spawn
// children:
//
//  1. the multiprocessing Value/Array tutorial with Go as the parent: Go
//     allocates Value('d', 0.0) and Array('i', range(10)) in a heap arena,
//     a Python child (a normal multiprocessing child) sets the value to
//     3.1415927 and negates the array under their locks, Go prints them;
//
//  2. a ShareableList (in the layout of the child's Python version) and a
//     SharedMemory segment created by Go, opened by the Python child by name;
//
//  3. the tutorial the other way round: a Python parent
//     (shm_values.py in the repository's pyfixtures/) creates Value('d', 0.0) and
//     Array('i', range(10)) and starts this program as its Go worker
//     (mpwire.GoProcess), which sets the value and negates the array.
//
//     go run ./examples/sharedmem
//
// Set MPWIRE_PYTHON to choose the interpreter (default: python3 on PATH).
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
	"github.com/mpwire/mpwire/sharedmem"
)

func main() {
	log.SetFlags(0)
	if process.IsChild(os.Args) {
		worker()
		return
	}
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	minor, err := pythonMinor(py)
	if err != nil {
		log.Fatal(err)
	}
	// The Python side (shm_targets.py, shm_values.py) lives in the
	// repository's pyfixtures/ directory.
	_, src, _, _ := runtime.Caller(0)
	pyfixtures := filepath.Join(filepath.Dir(src), "..", "..", "pyfixtures")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// 1. Value and Array, as in the multiprocessing docs.
	num, err := sharedmem.NewValue(sharedmem.CDouble)
	if err != nil {
		log.Fatal(err)
	}
	defer num.Close()
	arr, err := sharedmem.NewArray(sharedmem.CInt, 10)
	if err != nil {
		log.Fatal(err)
	}
	defer arr.Close()
	if err := arr.SetInts([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}); err != nil {
		log.Fatal(err)
	}
	child, err := process.Start(ctx, process.Spec{
		Python: py,
		Target: "shm_targets:seed", // def seed(num, arr): num.value = 3.1415927; arr[i] = -arr[i]
		Path:   []string{pyfixtures},
		Args:   []any{num, arr},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := child.Wait(ctx); err != nil {
		log.Fatalf("Python child: %v", err)
	}
	f, _ := num.Float()
	xs, _ := arr.Ints()
	fmt.Printf("Go parent after the Python 3.%d child: num=%v arr=%v\n", minor, f, xs)

	// 2. A ShareableList and a SharedMemory segment, opened by name.
	layout := sharedmem.LayoutFor(3, minor) // 3.8 and 3.9+ lay lists out differently
	sl, err := sharedmem.CreateShareableList("", []any{"go", int64(42), 2.5, true, nil, []byte("raw")}, layout)
	if err != nil {
		log.Fatal(err)
	}
	defer sl.Close()
	shm, err := sharedmem.Create("", 4096)
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Close()
	copy(shm.Bytes(), "hello from Go")
	fmt.Printf("Go created %v (layout %v) and %v\n", sl, layout, shm)

	child, err = process.Start(ctx, process.Spec{
		Python: py,
		Target: "shm_targets:show_list",
		Path:   []string{pyfixtures},
		Args:   []any{sl, shm}, // pickled by name, as Python pickles them
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := child.Wait(ctx); err != nil {
		log.Fatalf("Python child: %v", err)
	}
	items, err := sl.Items()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Go sees the child's writes: list=%v shm=%q\n", items, shm.Bytes()[:13])

	// Attaching registered both names with the child's resource tracker,
	// which would have unlinked them when the child exited (docs/spec.md#sharedmemory);
	// show_list unregistered them, so the names are still Go's to unlink.
	for _, name := range []string{sl.Name(), shm.Name()} {
		err := sharedmem.Unlink(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Printf("%s: already unlinked by the Python child's resource tracker\n", name)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Printf("%s: unlinked by Go\n", name)
		}
	}

	// 3. Python parent, Go worker (this program, started again by Python).
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := python.Dir() // shm_values.py imports the mpwire Python package (GoProcess)
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, py, filepath.Join(pyfixtures, "shm_values.py"), "--go", exe, "--scenario", "seed")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("Python parent: %v", err)
	}
	res := string(out)
	fmt.Printf("Python parent after its Go worker: %s\n", strings.TrimSpace(res))
	if !strings.Contains(res, `"exitcode": 0`) {
		log.Fatal("the Go worker failed")
	}
}

// pythonMinor asks the interpreter for its minor version (3.x).
func pythonMinor(py string) (int, error) {
	out, err := exec.Command(py, "-c", "import sys; print(sys.version_info[1])").Output()
	if err != nil {
		return 0, fmt.Errorf("asking %s for its version: %w", py, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// worker is the Go child of step 3: arguments 0 and 1 are the parent's
// Value('d') and Array('i').
func worker() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error {
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
		if err := num.WithLock(ctx, func() error { return num.SetFloat(3.1415927) }); err != nil {
			return err
		}
		return arr.WithLock(ctx, func() error {
			xs, err := sharedmem.Slice[int32](arr)
			for i := range xs {
				xs[i] = -xs[i]
			}
			return err
		})
	})
}
