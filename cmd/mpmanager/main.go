// Command mpmanager runs mpwire's Go-hosted multiprocessing manager server
// (package manager/server): a SyncManager server that Python clients use
// unchanged, with every typeid of Python's SyncManager (Pool included,
// backed by Python worker processes).
//
//	mpmanager [flags]
//
// It prints one line when it accepts connections,
//
//	READY unix /tmp/mpmanager-123/listener.sock
//	READY tcp 127.0.0.1:50000
//
// and serves until a client sends shutdown (Python: manager.shutdown()),
// SIGINT or SIGTERM arrives, or — with --stdin-lifeline — its standard input
// reaches end of file, which is how mpwire.Manager() (python/mpwire) ties
// the server's life to the Python program that started it.
//
// The authkey is read from standard input (--authkey-stdin: the first
// line, in hex), an environment variable (--authkey-env NAME, hex) or a
// file (--authkey-file PATH, raw bytes), never from the command line, which
// other users can read.
//
// Pool workers (manager.Pool()) are Python processes running CPython's own
// worker loop: --python names their interpreter, --path adds directories
// to their sys.path and --main is the client's main script, imported as
// __mp_main__ as Python's spawn start method does, so functions defined
// there can be called. mpwire.Manager() passes its own interpreter, sys.path
// and main script.
//
// Install it with
//
//	go install github.com/mpwire/mpwire/cmd/mpmanager@latest
//
// (or "go install ./cmd/mpmanager" in a checkout); mpwire.Manager() finds
// it in PATH, in $MPWIRE_MANAGER, or as its executable= argument.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The signals stay caught until the process exits: a SIGTERM that
	// arrives while the server is shutting down must not end it abruptly.
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
