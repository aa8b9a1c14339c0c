package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// strCopyCases are str contents at the lengths where the codec changes how
// it checks and copies a str (up to 8 bytes, copyWTF8 below copyWTF8Max,
// validWTF8 and memmove from it), valid and not, the bad byte early, in the
// middle and last.
func strCopyCases() []string {
	var cs []string
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 24, 45, copyWTF8Max - 1, copyWTF8Max, copyWTF8Max + 1, 300} {
		base := strings.Repeat("é", n)[:n] // may end in half an é
		cs = append(cs, base, strings.Repeat("a", n))
		for _, bad := range []string{"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf0\x9f\x98"} {
			for _, at := range []int{0, n / 2, n - 1} {
				if at < 0 || at > n {
					continue
				}
				s := strings.Repeat("a", at) + bad + strings.Repeat("b", max(0, n-at-len(bad)))
				cs = append(cs, s)
			}
		}
	}
	return cs
}

// strPickle is a protocol-4 pickle of a list of strs, each written the way
// CPython does (SHORT_BINUNICODE or BINUNICODE, then MEMOIZE).
func strPickle(strs ...string) []byte {
	b := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
	for _, s := range strs {
		if len(s) < 256 {
			b = append(b, opShortBinunicode, byte(len(s)))
		} else {
			b = append(b, opBinunicode)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		}
		b = append(b, s...)
		b = append(b, opMemoize)
	}
	return append(b, opAppends, opStop)
}

type strCopyRec struct {
	Tags []string `pickle:"tags"`
}

// TestStrCheckedWhileCopied decodes and encodes every case of
// strCopyCases through each path that checks a str (generic and typed
// decode, a []string short and long and as a record's field, encode at protocol 4
// and 2): a str is refused exactly when oldValidPyUTF8 refuses it, and a
// valid one comes through byte for byte.
func TestStrCheckedWhileCopied(t *testing.T) {
	em4, _ := EncOptions{Protocol: 4}.EncMode()
	em2, _ := EncOptions{Protocol: 2}.EncMode()
	for _, s := range strCopyCases() {
		valid := oldValidPyUTF8([]byte(s))
		name := fmt.Sprintf("%q", s)
		// Two strs, so one follows another in the same slab.
		p := strPickle("x"+s, s)
		var g any
		err := Unmarshal(p, &g)
		if (err == nil) != valid {
			t.Fatalf("%s: generic decode error %v, valid %v", name, err, valid)
		}
		if valid && !reflect.DeepEqual(g, []any{"x" + s, s}) {
			t.Fatalf("%s: generic decode gave %q", name, g)
		}
		var ss []string
		err = Unmarshal(p, &ss)
		if (err == nil) != valid {
			t.Fatalf("%s: []string decode error %v, valid %v", name, err, valid)
		}
		if valid && !reflect.DeepEqual(ss, []string{"x" + s, s}) {
			t.Fatalf("%s: []string decode gave %q", name, ss)
		}
		// A list longer than strList reads (carveSize items): strRun.
		long := []string{"a1", "a2", "a3", "a4", "a5", "x" + s, s}
		ss = nil
		err = Unmarshal(strPickle(long...), &ss)
		if (err == nil) != valid {
			t.Fatalf("%s: long []string decode error %v, valid %v", name, err, valid)
		}
		if valid && !reflect.DeepEqual(ss, long) {
			t.Fatalf("%s: long []string decode gave %q", name, ss)
		}
		// A record whose tags are a short list (strList).
		rp := []byte{opProto, 4, opEmptyDict, opMemoize, opShortBinunicode, 4, 't', 'a', 'g', 's', opMemoize}
		rp = append(rp, strPickle("y"+s, s)[2:]...)
		rp = append(rp[:len(rp)-1], opSetitem, opStop)
		var r strCopyRec
		err = Unmarshal(rp, &r)
		if (err == nil) != valid {
			t.Fatalf("%s: record decode error %v, valid %v", name, err, valid)
		}
		if valid && !reflect.DeepEqual(r.Tags, []string{"y" + s, s}) {
			t.Fatalf("%s: record decode gave %q", name, r.Tags)
		}
		for _, em := range []EncMode{em4, em2} {
			out, err := em.AppendMarshal([]byte("keep"), []string{"z" + s, s})
			var uv *UnsupportedValueError
			if valid != (err == nil) || err != nil && !errors.As(err, &uv) {
				t.Fatalf("%s: encode error %v, valid %v", name, err, valid)
			}
			if !valid {
				continue
			}
			if string(out[:4]) != "keep" {
				t.Fatalf("%s: encode overwrote the buffer's start: %q", name, out)
			}
			var back []string
			if err := Unmarshal(out[4:], &back); err != nil || !reflect.DeepEqual(back, []string{"z" + s, s}) {
				t.Fatalf("%s: encode round trip gave %q, %v", name, back, err)
			}
		}
	}
}

// shortStrRunPickle is a protocol-4 pickle of a list of strs (each with
// its MEMOIZE), then every one of them fetched again (BINGET), in one list:
// the run is long enough for strRun and its shortStrs.
func shortStrRunPickle(strs []string) []byte {
	b := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
	for _, s := range strs {
		b = append(b, opShortBinunicode, byte(len(s)))
		b = append(b, s...)
		b = append(b, opMemoize)
	}
	for i := range strs {
		if i+1 < 256 {
			b = append(b, opBinget, byte(i+1))
		}
	}
	return append(b, opAppends, opStop)
}

// TestShortStrRunsCheckedTogether covers shortStrs, which checks a run of
// short strs as the one run of bytes they make when copied (issue 19 round
// 7): a sequence split across two strs (valid only when joined) must still
// be refused, as must a str that leaves a sequence open before one that
// starts with ASCII; a bad str anywhere in a run (first, middle, last)
// makes the decode fail as the generic path fails, and the strs before it
// are read one at a time again (shortStrsEach). Valid runs decode byte for
// byte, and the strs fetched again from the memo equal them.
func TestShortStrRunsCheckedTogether(t *testing.T) {
	good := "héllo wörld 12 ünïcödé ✓ 日本 😀"
	pad := func(s string) string { return s + strings.Repeat("a", max(0, 9-len(s))) }
	splits := [][2]string{
		{pad("a") + "\xe6", "\x97\xa5" + pad("b")},             // 日 split after its lead
		{pad("a") + "\xe6\x97", "\xa5" + pad("b")},             // ... after its second byte
		{pad("a") + "\xf0\x9f", "\x98\x80" + pad("b")},         // 😀 split
		{pad("a") + "\xed", "\xa0\x80" + pad("b")},             // a surrogate split
		{pad("a") + "\xc3", "\xa9" + pad("b")},                 // é split
		{pad("a") + "\xe6", pad("bbbbbbbbb")},                  // open, then ASCII
		{pad("a") + "\xf0\x9f\x98", "日本" + pad("b")},           // open, then a lead
		{pad("a") + "\x80", pad("b")},                          // a stray continuation byte
		{pad("a"), "\x80" + pad("b")},                          // a str that starts with one
		{pad("a") + "\xed\xa0\x80", "\xed\xbf\xbf" + pad("b")}, // surrogates: valid
	}
	var runs [][]string
	for _, sp := range splits {
		for _, at := range []int{0, 1, 7, 20} { // valid strs before the pair
			run := make([]string, 0, at+12)
			for i := 0; i < at; i++ {
				run = append(run, fmt.Sprintf("%s %d", good, i))
			}
			run = append(run, sp[0], sp[1])
			for i := 0; i < 10; i++ {
				run = append(run, fmt.Sprintf("%d %s", i, good))
			}
			runs = append(runs, run)
		}
	}
	for _, bad := range []string{"\xff", "\xc0\x80", "\xf0\x9f\x98"} {
		for _, at := range []int{0, 5, 29} {
			run := make([]string, 30)
			for i := range run {
				run[i] = fmt.Sprintf("%s %d", good, i)
			}
			run[at] = "aaaaaaaaa" + bad + "bbbbbb"
			runs = append(runs, run)
		}
	}
	all := make([]string, 200)
	for i := range all {
		all[i] = fmt.Sprintf("%s %d %s", good[:i%len(good)], i, strings.Repeat("é", i%40))
	}
	runs = append(runs, all)
	for _, run := range runs {
		valid := true
		for _, s := range run {
			valid = valid && oldValidPyUTF8([]byte(s))
		}
		p := shortStrRunPickle(run)
		var got []string
		err := Unmarshal(p, &got)
		if (err == nil) != valid {
			t.Fatalf("%q: []string decode error %v, valid %v", run, err, valid)
		}
		checkTypedAgrees(t, p, func() any { return new([]string) })
		if !valid {
			continue
		}
		want := append(append([]string(nil), run...), run[:min(len(run), 255)]...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: []string decode gave %q", run, got)
		}
	}
}
