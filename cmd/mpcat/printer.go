package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/mgrreply"
	"github.com/mpwire/mpwire/pickle"
)

// printer writes frames to stdout and events to stderr, one line each,
// from any goroutine.
type printer struct {
	mu      sync.Mutex
	out     io.Writer
	errw    io.Writer
	json    bool
	raw     bool
	jsonEnc *json.Encoder
	capture io.Writer // proxy --capture: frames as they were on the wire
}

func newPrinter(out, errw io.Writer, asJSON, raw bool) *printer {
	p := &printer{out: out, errw: errw, json: asJSON, raw: raw}
	p.jsonEnc = json.NewEncoder(out)
	p.jsonEnc.SetEscapeHTML(false)
	return p
}

func (p *printer) event(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.errw, "mpcat: %s\n", msg)
}

func (p *printer) warn(msg string) { p.event(msg) }

func (p *printer) fail(msg string) { p.event("error: " + msg) }

// decoded is what mpcat makes of one frame.
type decoded struct {
	value  any
	ok     bool
	errMsg string
}

func decodeFrame(b []byte, raw bool) decoded {
	if raw {
		return decoded{value: b, ok: true}
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		return decoded{errMsg: err.Error()}
	}
	return decoded{value: v, ok: true}
}

// frame prints one received frame (dial, listen).
func (p *printer) frame(b []byte) {
	d := decodeFrame(b, p.raw)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		m := map[string]any{"dir": "recv", "len": len(b)}
		fillJSON(m, b, d)
		_ = p.jsonEnc.Encode(m)
		return
	}
	if !d.ok {
		fmt.Fprintf(p.out, "# undecodable frame (%d bytes): %s: %s\n", len(b), d.errMsg, hex.EncodeToString(b))
		return
	}
	fmt.Fprintln(p.out, pyrepr.Repr(d.value))
}

func fillJSON(m map[string]any, b []byte, d decoded) {
	if !d.ok {
		m["error"] = d.errMsg
		m["hex"] = hex.EncodeToString(b)
		return
	}
	m["repr"] = pyrepr.Repr(d.value)
	m["value"] = pyrepr.JSON(d.value)
}

// managerForm recognizes a manager request (ident, method, args, kwds) or
// reply (kind, payload) and returns its description (docs/spec.md, section
// Manager).
func managerForm(v any) (kind string, fields map[string]any, text string, ok bool) {
	t, isTuple := v.(pickle.Tuple)
	if !isTuple {
		return "", nil, "", false
	}
	if len(t) == 4 {
		_, identOK := t[0].(string)
		method, methodOK := t[1].(string)
		args, argsOK := t[2].(pickle.Tuple)
		kwds, kwdsOK := t[3].(*pickle.Dict)
		if (t[0] == nil || identOK) && methodOK && argsOK && kwdsOK {
			fields = map[string]any{"ident": pyrepr.Repr(t[0]), "method": method, "args": pyrepr.Repr(args), "kwds": pyrepr.Repr(kwds)}
			text = fmt.Sprintf("request ident=%s method=%s args=%s kwds=%s", pyrepr.Repr(t[0]), method, pyrepr.Repr(args), pyrepr.Repr(kwds))
			return "request", fields, text, true
		}
	}
	if len(t) == 2 {
		if k, isStr := t[0].(string); isStr && mgrreply.IsKind(k) {
			fields = map[string]any{"kind": k, "payload": pyrepr.Repr(t[1])}
			return "response", fields, fmt.Sprintf("response %s %s", k, pyrepr.Repr(t[1])), true
		}
	}
	return "", nil, "", false
}

// proxyFrame prints one frame relayed by the proxy.
func (p *printer) proxyFrame(conn int, dir string, b []byte, at time.Time) {
	d := decodeFrame(b, p.raw)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.capture != nil {
		if _, err := p.capture.Write(connection.AppendHeader(nil, len(b))); err == nil {
			if _, err := p.capture.Write(b); err != nil {
				fmt.Fprintf(p.errw, "mpcat: error: --capture: %v\n", err)
			}
		}
	}
	if p.json {
		m := map[string]any{"time": at.UTC().Format(time.RFC3339Nano), "conn": conn, "dir": dir, "len": len(b)}
		fillJSON(m, b, d)
		if d.ok && !p.raw {
			if kind, fields, _, ok := managerForm(d.value); ok {
				m["manager"] = map[string]any{"kind": kind, "fields": fields}
			}
		}
		_ = p.jsonEnc.Encode(m)
		return
	}
	var body string
	switch {
	case !d.ok:
		body = fmt.Sprintf("# undecodable: %s: %s", d.errMsg, hex.EncodeToString(b))
	case !p.raw:
		if _, _, text, ok := managerForm(d.value); ok {
			body = text
			break
		}
		fallthrough
	default:
		body = pyrepr.Repr(d.value)
	}
	fmt.Fprintf(p.out, "%s [%d] %s %d B %s\n", at.UTC().Format("15:04:05.000000"), conn, dir, len(b), strings.TrimRight(body, "\n"))
}
