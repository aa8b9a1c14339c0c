package pickle

import (
	"testing"
	"unicode/utf8"
)

// oldValidPyUTF8 is the definition validWTF8 replaces: UTF-8, or UTF-8
// with surrogates in their 3-byte form.
func oldValidPyUTF8(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0xED && i+2 < len(b) && b[i+1] >= 0xA0 && b[i+1] <= 0xBF && b[i+2]&0xC0 == 0x80 {
			i += 3
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		i += n
	}
	return true
}

func FuzzValidWTF8(f *testing.F) {
	for _, s := range []string{"", "abc", "h\\xe9llo", "\xed\xa0\x80", "\xed\x9f\xbf", "\xc0\x80", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf4\x8f\xbf\xbf", "日本😀", "abcdefgh\xffabcdefgh", "\xe2\x9c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validPyUTF8(b), oldValidPyUTF8(b); got != want {
			t.Fatalf("validPyUTF8(%q) = %v, want %v", b, got, want)
		}
	})
}
