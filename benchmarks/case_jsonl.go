package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// jsonlPayload is the small dict both transports round-trip (the shape of
// pickle's small_dicts workload).
func jsonlPayload() map[string]any {
	return map[string]any{"id": int64(12345), "name": "item12345", "score": 6172.5, "tags": []any{"a", "b"}, "ok": true}
}

// runJSONL compares what people do today — JSON lines over a Python
// subprocess's stdin/stdout — with a mpwire Conn to a Python
// multiprocessing Connection, Go driving both, same dict each round trip.
func runJSONL(r *runner) error {
	payload := jsonlPayload()
	warm := r.pick(100, 0)

	// JSON lines.
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	p, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: r.cfg.Python, Script: "bench_py.py", TempDir: r.tmp,
		Args: []string{"jsonl-echo"}, Stdin: inR, Stdout: outW, Env: []string{"MPWIRE_WATCHDOG=900"}})
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return err
	}
	br := bufio.NewReader(outR)
	bw := bufio.NewWriter(inW)
	roundTrip := func() error {
		b, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		line, err := br.ReadBytes('\n')
		if err != nil {
			return err
		}
		var back map[string]any
		if err := json.Unmarshal(line, &back); err != nil {
			return err
		}
		if len(back) != len(payload) {
			return fmt.Errorf("jsonl echo returned %v", back)
		}
		return nil
	}
	for i := 0; i < warm && err == nil; i++ {
		err = roundTrip()
	}
	var ns float64
	if err == nil {
		ns, err = r.measure(func(n int) error {
			for i := 0; i < n; i++ {
				if err := roundTrip(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	inW.Close()
	if werr := p.Wait(); err == nil {
		err = werr
	}
	outR.Close()
	if err != nil {
		return err
	}
	r.add("jsonl/json", ns)

	// mpwire Conn ↔ Python Connection (conn_echo.py --mode obj-echo).
	c, ep, err := r.startEcho("obj-echo")
	if err != nil {
		return err
	}
	conn := func() error {
		if err := c.Send(context.Background(), payload); err != nil {
			return err
		}
		var back map[string]any
		if err := c.Recv(context.Background(), &back); err != nil {
			return err
		}
		if len(back) != len(payload) {
			return fmt.Errorf("obj-echo returned %v", back)
		}
		return nil
	}
	for i := 0; i < warm && err == nil; i++ {
		err = conn()
	}
	if err == nil {
		ns, err = r.measure(func(n int) error {
			for i := 0; i < n; i++ {
				if err := conn(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if werr := stopEcho(c, ep); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	r.add("jsonl/mpwire", ns)
	r.compare(comparison{Case: "vs JSON lines", Workload: "small dict round trip Go→Python→Go", Subject: "mpwire Conn ↔ Python Connection",
		SubjectKey: "jsonl/mpwire", Baseline: "JSON lines over subprocess stdin/stdout", BaseKey: "jsonl/json", Goal: 2.0})
	return nil
}
