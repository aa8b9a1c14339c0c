package pystr

import (
	"errors"
	"testing"
)

// Expected values are what CPython's codecs.escape_decode and
// bytes.decode('raw_unicode_escape') return for the same input.
func TestEscapeDecode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\nb\tc\\d\'e\"f`, "a\nb\tc\\d'e\"f"},
		{`\x41\101\0\a\b\f\v\r`, "AA\x00\a\b\f\v\r"},
		{"line\\\ncont", "linecont"},
		{`\q`, `\q`},
	} {
		got, err := EscapeDecode([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("EscapeDecode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in  string
		pos int
	}{{`ab\x4`, 2}, {`\xzz`, 0}, {`a\`, -1}} {
		_, err := EscapeDecode([]byte(tc.in))
		var ee *EscapeError
		if !errors.As(err, &ee) || ee.Pos != tc.pos {
			t.Errorf("EscapeDecode(%q) error = %v, want an EscapeError at %d", tc.in, err, tc.pos)
		}
	}
}

func TestDecodeRawUnicodeEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`\u0041\U0001F600`, "A\U0001F600"},
		{`\\u0041`, `\\u0041`},             // even run of backslashes: no escape
		{`\\\u0041`, `\\A`},                // odd run: the last one escapes
		{`\x41 caf` + "\xe9", `\x41 café`}, // other bytes are latin-1
		{`a\`, `a\`},
		{`\ud800`, "\xed\xa0\x80"}, // a lone surrogate, held in surrogatepass form
	} {
		if got := DecodeRawUnicodeEscape([]byte(tc.in)); got != tc.want {
			t.Errorf("DecodeRawUnicodeEscape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Python's raw-unicode-escape raises on these (pickle.loads(b'V\\u12\n.')
// fails with UnicodeDecodeError); the lenient decoder keeps them.
func TestDecodeRawUnicodeEscapeStrict(t *testing.T) {
	for _, tc := range []struct{ in, lenient string }{
		{`\u12`, `\u12`},
		{`\u12zz`, `\u12zz`},
		{`x\U0001F60`, `x\U0001F60`},
		{`\U00110000`, `\U00110000`},
		{`\Uffffffff`, `\Uffffffff`},
	} {
		if got, err := DecodeRawUnicodeEscapeStrict([]byte(tc.in)); err == nil {
			t.Errorf("DecodeRawUnicodeEscapeStrict(%q) = %q, want an error", tc.in, got)
		}
		if got := DecodeRawUnicodeEscape([]byte(tc.in)); got != tc.lenient {
			t.Errorf("DecodeRawUnicodeEscape(%q) = %q, want %q", tc.in, got, tc.lenient)
		}
	}
	if got, err := DecodeRawUnicodeEscapeStrict([]byte(`\\u0041\u00e9`)); err != nil || got != `\\u0041é` {
		t.Errorf("DecodeRawUnicodeEscapeStrict: %q, %v", got, err)
	}
}

func TestRunesRoundTripSurrogates(t *testing.T) {
	for _, r := range []rune{'a', 0xE9, 0xD800, 0xDFFF, 0x1F600} {
		b := AppendRune(nil, r)
		got, n := NextRune(string(b), 0)
		if got != r || n != len(b) {
			t.Errorf("NextRune(AppendRune(%U)) = %U, %d; want %U, %d", r, got, n, r, len(b))
		}
	}
}
