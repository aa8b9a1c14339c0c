package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pickledis"
	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

type corpusCase struct {
	Expr  string  `json:"expr"`
	Proto int     `json:"proto"`
	Hex   string  `json:"hex"`
	Repr  *string `json:"repr"`
	Dis   string  `json:"dis"`
	data  []byte
}

func pyCorpus(t *testing.T, ctx context.Context, py pyharness.Interpreter) []corpusCase {
	t.Helper()
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
		Args: []string{"corpus", "--send", literalsFile(t)}})
	var cases []corpusCase
	for _, l := range outputLines(out) {
		var c corpusCase
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("bad corpus line %q: %v", l, err)
		}
		b, err := hex.DecodeString(c.Hex)
		if err != nil {
			t.Fatal(err)
		}
		c.data = b
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatal("empty corpus")
	}
	return cases
}

// TestCorpusMatchesPython decodes CPython's pickles of the literal corpus
// (and of recursive, shared and non-plain values) at every protocol 0–5
// and checks that the repr is Python's repr() and the disassembly is
// pickletools.dis' output, line for line (offsets, opcode names,
// arguments, MARK and memo annotations).
func TestCorpusMatchesPython(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		cases := pyCorpus(t, ctx, py)
		protos := map[int]int{}
		for _, c := range cases {
			protos[c.Proto]++
			name := fmt.Sprintf("%s protocol %d", c.Expr, c.Proto)
			res := pickledis.Dis(c.data)
			var b strings.Builder
			if err := res.Format(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.Dis {
				t.Errorf("%s: dis differs from pickletools.dis:\n--- mpcat\n%s--- pickletools\n%s", name, b.String(), c.Dis)
			}
			if res.Len != int64(len(c.data)) {
				t.Errorf("%s: dis consumed %d of %d bytes", name, res.Len, len(c.data))
			}
			if c.Repr == nil {
				continue
			}
			var v any
			if err := pickle.Unmarshal(c.data, &v); err != nil {
				t.Errorf("%s: decode: %v", name, err)
				continue
			}
			if got := pyrepr.Repr(v); got != *c.Repr {
				t.Errorf("%s: repr %s, Python's %s", name, got, *c.Repr)
			}
		}
		for p := 0; p <= 4; p++ {
			if protos[p] == 0 {
				t.Errorf("no pickles of protocol %d in the corpus", p)
			}
		}
		if py.AtLeast(3, 8) && protos[5] == 0 {
			t.Errorf("no protocol-5 pickles in the corpus")
		}
	})
}

// TestDisCommand runs mpcat dis on a capture of frames holding the corpus
// and on the raw pickles concatenated, and checks it against pickletools.
func TestDisCommand(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	cases := pyCorpus(t, ctx, py)
	var frames, raw, wantFrames, wantRaw bytes.Buffer
	for i, c := range cases {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(c.data)))
		if i > 0 {
			wantFrames.WriteString("\n")
		}
		fmt.Fprintf(&wantFrames, "# frame %d at offset %d: %d bytes\n%s", i, frames.Len(), len(c.data), c.Dis)
		frames.Write(hdr[:])
		frames.Write(c.data)
		if i < 3 {
			// Offsets of later pickles in one file count from the file's
			// start, like pickletools.dis reading a file.
			res := pickledis.DisAt(append(append([]byte{}, raw.Bytes()...), c.data...), raw.Len())
			if i > 0 {
				wantRaw.WriteString("\n")
			}
			_ = res.Format(&wantRaw)
			raw.Write(c.data)
		}
	}
	var stdout, stderr pyharness.SyncBuffer
	if code := run(ctx, []string{"dis", "--frames", "-"}, &frames, &stdout, &stderr); code != 0 {
		t.Fatalf("mpcat dis --frames exited %d: %s", code, stderr.String())
	}
	if stdout.String() != wantFrames.String() {
		t.Errorf("mpcat dis --frames output differs (%d vs %d bytes)", len(stdout.String()), wantFrames.Len())
	}
	var out2 pyharness.SyncBuffer
	if code := run(ctx, []string{"dis", "-"}, &raw, &out2, &stderr); code != 0 {
		t.Fatalf("mpcat dis exited %d: %s", code, stderr.String())
	}
	first := strings.SplitN(out2.String(), "\n\n", 2)[0] + "\n"
	if first != cases[0].Dis {
		t.Errorf("first pickle:\n%s\nwant\n%s", first, cases[0].Dis)
	}
	if out2.String() != wantRaw.String() {
		t.Errorf("concatenated pickles:\n%s\nwant\n%s", out2.String(), wantRaw.String())
	}
	// --json: one object per frame with the opcode names and offsets.
	var out3 pyharness.SyncBuffer
	frames.Reset()
	for _, c := range cases[:5] {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(c.data)))
		frames.Write(hdr[:])
		frames.Write(c.data)
	}
	if code := run(ctx, []string{"dis", "--frames", "--json", "-"}, &frames, &out3, &stderr); code != 0 {
		t.Fatalf("mpcat dis --json exited %d: %s", code, stderr.String())
	}
	lines := outputLines(out3.String())
	if len(lines) != 5 {
		t.Fatalf("got %d JSON lines, want 5", len(lines))
	}
	for i, l := range lines {
		var obj struct {
			Frame int `json:"frame"`
			Ops   []struct {
				Offset int64  `json:"offset"`
				Name   string `json:"name"`
			} `json:"ops"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatal(err)
		}
		res := pickledis.Dis(cases[i].data)
		if obj.Frame != i || len(obj.Ops) != len(res.Lines) || obj.Error != "" {
			t.Fatalf("frame %d: %s", i, l)
		}
		for j, op := range obj.Ops {
			if op.Offset != res.Lines[j].Offset || op.Name != res.Lines[j].Name {
				t.Errorf("frame %d op %d: %+v", i, j, op)
			}
		}
	}
}

// TestDisFramesMalformed: a capture whose frame headers are broken fails
// with a message naming the problem and the offset, never a crash.
func TestDisFramesMalformed(t *testing.T) {
	ok := append([]byte{0, 0, 0, 2}, 'N', '.')
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a truncated 4-byte header", string(ok) + "\x00\x00", "2 stray bytes at offset 6 (a truncated frame header)"},
		{"a truncated 8-byte length", string(ok) + "\xff\xff\xff\xff\x00", "5 stray bytes at offset 6 (a truncated frame header)"},
		{"a negative length", "\xff\xff\xff\xfe", "bad frame header: negative length: -2 at offset 0"},
		{"a frame longer than the input", string(ok) + "\x00\x00\x00\x09N.", "frame 1 at offset 6 claims 9 bytes, only 2 remain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr pyharness.SyncBuffer
			code := run(context.Background(), []string{"dis", "--frames", "-"}, strings.NewReader(tc.in), &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tc.want)
			}
		})
	}
}
