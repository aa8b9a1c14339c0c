// Command gomap shows a Go program driving a pool of Python workers: the
// workers run CPython's own multiprocessing.pool.worker loop, and Go maps
// Python standard-library functions over a list.
//
//	go run ./examples/pool/gomap
//
// It uses the default interpreter (MPWIRE_PYTHON or python3).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
)

func main() {
	log.SetFlags(0)
	python, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p, err := pool.Config{Python: python, Processes: 2}.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Terminate()
	fmt.Printf("Go started 2 Python workers (%s): pids %v\n", python, p.Pids())

	// math.factorial over 1..20: typed results.
	var facts []uint64
	if err := p.Map(ctx, "math:factorial", []int{1, 2, 3, 4, 5, 10, 15, 20}, &facts); err != nil {
		log.Fatal(err)
	}
	fmt.Println("math.factorial of 1,2,3,4,5,10,15,20:", facts)

	// zlib.crc32 over byte strings, as they arrive.
	words := [][]byte{[]byte("multiprocessing"), []byte("pool"), []byte("Go"), []byte("Python")}
	for v, err := range p.ImapUnordered(ctx, "zlib:crc32", words) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("zlib.crc32 result arrived: %#08x\n", v)
	}

	// operator.pow with starmap.
	var pows []int
	if err := p.Starmap(ctx, "operator:pow", [][]int{{2, 10}, {3, 4}, {10, 3}}, &pows); err != nil {
		log.Fatal(err)
	}
	fmt.Println("operator.pow over (2,10), (3,4), (10,3):", pows)

	// A Python exception comes back as a *pickle.PythonError with its traceback.
	err = p.Apply(ctx, "math:sqrt", []any{-1}, nil, nil)
	var pe *pickle.PythonError
	var te *pool.TaskError
	if errors.As(err, &pe) && errors.As(err, &te) {
		fmt.Printf("math.sqrt(-1) raised %s.%s %v; the worker's traceback ends with %q\n",
			pe.Type.Module, pe.Type.Name, pe.Args, lastLine(te.Traceback))
	}

	if err := p.Close(); err != nil {
		log.Fatal(err)
	}
	if err := p.Join(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pool closed and joined: the Python workers have exited")
}

func lastLine(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == '\n' {
		end--
	}
	start := end
	for start > 0 && s[start-1] != '\n' {
		start--
	}
	return s[start:end]
}
