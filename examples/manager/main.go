// Command manager ports the seed program "manager 管道" (a Manager dict and
// list shared by ten processes) to a mixed Go/Python team:
//
//	from multiprocessing import Process, Manager
//	def f(d, l):
//	    d[1] = '1'; d['2'] = 2; l.append(1)
//	d = Manager().dict(); l = Manager().list(range(5))
//	... ten Process(target=f, args=(d, l)) ...
//	print(d); print(l)
//
//	go run ./examples/manager
//
// It runs the program twice: first against a CPython SyncManager server
// (mgr_server.py in the repository's pyfixtures/), then against a Go-hosted
// manager (package manager/server). Each time the Go parent creates d and l, then starts
// ten workers — five Go workers (this binary, started through the spawn
// protocol with process.Start, receiving the proxies as arguments) and five
// Python workers (spawn children running mgr_spawn.seed_f, also receiving
// the proxies as arguments) — and prints what Python's print(d) and
// print(l) print. Set MPWIRE_PYTHON to choose the interpreter.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/process"
)

func main() {
	log.SetFlags(0)
	if process.IsChild(os.Args) {
		goWorker()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	python, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	py := pyside{python: python, dir: pyfixturesDir()}
	authkey := make([]byte, 32)
	rand.Read(authkey)

	// 1. A CPython SyncManager server.
	network, address, stop := startPythonManager(ctx, py, authkey)
	fmt.Printf("With a Python manager (SyncManager at %s):\n", address)
	if err := seed(ctx, py, network, address, authkey); err != nil {
		log.Fatal(err)
	}
	stop()

	// 2. A Go-hosted manager.
	srv := server.New(authkey)
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	fmt.Printf("With the Go-hosted manager (at %s):\n", srv.Addr())
	if err := seed(ctx, py, "tcp", srv.Addr().String(), authkey); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("objects left on the Go server: %d\n", srv.NumberOfObjects())
}

// pyside is the Python side: the interpreter, and the directory of the
// scripts it runs (mgr_server.py, mgr_spawn.py).
type pyside struct{ python, dir string }

// pyfixturesDir is the repository's pyfixtures/ directory.
func pyfixturesDir() string {
	_, src, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(src), "..", "..", "pyfixtures")
}

// seed is the seed program's main block with five Go and five Python workers.
func seed(ctx context.Context, py pyside, network, address string, authkey []byte) error {
	m, err := manager.Dial(ctx, network, address, authkey)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := m.Dict(ctx, nil) // Manager().dict()
	if err != nil {
		return err
	}
	defer d.Close()
	l, err := m.List(ctx, []any{0, 1, 2, 3, 4}) // Manager().list(range(5))
	if err != nil {
		return err
	}
	defer l.Close()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	var procs []*process.Process
	for i := 0; i < 10; i++ {
		spec := process.Spec{Args: []any{d, l}, Authkey: authkey, Stdout: os.Stdout, Stderr: os.Stderr}
		if i%2 == 0 {
			spec.Executable = []string{self}
			spec.Name = fmt.Sprintf("GoWorker-%d", i/2+1)
		} else {
			spec.Python = py.python
			spec.Target = "mgr_spawn:seed_f"
			spec.Path = []string{py.dir}
			spec.Name = fmt.Sprintf("PyWorker-%d", i/2+1)
		}
		p, err := process.Start(ctx, spec)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			return err
		}
	}
	ds, err := d.Str(ctx) // print(d)
	if err != nil {
		return err
	}
	ls, err := l.Str(ctx) // print(l)
	if err != nil {
		return err
	}
	fmt.Println(ds)
	fmt.Println(ls)
	return nil
}

// goWorker is f(d, l) in Go: the proxies arrive as spawn arguments.
func goWorker() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error {
		dp, err := manager.FromChild(ctx, child, child.Arg(0))
		if err != nil {
			return err
		}
		defer dp.Close()
		lp, err := manager.FromChild(ctx, child, child.Arg(1))
		if err != nil {
			return err
		}
		defer lp.Close()
		d, l := &manager.DictProxy{Proxy: dp}, &manager.ListProxy{Proxy: lp}
		if err := d.Set(ctx, 1, "1"); err != nil {
			return err
		}
		if err := d.Set(ctx, "2", 2); err != nil {
			return err
		}
		return l.Append(ctx, 1)
	})
}

var tcpRepr = regexp.MustCompile(`^\('([^']*)', (\d+)\)$`)

// startPythonManager runs mgr_server.py and returns its address and a
// function that shuts it down.
func startPythonManager(ctx context.Context, py pyside, authkey []byte) (network, address string, stop func()) {
	proc := exec.CommandContext(ctx, py.python, filepath.Join(py.dir, "mgr_server.py"))
	proc.Env = append(os.Environ(), "MPWIRE_AUTHKEY="+hex.EncodeToString(authkey))
	proc.Stderr = os.Stderr
	stdout, err := proc.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := proc.Start(); err != nil {
		log.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		log.Fatalf("python manager: %v", err)
	}
	m := tcpRepr.FindStringSubmatch(strings.TrimSpace(strings.TrimPrefix(line, "READY ")))
	if m == nil {
		log.Fatalf("python manager said %q", line)
	}
	address = m[1] + ":" + m[2]
	return "tcp", address, func() {
		c, err := manager.Dial(ctx, "tcp", address, authkey)
		if err == nil {
			err = c.Shutdown(ctx)
		}
		if err != nil {
			log.Printf("shutting the Python manager down: %v", err)
			proc.Process.Kill()
		}
		proc.Wait()
	}
}
