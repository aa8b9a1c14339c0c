package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pool"
)

const usage = `mpmanager: a Go-hosted multiprocessing manager server (Python's SyncManager)

Usage:
  mpmanager [flags]

Prints "READY NETWORK ADDRESS" once it accepts connections and serves until a
client sends shutdown, SIGINT/SIGTERM, or (--stdin-lifeline) end of stdin.

ADDRESS (--address) is host:port (tcp), a socket path (unix; must contain
'/'), or @name (a Linux abstract unix socket); the default is a unix socket
in a new temporary directory, as Python's Manager() uses, removed on exit.

The authkey comes from --authkey-stdin (the first line of stdin, hex),
--authkey-env NAME (hex) or --authkey-file PATH (raw bytes); never from the
command line. Without one clients need no key (authkey=None).

Flags:
`

type flags struct {
	address    string
	keyStdin   bool
	keyEnv     string
	keyFile    string
	lifeline   bool
	python     string
	path       string
	main       string
	dir        string
	maxItems   int
	maxReply   int64
	maxWorkers int
	backlog    int
	threadWait int
	eventLoops int
	legacyAuth bool
}

// run is mpmanager's main with its I/O passed in (tests call it
// in-process): 0 after a clean shutdown, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f flags
	fs := flag.NewFlagSet("mpmanager", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.address, "address", "", "listen on `ADDRESS` (default: a unix socket in a new temporary directory)")
	fs.BoolVar(&f.keyStdin, "authkey-stdin", false, "read the authkey from the first line of stdin, in hex")
	fs.StringVar(&f.keyEnv, "authkey-env", "", "read the authkey (hex) from environment variable `NAME`")
	fs.StringVar(&f.keyFile, "authkey-file", "", "read the authkey from file `PATH` (raw bytes)")
	fs.BoolVar(&f.lifeline, "stdin-lifeline", false, "shut down when stdin reaches end of file (the parent exited)")
	fs.StringVar(&f.python, "python", "", "`INTERPRETER` of Pool workers (default: $MPWIRE_PYTHON, else python3 in PATH)")
	fs.StringVar(&f.path, "path", "", "directories (os.pathsep-separated `LIST`) added to Pool workers' sys.path")
	fs.StringVar(&f.main, "main", "", "the client's main script `PATH`, imported by Pool workers as __mp_main__")
	fs.StringVar(&f.dir, "dir", "", "working `DIRECTORY` of Pool workers (default: the current one)")
	fs.IntVar(&f.maxItems, "max-items", 0, "bound on the items the shared containers hold together (0: server.DefaultMaxItems, <0: none)")
	fs.Int64Var(&f.maxReply, "max-reply", 0, "bound on one reply in bytes (0: the request bound, 64 MiB; <0: none)")
	fs.IntVar(&f.maxWorkers, "max-workers", 0, "bound on the Pool worker processes of all clients together (0: server.DefaultMaxWorkers, <0: none)")
	fs.IntVar(&f.backlog, "backlog", 0, "listen backlog (0: the listener package's default)")
	fs.IntVar(&f.threadWait, "thread-wait-conns", 0, "while at most this many client connections are served, each waits on its own thread (0: none with event loops, else server.DefaultThreadWaitConns; <0: never)")
	fs.IntVar(&f.eventLoops, "event-loops", 0, "event loops serving the connections beyond --thread-wait-conns (0: server.DefaultEventLoops(), <0: none, the Go runtime's poller)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mpmanager: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	in := bufio.NewReader(stdin)
	key, err := f.authkey(in)
	if err != nil {
		fmt.Fprintf(stderr, "mpmanager: %v\n", err)
		return 2
	}
	network, address, cleanup, err := listenAddress(f.address)
	if err != nil {
		fmt.Fprintf(stderr, "mpmanager: %v\n", err)
		return 1
	}
	defer cleanup()
	cfg := server.Config{
		Listener:        listener.Config{Authkey: key, Backlog: f.backlog},
		MaxItems:        f.maxItems,
		MaxReply:        f.maxReply,
		MaxWorkers:      f.maxWorkers,
		ThreadWaitConns: f.threadWait,
		EventLoops:      f.eventLoops,
		Pool:            pool.Config{Python: f.python, Dir: f.dir, MainPath: f.main},
	}
	if f.path != "" {
		cfg.Pool.Path = filepath.SplitList(f.path)
	}
	srv := cfg.New()
	if err := srv.Listen(network, address); err != nil {
		fmt.Fprintf(stderr, "mpmanager: %v\n", err)
		return 1
	}
	defer srv.Close()
	addr := srv.Addr().String()
	if network == "unix" && strings.HasPrefix(address, "@") {
		addr = address
	}
	fmt.Fprintf(stdout, "READY %s %s\n", network, addr)
	if fl, ok := stdout.(interface{ Sync() error }); ok {
		_ = fl.Sync()
	}
	lifeline := make(chan struct{})
	if f.lifeline {
		go func() {
			_, _ = io.Copy(io.Discard, in)
			close(lifeline)
		}()
	}
	select {
	case <-srv.Done():
	case <-ctx.Done():
	case <-lifeline:
	}
	if err := srv.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(stderr, "mpmanager: %v\n", err)
	}
	return 0
}

// authkey reads the key from the one source given.
func (f flags) authkey(stdin *bufio.Reader) ([]byte, error) {
	n := 0
	for _, set := range []bool{f.keyStdin, f.keyEnv != "", f.keyFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("give one of --authkey-stdin, --authkey-env and --authkey-file")
	}
	switch {
	case f.keyStdin:
		line, err := stdin.ReadString('\n')
		if err != nil && line == "" {
			return nil, fmt.Errorf("--authkey-stdin: no key on stdin: %w", err)
		}
		k, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return nil, fmt.Errorf("--authkey-stdin: the key is not hex: %w", err)
		}
		return k, nil
	case f.keyEnv != "":
		v, ok := os.LookupEnv(f.keyEnv)
		if !ok {
			return nil, fmt.Errorf("--authkey-env: environment variable %s is not set", f.keyEnv)
		}
		k, err := hex.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("--authkey-env: the key is not hex: %w", err)
		}
		return k, nil
	case f.keyFile != "":
		k, err := os.ReadFile(f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--authkey-file: %w", err)
		}
		return k, nil
	}
	return nil, nil
}

// listenAddress turns --address into a network and address; the default
// is a unix socket in a new private directory, which cleanup removes.
func listenAddress(a string) (network, address string, cleanup func(), err error) {
	cleanup = func() {}
	switch {
	case a == "":
		dir, err := os.MkdirTemp("", "mpmanager-")
		if err != nil {
			return "", "", cleanup, err
		}
		return "unix", filepath.Join(dir, "listener.sock"), func() { os.RemoveAll(dir) }, nil
	case strings.HasPrefix(a, "@"):
		return "unix", "\x00" + a[1:], cleanup, nil
	case strings.ContainsRune(a, '/'):
		return "unix", a, func() { os.Remove(a) }, nil
	}
	return "tcp", a, cleanup, nil
}
