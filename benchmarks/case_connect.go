package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
)

var benchKey = []byte("mpwire-bench-key")

// connectInterpreters picks, from the discovered interpreters, the newest
// ≤ 3.11 (Listener sends the legacy MD5 challenge) and the newest ≥ 3.12
// ({sha256}).
func connectInterpreters() (legacy, sha pyharness.Interpreter, okL, okS bool) {
	all, _ := pyharness.Interpreters()
	for _, py := range all { // newest first
		if py.AtLeast(3, 12) && !okS {
			sha, okS = py, true
		}
		if !py.AtLeast(3, 12) && !okL {
			legacy, okL = py, true
		}
	}
	return
}

// goDialN makes n authenticated connects with cfg and closes each.
func goDialN(cfg listener.Config, addr string, n int) error {
	for i := 0; i < n; i++ {
		c, err := cfg.Dial(context.Background(), "tcp", addr)
		if err != nil {
			return err
		}
		c.Close()
	}
	return nil
}

func runConnect(r *runner) error {
	legacy, sha, okL, okS := connectInterpreters()
	count := r.pick(200, 1)
	keyEnv := []string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(benchKey)}
	for _, sc := range []struct {
		scheme listener.Scheme
		label  string
		py     pyharness.Interpreter
		ok     bool
	}{{listener.SchemeLegacy, "legacy MD5 challenge", legacy, okL}, {listener.SchemeSHA256, "{sha256} challenge", sha, okS}} {
		k := "connect/" + string(sc.scheme) + "/"
		cfg := listener.Config{Authkey: benchKey, Scheme: sc.scheme}
		// Go Dial → Go Listener.
		l, err := cfg.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		accepted := make(chan struct{})
		go func() {
			defer close(accepted)
			for {
				c, err := l.Accept(context.Background())
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		addr := l.Addr().String()
		if err := goDialN(cfg, addr, 1); err != nil { // warm up
			l.Close()
			return err
		}
		ns, err := r.measure(func(n int) error { return goDialN(cfg, addr, n) })
		l.Close()
		<-accepted
		if err != nil {
			return err
		}
		r.add(k+"gogo", ns)
		if !sc.ok {
			r.note(fmt.Sprintf("connect: no CPython interpreter found for the %s; its Python rows are n/a", sc.label))
			continue
		}
		// Python Client → Python Listener, and Go Dial → Python Listener.
		pyListener := func() (*pyharness.Proc, string, error) {
			p, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: sc.py, Script: "conn_listener.py", TempDir: r.tmp,
				Args: []string{"--accept", strconv.Itoa(count + 1), "--mode", "accept-only"}, Env: append(keyEnv, "MPWIRE_WATCHDOG=900")})
			if err != nil {
				return nil, "", err
			}
			line, err := p.ReadLine(r.ctx)
			if err != nil {
				p.Kill()
				p.Wait()
				return nil, "", err
			}
			addr, _ := strings.CutSuffix(line, " READY")
			return p, addr, nil
		}
		lp, addr, err := pyListener()
		if err != nil {
			return err
		}
		out, err := r.runPy(pyharness.Cmd{Python: sc.py, Script: "conn_connect.py",
			Args: []string{"--address", addr, "--count", strconv.Itoa(count)}, Env: keyEnv})
		if werr := lp.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		total, err := elapsed(out)
		if err != nil {
			return err
		}
		r.add(k+"pypy", total/float64(count))

		lp, addr, err = pyListener()
		if err != nil {
			return err
		}
		err = goDialN(cfg, addr, 1)
		var t float64
		if err == nil {
			t, err = timeIt(func() error { return goDialN(cfg, addr, count) })
		}
		if werr := lp.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
		r.add(k+"gopy", t/float64(count))

		wl := fmt.Sprintf("tcp, %s (Python %s)", sc.label, sc.py.Version())
		r.compare(comparison{Case: "authenticated connect", Workload: wl, Subject: "Go Dial → Go Listener", SubjectKey: k + "gogo",
			Baseline: "Py Client → Py Listener", BaseKey: k + "pypy"})
		r.compare(comparison{Case: "authenticated connect", Workload: wl, Subject: "Go Dial → Py Listener", SubjectKey: k + "gopy",
			Baseline: "Py Client → Py Listener", BaseKey: k + "pypy"})
	}
	r.note("connect: TCP connect + both challenge/answer handshakes + close, per connection; the legacy scheme runs on the newest " +
		"installed CPython ≤ 3.11, {sha256} on the newest ≥ 3.12 (internal/pyharness discovery); Go uses the same scheme via listener.Config.Scheme.")
	return nil
}
