package pickledis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/pickle"
)

func TestDisReportsPickletoolsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"unknown opcode", "\xff", "at position 0, opcode b'\\xff' unknown"},
		{"no STOP", "\x80\x04N", "pickle exhausted before seeing STOP"},
		{"truncated argument", "\x80\x04\x8c\x05ab", "expected 5 bytes in a unicodestring1, but only 2 remain"},
		{"memo get before put", "h\x05.", "memo key 5 has never been stored into"},
		{"memoize an empty stack", "\x94.", "stack is empty -- can't store into memo"},
		{"pop without items", "0.", "tries to pop 1 items from stack with only 0 items"},
		{"APPENDS without MARK", "]e.", "no MARK exists on stack"},
		{"items left", "NN.", "stack not empty after STOP"},
		{"bad INT", "Iabc\n.", "invalid literal for int() with base 10: b'abc'"},
		{"unquoted STRING", "Sabc\n.", "no string quotes around b'abc'"},
		{"negative BINSTRING count", "T\xff\xff\xff\xff.", "string4 byte count < 0"},
		{"bad UTF-8", "X\x01\x00\x00\x00\xff.", "'utf-8' codec can't decode"},
	} {
		res := Dis([]byte(tc.data))
		if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, res.Err, tc.want)
		}
	}
}

func TestDisArguments(t *testing.T) {
	// Protocol-0 text opcodes and their pickletools reprs.
	data := "(I01\nI00\nI-5\nL123456789012345678901234L\nF1.5\nS'a\\n\\x41'\nVa\\u20ac\\\\u0041\ncmod\nname\np7\ng7\nt."
	res := Dis([]byte(data))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var b strings.Builder
	_ = res.Format(&b)
	want := `    0: (    MARK
    1: I        INT        True
    5: I        INT        False
    9: I        INT        -5
   13: L        LONG       123456789012345678901234
   40: F        FLOAT      1.5
   45: S        STRING     'a\nA'
   56: V        UNICODE    'a€\\\\u0041'
   72: c        GLOBAL     'mod name'
   82: p        PUT        7
   85: g        GET        7
   88: t        TUPLE      (MARK at 0)
   89: .    STOP
highest protocol among opcodes = 0
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// FuzzDis checks that the disassembler never panics or reads past its
// input on arbitrary bytes, and that printing whatever decodes (repr and
// JSON) never panics.
func FuzzDis(f *testing.F) {
	f.Add([]byte("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01\x94.")) // more seeds in testdata
	f.Fuzz(func(t *testing.T, data []byte) {
		res := Dis(data)
		if res.Len < 0 || res.Len > int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", res.Len, len(data))
		}
		for _, l := range res.Lines {
			_ = l.String()
		}
		// What mpcat prints for a frame must not panic either.
		var v any
		if pickle.Unmarshal(data, &v) == nil {
			_ = pyrepr.Repr(v)
			if _, err := json.Marshal(pyrepr.JSON(v)); err != nil {
				t.Fatalf("JSON of %s: %v", pyrepr.Repr(v), err)
			}
		}
		if res.Err == nil && (len(res.Lines) == 0 || res.Lines[len(res.Lines)-1].Name != "STOP") {
			t.Fatalf("no error but no STOP")
		}
	})
}

// TestDeepMarksAreBounded: 20 KB of MARK opcodes used to print 4 spaces per
// level per line (800 MB); indentation is capped at MaxIndent levels and
// the line still says how deep it is.
func TestDeepMarksAreBounded(t *testing.T) {
	data := strings.Repeat("(", 20000) + "."
	res := Dis([]byte(data))
	var b strings.Builder
	if err := res.Format(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > 200*len(data) {
		t.Fatalf("%d bytes of output for %d bytes of input", len(out), len(data))
	}
	lines := strings.Split(out, "\n")
	deep := lines[MaxIndent+5]
	if want := strings.Repeat("    ", MaxIndent) + "+5 MARK"; !strings.HasSuffix(deep, want) {
		t.Errorf("line %q does not end with %q", deep, want)
	}
	if shallow := lines[3]; !strings.HasSuffix(shallow, strings.Repeat("    ", 3)+"MARK") || strings.Contains(shallow, "+") {
		t.Errorf("line %q", shallow)
	}
}
