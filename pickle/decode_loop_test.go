package pickle

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeLoopInline checks the opcode loop's inline paths (tryPush,
// BINGET/LONG_BINGET of a str, the stack top read by APPEND(S) and
// SETITEM(S)) against the checked ones: the same values, the same errors,
// and MaxObjects and MaxContainerLen at their exact bounds. Each input is
// padded after its STOP so that every opcode runs in the fast loop (run
// reads the slow way within 10 bytes of the end) and once unpadded.
func TestDecodeLoopInline(t *testing.T) {
	pad := func(s string) []string { return []string{s, s + strings.Repeat("N", 12)} }
	for _, c := range []struct {
		in   string
		want any
	}{
		// ["a", "a", "a"]: the str memoized once, fetched by BINGET and
		// LONG_BINGET.
		{"\x80\x04]\x94(\x8c\x01a\x94h\x01j\x01\x00\x00\x00e.", []any{"a", "a", "a"}},
		// {"k": [1, 2.5, None, True, False, []]}: the inline pushes.
		{"\x80\x04}\x94\x8c\x01k\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88\x89]es.", nil},
		// A list fetched by BINGET (not a str: memoGet).
		{"\x80\x04]\x94(]\x94h\x01e.", []any{[]any{}, []any{}}},
	} {
		for _, in := range pad(c.in) {
			var v any
			if err := Unmarshal([]byte(in), &v); err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			if c.want != nil && !reflect.DeepEqual(v, c.want) {
				t.Fatalf("%q: %#v, want %#v", in, v, c.want)
			}
		}
	}
	for _, c := range []struct{ in, msg string }{
		{"\x80\x04(e.", "unpickling stack underflow"},
		{"\x80\x04(u.", "unpickling stack underflow"},
		{"\x80\x04Na.", "unpickling stack underflow"},
		{"\x80\x04NNs.", "unpickling stack underflow"},
		{"\x80\x04]\x94(h\x05e.", "Memo value not found at index 5"},
		{"\x80\x04]\x94(j\x05\x00\x00\x00e.", "Memo value not found at index 5"},
		{"\x80\x04K\x01K\x02a.", "APPEND to int"},
	} {
		for _, in := range pad(c.in) {
			var v any
			err := Unmarshal([]byte(in), &v)
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("%q: %v, want a *SyntaxError saying %q", in, err, c.msg)
			}
		}
	}
	// [1, 2, 3]: four values pushed; MaxObjects 4 lets it through, 3 not.
	// MaxContainerLen 3 lets it through, 2 not.
	list := "\x80\x04](K\x01K\x02K\x03e."
	for _, c := range []struct {
		o  DecOptions
		ok bool
	}{
		{DecOptions{MaxObjects: 4}, true},
		{DecOptions{MaxObjects: 3}, false},
		{DecOptions{MaxContainerLen: 3}, true},
		{DecOptions{MaxContainerLen: 2}, false},
	} {
		m, err := c.o.DecMode()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range pad(list) {
			var v any
			err := m.Unmarshal([]byte(in), &v)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrLimit)) {
				t.Fatalf("%+v %q: %v", c.o, in, err)
			}
		}
	}
}
