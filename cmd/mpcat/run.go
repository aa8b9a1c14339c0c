package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pylit"
	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/pickle"
)

const usage = `mpcat: netcat for Python multiprocessing connections

Usage:
  mpcat dial   [flags] ADDRESS                 connect to a multiprocessing Listener
  mpcat listen [flags] ADDRESS                 accept a multiprocessing Client
  mpcat proxy  [flags] LISTEN_ADDR UPSTREAM    log every frame between a Client and a Listener
  mpcat dis    [flags] FILE|-                  disassemble pickles like pickletools.dis
  mpcat python path|install DIR|wheel [DIR]    the mpwire Python package (GoProcess, GoPool) mpcat carries

ADDRESS is host:port (tcp), a socket path (unix; must contain '/'), or
@name (a Linux abstract unix socket).

dial and listen send each line of stdin as a value: a Python literal such as
[1, 'a', {'k': None}], b'\x00', (1,), {1, 2}, frozenset(), float('inf'),
(expressions such as 1+1 are not evaluated). With --bytes each line is sent as
raw bytes (send_bytes). Every frame received is printed as Python's repr()
(--bytes: the bytes repr; --json: one JSON object per line). A line that does
not parse is reported on stderr and the session goes on; an undecodable frame
is printed as "# undecodable frame" with its hex and the decode error.

Authentication: the key comes from --authkey-env NAME (the variable's value)
or --authkey-file PATH (the file's bytes, one trailing newline removed), as
hex with --authkey-hex. There is deliberately no flag taking the key itself:
command lines are visible to other users (ps, /proc/PID/cmdline) and are kept
in shell history. No key means no handshake (authkey=None). --auth picks the
challenge mpcat sends: auto and sha256 send {sha256} (what Python 3.12+
sends; every Python 3.8+ answers it), legacy sends the 3.8–3.11 MD5
challenge. Either kind of challenge from the peer is answered.

proxy terminates the handshake on each side (both with the same key) and
relays every frame unchanged, printing time, connection number, direction,
length and the value — manager traffic as "request ident=… method=… args=…
kwds=…" and "response #RETURN …". --capture FILE keeps the raw frames for
mpcat dis --frames.

Run "mpcat COMMAND -h" for the flags of a command.
`

// run is mpcat's main, with its I/O and cancellation passed in (tests call
// it in-process). It returns the exit status: 0 success, 1 failure, 2 usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "dial", "listen", "proxy":
		return runNet(ctx, args[0], args[1:], stdin, stdout, stderr)
	case "dis":
		return runDis(args[1:], stdin, stdout, stderr)
	case "python":
		return runPython(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mpcat: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// netFlags are the flags of dial, listen and proxy.
type netFlags struct {
	authEnv, authFile string
	authHex           bool
	auth              string
	rawBytes, json    bool
	maxFrame          int64
	timeout           time.Duration
	linger            time.Duration
	protocol          int
	keep              bool
	capture           string

	key    []byte
	scheme listener.Scheme
	enc    pickle.EncMode
}

func (f *netFlags) register(fs *flag.FlagSet, cmd string) {
	fs.StringVar(&f.authEnv, "authkey-env", "", "read the authkey from environment variable `NAME`")
	fs.StringVar(&f.authFile, "authkey-file", "", "read the authkey from file `PATH` (one trailing newline removed)")
	fs.BoolVar(&f.authHex, "authkey-hex", false, "the authkey (env or file) is written in hex")
	fs.StringVar(&f.auth, "auth", "auto", "challenge to send: auto|sha256 ({sha256}, Python 3.12+ style) or legacy (MD5, 3.8–3.11 style)")
	fs.BoolVar(&f.rawBytes, "bytes", false, "send stdin lines as raw bytes and print frames as bytes, without pickle")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per frame")
	fs.Int64Var(&f.maxFrame, "max-frame", connection.DefaultMaxFrame, "largest frame accepted, in bytes (-1: no limit)")
	fs.DurationVar(&f.timeout, "timeout", listener.DefaultHandshakeTimeout, "connect and handshake timeout")
	if cmd != "proxy" {
		fs.DurationVar(&f.linger, "linger", 0, "after stdin ends, wait this long for frames from the peer (0: until the peer closes)")
		fs.IntVar(&f.protocol, "protocol", 4, "pickle protocol for values sent (0–5; Python's send() uses 4)")
	}
	if cmd == "proxy" {
		fs.StringVar(&f.capture, "capture", "", "also append every relayed frame (both directions, header and payload) to `FILE`, for mpcat dis --frames")
	}
	if cmd == "listen" {
		fs.BoolVar(&f.keep, "keep", false, "after a client closes, accept the next one")
	}
}

func (f *netFlags) resolve() error {
	switch f.auth {
	case "auto", "sha256", "":
		f.scheme = listener.SchemeSHA256
	case "legacy":
		f.scheme = listener.SchemeLegacy
	default:
		return fmt.Errorf("--auth must be auto, sha256 or legacy, not %q", f.auth)
	}
	var raw []byte
	switch {
	case f.authEnv != "" && f.authFile != "":
		return errors.New("give --authkey-env or --authkey-file, not both")
	case f.authEnv != "":
		v, ok := os.LookupEnv(f.authEnv)
		if !ok {
			return fmt.Errorf("--authkey-env: environment variable %s is not set", f.authEnv)
		}
		raw = []byte(v)
	case f.authFile != "":
		b, err := os.ReadFile(f.authFile)
		if err != nil {
			return fmt.Errorf("--authkey-file: %w", err)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		raw = bytes.TrimSuffix(b, []byte("\r"))
	}
	if raw != nil && f.authHex {
		k, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil {
			return fmt.Errorf("--authkey-hex: the key is not hex: %w", err)
		}
		raw = k
	}
	f.key = raw
	if f.protocol < 0 || f.protocol > 5 {
		return fmt.Errorf("--protocol must be 0–5, not %d", f.protocol)
	}
	opts := pickle.EncOptions{Protocol: f.protocol, ProtocolZero: f.protocol == 0}
	m, err := opts.EncMode()
	if err != nil {
		return err
	}
	f.enc = m
	return nil
}

func (f *netFlags) config(stderr io.Writer, out *printer) listener.Config {
	return listener.Config{
		Authkey:          f.key,
		Scheme:           f.scheme,
		HandshakeTimeout: f.timeout,
		Conn:             connection.Config{MaxFrame: f.maxFrame},
		OnHandshakeError: func(remote net.Addr, err error) {
			out.event(fmt.Sprintf("client %v failed to authenticate: %v", remote, explain(err)))
		},
	}
}

// parseAddress maps an mpcat address to a network and an address for the
// listener package.
func parseAddress(s string) (network, address string, err error) {
	switch {
	case s == "":
		return "", "", errors.New("empty address")
	case strings.HasPrefix(s, "@") || strings.HasPrefix(s, "\x00"):
		return "unix", s, nil
	case strings.Contains(s, "/"):
		return "unix", s, nil
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return "tcp", s, nil
	}
	return "", "", fmt.Errorf("address %q is neither host:port, a socket path containing '/', nor @name", s)
}

// explain turns errors into what a user can act on.
func explain(err error) string {
	switch {
	case errors.Is(err, listener.ErrAuthentication):
		return fmt.Sprintf("authentication failed (wrong key, or the peer uses none?): %v", err)
	case errors.Is(err, connection.ErrFrameTooLarge):
		return fmt.Sprintf("%v (raise --max-frame); the connection can no longer be read", err)
	case errors.Is(err, io.EOF):
		return "peer closed the connection"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("peer closed the connection in the middle of a frame: %v", err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("timed out (does the peer expect a key, or none?): %v", err)
	}
	return err.Error()
}

func runNet(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mpcat "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f netFlags
	f.register(fs, cmd)
	nargs := 1
	argsHelp := "ADDRESS"
	if cmd == "proxy" {
		nargs, argsHelp = 2, "LISTEN_ADDR UPSTREAM_ADDR"
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mpcat %s [flags] %s\n\nThe authkey is never taken from the command line: command lines are visible\nto other users (ps, /proc/PID/cmdline) and stay in shell history.\n\nflags:\n", cmd, argsHelp)
		fs.PrintDefaults()
	}
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != nargs {
		fmt.Fprintf(stderr, "mpcat %s: want %s, got %d arguments\n", cmd, argsHelp, len(pos))
		fs.Usage()
		return 2
	}
	if err := f.resolve(); err != nil {
		fmt.Fprintf(stderr, "mpcat %s: %v\n", cmd, err)
		return 2
	}
	network, address, err := parseAddress(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "mpcat %s: %v\n", cmd, err)
		return 2
	}
	out := newPrinter(stdout, stderr, f.json, f.rawBytes)
	if f.key != nil && len(f.key) == 0 {
		out.event("warning: the authkey is empty; a Python 3.8–3.12 Listener treats b'' as no authentication, so the handshake would time out")
	}
	cfg := f.config(stderr, out)
	switch cmd {
	case "dial":
		dctx, cancel := context.WithTimeout(ctx, f.timeout)
		c, err := cfg.Dial(dctx, network, address)
		cancel()
		if err != nil {
			out.fail(fmt.Sprintf("dial %s: %s", pos[0], explain(err)))
			return 1
		}
		out.event("connected to " + pos[0])
		return session(ctx, c, &f, stdin, out)
	case "listen":
		l, err := cfg.Listen(network, address)
		if err != nil {
			out.fail(fmt.Sprintf("listen %s: %v", pos[0], err))
			return 1
		}
		defer l.Close()
		out.event("listening on " + l.Addr().String())
		lines := startLines(stdin, f.rawBytes)
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return 0
				}
				out.fail(fmt.Sprintf("accept: %v", err))
				return 1
			}
			out.event("accepted a connection")
			code := sessionLines(ctx, c, &f, lines, out)
			if !f.keep || code != 0 {
				return code
			}
		}
	default:
		upNet, upAddr, err := parseAddress(pos[1])
		if err != nil {
			fmt.Fprintf(stderr, "mpcat proxy: %v\n", err)
			return 2
		}
		return proxy(ctx, cfg, network, address, upNet, upAddr, &f, out)
	}
}

// line is one line of stdin, or the end of input.
type line struct {
	n    int
	text []byte
	err  error // io.EOF at the end
}

// startLines reads stdin in the background. The goroutine ends at EOF;
// mpcat exits without waiting for it otherwise.
func startLines(stdin io.Reader, raw bool) <-chan line {
	ch := make(chan line)
	go func() {
		br := bufio.NewReaderSize(stdin, 64<<10)
		n := 0
		for {
			b, err := br.ReadBytes('\n')
			if len(b) > 0 {
				n++
				b = bytes.TrimSuffix(b, []byte("\n"))
				ch <- line{n: n, text: b}
			}
			if err != nil {
				ch <- line{err: err}
				close(ch)
				return
			}
		}
	}()
	return ch
}

func session(ctx context.Context, c *connection.Conn, f *netFlags, stdin io.Reader, out *printer) int {
	return sessionLines(ctx, c, f, startLines(stdin, f.rawBytes), out)
}

// sessionLines sends lines as values (or bytes) and prints what arrives,
// until the peer closes, or stdin ends and --linger passes.
func sessionLines(ctx context.Context, c *connection.Conn, f *netFlags, lines <-chan line, out *printer) int {
	defer c.Close()
	recvDone := make(chan error, 1)
	go func() {
		for {
			b, err := c.RecvBytes(context.Background())
			if err != nil {
				recvDone <- err
				return
			}
			out.frame(b)
		}
	}()
	var lingerC <-chan time.Time
	finish := func(err error) int {
		if errors.Is(err, io.EOF) {
			out.event("peer closed the connection")
			return 0
		}
		if errors.Is(err, net.ErrClosed) {
			return 0
		}
		out.fail(explain(err))
		return 1
	}
	for {
		select {
		case <-ctx.Done():
			return 0
		case err := <-recvDone:
			return finish(err)
		case <-lingerC:
			return 0
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if l.err != nil {
				if !errors.Is(l.err, io.EOF) {
					out.fail(fmt.Sprintf("reading stdin: %v", l.err))
				}
				lines = nil
				if f.linger > 0 {
					lingerC = time.After(f.linger)
				}
				continue
			}
			payload, skip := encodeLine(l, f, out)
			if skip {
				continue
			}
			if err := c.SendBytes(ctx, payload); err != nil {
				if errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
					out.fail("peer closed the connection; cannot send line " + fmt.Sprint(l.n))
					return 1
				}
				out.fail(fmt.Sprintf("send: %v", err))
				return 1
			}
		}
	}
}

// encodeLine turns one stdin line into a frame payload; skip is true for a
// blank or comment line (value mode) and for a line that does not parse.
func encodeLine(l line, f *netFlags, out *printer) (payload []byte, skip bool) {
	if f.rawBytes {
		return l.text, false
	}
	s := strings.TrimSpace(strings.TrimSuffix(string(l.text), "\r"))
	if s == "" || strings.HasPrefix(s, "#") {
		return nil, true
	}
	v, err := pylit.Parse(s)
	if err != nil {
		out.warn(fmt.Sprintf("line %d: not sent: %v", l.n, err))
		return nil, true
	}
	p, err := f.enc.Marshal(v)
	if err != nil {
		out.warn(fmt.Sprintf("line %d: not sent: cannot pickle: %v", l.n, err))
		return nil, true
	}
	return p, false
}

// parseArgs parses args with parseInterspersed. When ok is false the
// command ends with code: 0 after -h (the flag package printed the usage),
// 2 after a bad flag (it printed the error).
func parseArgs(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	return pos, 0, true
}

// parseInterspersed parses flags given before, between or after the
// positional arguments (mpcat dial ADDR --json), which package flag alone
// does not; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
