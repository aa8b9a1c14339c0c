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
