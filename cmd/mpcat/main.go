// Command mpcat is netcat for Python multiprocessing connections: it dials
// or listens like multiprocessing.connection.Client and Listener (with their
// authentication), sends Python literals typed on stdin as pickled values,
// prints what arrives as Python reprs, disassembles pickles like
// pickletools.dis and sits between two peers as a logging proxy.
//
//	mpcat dial   [flags] ADDRESS              connect to a Listener
//	mpcat listen [flags] ADDRESS              accept one Client (--keep: one after another)
//	mpcat proxy  [flags] LISTEN_ADDR UPSTREAM  log every frame between a Client and a Listener
//	mpcat dis    [flags] FILE|-               disassemble pickles (--frames: a stream of frames)
//	mpcat python path|install DIR|wheel [DIR]  the mpwire Python package, for Python parents of Go workers
//
// Addresses: host:port (tcp), a socket path (unix; anything containing
// '/'), or @name (a Linux abstract unix socket). The authkey is read from an
// environment variable (--authkey-env NAME) or a file (--authkey-file PATH),
// never from the command line, where other users can read it (ps,
// /proc/PID/cmdline) and where it stays in the shell history. Without a
// key there is no handshake, as with authkey=None.
//
// mpcat python gives the Python side of mpwire to a user who has only the Go
// module: "mpcat python install DIR" writes the stdlib-only package (pip
// install DIR installs it offline), "mpcat python path" prints a directory
// to put on PYTHONPATH. See package github.com/mpwire/mpwire/python.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
