package pickle

import (
	"bytes"
	"math/rand/v2"
	"strings"
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

// refValidWTF8 is the byte-at-a-time validWTF8 that the word-at-a-time
// one replaced (issue 19 round 6): the reference of the differential tests.
func refValidWTF8(s string) bool {
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		if c < 0x80 {
			i++
			continue
		}
		switch {
		case c < 0xC2:
			return false
		case c < 0xE0:
			if i+1 >= n || s[i+1]&0xC0 != 0x80 {
				return false
			}
			i += 2
		case c < 0xF0:
			if i+2 >= n || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || c == 0xE0 && s[i+1] < 0xA0 {
				return false
			}
			i += 3
		case c < 0xF5:
			if i+3 >= n || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || s[i+3]&0xC0 != 0x80 ||
				c == 0xF0 && s[i+1] < 0x90 || c == 0xF4 && s[i+1] > 0x8F {
				return false
			}
			i += 4
		default:
			return false
		}
	}
	return true
}

// FuzzValidWTF8 checks validPyUTF8 and copyWTF8 against both references, on the input
// and on the input placed after 0-15 ASCII bytes (the word boundaries and
// the ASCII fast path fall elsewhere in it). Its seed corpus is in
// testdata/fuzz/FuzzValidWTF8.
func FuzzValidWTF8(f *testing.F) {
	for _, s := range []string{"", "abc", "h\\xe9llo", "\xed\xa0\x80", "\xed\x9f\xbf", "\xc0\x80", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf4\x8f\xbf\xbf", "日本😀", "abcdefgh\xffabcdefgh", "\xe2\x9c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for pad := 0; pad < 16; pad++ {
			c := append(bytes.Repeat([]byte{'a'}, pad), b...)
			got, want := validPyUTF8(c), oldValidPyUTF8(c)
			if got != want {
				t.Fatalf("validPyUTF8(%q) = %v, want %v", c, got, want)
			}
			if ref := refValidWTF8(string(c)); ref != want {
				t.Fatalf("refValidWTF8(%q) = %v, oldValidPyUTF8 %v", c, ref, want)
			}
			checkCopyWTF8(t, string(c), want)
			checkPairWTF8(t, string(c), string(b))
		}
	})
}

// checkCopyWTF8 checks copyWTF8 on s against want (the validity): the
// result, the copy, and that no byte of dst past len(s) changed.
func checkCopyWTF8(t *testing.T, s string, want bool) {
	t.Helper()
	dst := bytes.Repeat([]byte{0xAA}, len(s)+9)
	if got := copyWTF8(dst, s); got != want {
		t.Fatalf("copyWTF8(%q) = %v, want %v", s, got, want)
	}
	if want && string(dst[:len(s)]) != s {
		t.Fatalf("copyWTF8(%q) copied %q", s, dst[:len(s)])
	}
	if string(dst[len(s):]) != strings.Repeat("\xAA", 9) {
		t.Fatalf("copyWTF8(%q) wrote past the string: %q", s, dst[len(s):])
	}
}

// wtf8Cases are sequences around every rule of validWTF8: each lead byte
// with second bytes at the edges of its range, surrogates, overlongs,
// bytes that never occur, and valid text of every length.
func wtf8Cases() []string {
	var cs []string
	seconds := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF}
	for c := 0x80; c < 0x100; c++ {
		for _, c1 := range seconds {
			cs = append(cs, string([]byte{byte(c), c1}), string([]byte{byte(c), c1, 0x80}),
				string([]byte{byte(c), c1, 0xBF, 0x80}), string([]byte{byte(c), c1, 0x80, 0x41}),
				string([]byte{byte(c), c1, 0x80, 0x80, 0x80}))
		}
	}
	cs = append(cs, "héllo wörld 123 ünïcödé ✓ 日本 😀", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xa0\x80\xed\xb0\x80",
		"\U0010FFFF", "\u0800", "\u07ff", "\uffff", "\U00010000", "नमस्ते", "สวัสดี")
	return cs
}

// TestValidWTF8Differential runs validWTF8, copyWTF8 and the references on every
// case of wtf8Cases, cut short at every length and placed after 0-15
// ASCII bytes and before 0-7 more, so that each sequence starts, ends
// and is cut at every offset of a word and of the tail.
func TestValidWTF8Differential(t *testing.T) {
	n := 0
	for _, s := range wtf8Cases() {
		for cut := 0; cut <= len(s); cut++ {
			for pre := 0; pre < 16; pre++ {
				for post := 0; post < 8; post++ {
					c := strings.Repeat("a", pre) + s[:cut] + strings.Repeat("b", post)
					got, want := validWTF8(c), oldValidPyUTF8([]byte(c))
					if got != want || refValidWTF8(c) != want {
						t.Fatalf("validWTF8(%q) = %v, refValidWTF8 %v, want %v", c, got, refValidWTF8(c), want)
					}
					checkCopyWTF8(t, c, want)
					n++
				}
			}
		}
	}
	// Two sequences in a row, with any ASCII between: a lead's announced
	// continuation bytes carried across words.
	cs := []string{"é", "✓", "😀", "\xed\xa0\x80", "\xc3", "\xe2\x9c", "\xf0\x9f\x98", "\x80", "\xe0\xa0\x80", "\xe0\x9f\x80", "\xf4\x90\x80\x80"}
	for _, a := range cs {
		for _, b := range cs {
			for pre := 0; pre < 16; pre++ {
				for mid := 0; mid < 9; mid++ {
					c := strings.Repeat("a", pre) + a + strings.Repeat("m", mid) + b + "zz"
					want := oldValidPyUTF8([]byte(c))
					if got := validWTF8(c); got != want {
						t.Fatalf("validWTF8(%q) = %v, want %v", c, got, want)
					}
					checkCopyWTF8(t, c, want)
					n++
				}
			}
		}
	}
	t.Logf("%d strings", n)
}

// TestValidWTF8Random compares validWTF8 and copyWTF8 with oldValidPyUTF8 on random
// strings drawn from bytes that make valid and nearly valid text.
func TestValidWTF8Random(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 6))
	alphabet := []byte{'a', ' ', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5, 0xC0}
	pieces := []string{"é", "✓", "日本", "😀", "\xed\xa0\x80", "abcdefgh", "x"}
	var prev []byte
	for k := 0; k < 200000; k++ {
		var b []byte
		for n := r.IntN(40); n > 0; n-- {
			if r.IntN(3) == 0 {
				b = append(b, alphabet[r.IntN(len(alphabet))])
			} else {
				b = append(b, pieces[r.IntN(len(pieces))]...)
			}
		}
		want := oldValidPyUTF8(b)
		if got := validPyUTF8(b); got != want {
			t.Fatalf("validPyUTF8(%q) = %v, want %v", b, got, want)
		}
		checkCopyWTF8(t, string(b), want)
		checkPairWTF8(t, string(b), string(prev))
		prev = b
	}
}

// checkPairWTF8 checks validWTF8Pair on a and b (either order, and each
// with a long valid run, so that the loop over both runs for a while)
// against refValidWTF8 of each.
func checkPairWTF8(t *testing.T, a, b string) {
	t.Helper()
	long := strings.Repeat("héllo wörld ✓ 日本 😀 ", 4)
	for _, p := range [][2]string{{a, b}, {b, a}, {long + a, long + b}, {a + long, b}, {long, b + long + a}} {
		want := refValidWTF8(p[0]) && refValidWTF8(p[1])
		if got := validWTF8Pair(p[0], p[1]); got != want {
			t.Fatalf("validWTF8Pair(%q, %q) = %v, want %v", p[0], p[1], got, want)
		}
	}
}

// BenchmarkValidWTF8 times validWTF8 against the byte-at-a-time
// refValidWTF8, utf8.ValidString (which refuses surrogates) and a copy of
// the same bytes, on the nonascii_str_10k workload's str, on ASCII and on
// random valid text of 1-4 byte characters (docs/benchmarks.md).
func BenchmarkValidWTF8(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var rnd strings.Builder
	for rnd.Len() < 4096 {
		switch r.IntN(4) {
		case 0:
			rnd.WriteByte(byte('a' + r.IntN(26)))
		case 1:
			rnd.WriteRune(rune(0x80 + r.IntN(0x780)))
		case 2:
			rnd.WriteRune(rune(0x800 + r.IntN(0xD000)))
		default:
			rnd.WriteRune(rune(0x10000 + r.IntN(0x10000)))
		}
	}
	inputs := []struct{ name, s string }{
		{"workload", "héllo wörld 1234 ünïcödé ✓ 日本 😀"},
		{"ascii1k", strings.Repeat("hello world 1234", 64)},
		{"random4k", rnd.String()},
	}
	fns := []struct {
		name string
		fn   func(string) bool
	}{
		{"validWTF8", validWTF8},
		{"ref", refValidWTF8},
		{"utf8", utf8.ValidString},
		{"pair", func(s string) bool { // validWTF8Pair, halves split at a character
			h := len(s) / 2
			for h > 0 && s[h]&0xC0 == 0x80 {
				h--
			}
			return validWTF8Pair(s[:h], s[h:])
		}},
	}
	cp := make([]byte, 8192)
	dst := make([]byte, 8192)
	for _, in := range inputs {
		for _, f := range fns {
			b.Run(in.name+"/"+f.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.s)))
				for i := 0; i < b.N; i++ {
					if !f.fn(in.s) {
						b.Fatal("invalid")
					}
				}
			})
		}
		b.Run(in.name+"/copyWTF8", func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			for i := 0; i < b.N; i++ {
				if !copyWTF8(cp, in.s) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(in.name+"/copy", func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			for i := 0; i < b.N; i++ {
				copy(dst, in.s)
			}
		})
	}
}
