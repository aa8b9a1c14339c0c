package pickle

import (
	"bytes"
	"testing"
)

// floods are pickles that make one value (or one memo entry, mark...) per
// one or two bytes of input: the most Go memory a pickle can ask for per
// byte, which the documented bound (costPerByte) must cover.
func floods() map[string][]byte {
	const n = 1 << 16
	rep := func(unit string) []byte { return bytes.Repeat([]byte(unit), n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	p := []byte{opProto, 4}
	return map[string][]byte{
		"empty dicts":       cat(p, []byte{opEmptyList, opMark}, rep("}"), []byte{opAppends, opStop}),
		"empty lists":       cat(p, []byte{opEmptyList, opMark}, rep("]"), []byte{opAppends, opStop}),
		"empty sets":        cat(p, []byte{opEmptyList, opMark}, rep("\x8f"), []byte{opAppends, opStop}),
		"Nones":             cat(p, []byte{opEmptyList, opMark}, rep("N"), []byte{opAppends, opStop}),
		"DUPs":              cat(p, []byte{opEmptyList, opMark, opNone}, rep("2"), []byte{opAppends, opStop}),
		"memoized Nones":    cat(p, []byte{opEmptyList, opMark}, rep("N\x94"), []byte{opAppends, opStop}),
		"MEMOIZEs":          cat(p, []byte{opNone}, rep("\x94"), []byte{opStop}),
		"MARKs":             cat(p, rep("("), []byte{opNone, opStop}),
		"empty bytes":       cat(p, []byte{opEmptyList, opMark}, rep("C\x00"), []byte{opAppends, opStop}),
		"one-char strs":     cat(p, []byte{opEmptyList, opMark}, rep("\x8c\x01a"), []byte{opAppends, opStop}),
		"ints":              cat(p, []byte{opEmptyList, opMark}, rep("M\x00\x10"), []byte{opAppends, opStop}),
		"big ints":          cat(p, []byte{opEmptyList, opMark}, rep("\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte{opAppends, opStop}),
		"tuples of a list":  cat(p, []byte{opEmptyList, opMemoize, opMark}, rep("h\x00\x85"), []byte{opAppends, opStop}),
		"dicts of one item": cat(p, []byte{opEmptyList, opMark}, rep("}NNs"), []byte{opAppends, opStop}),
		"lists of a list":   cat(p, []byte{opEmptyList, opMemoize, opMark}, rep("]h\x00a"), []byte{opAppends, opStop}),
		"objects":           cat(p, []byte{opShortBinunicode, 1, 'm', opShortBinunicode, 1, 'n', opStackGlobal, opMemoize, opEmptyList, opMark}, rep("h\x00)\x81"), []byte{opAppends, opStop}),
		"globals":           cat(p, []byte{opShortBinunicode, 1, 'm', opMemoize, opEmptyList, opMark}, rep("h\x00h\x00\x93"), []byte{opAppends, opStop}),
		"tuple keys":        cat(p, []byte{opEmptyDict, opMark}, rep("NN\x86N"), []byte{opSetitems, opStop}),
	}
}

// TestDecodeCostPerByte checks the documented cost bound on the floods
// and reports each one's cost per input byte.
func TestDecodeCostPerByte(t *testing.T) {
	for name, data := range floods() {
		var err error
		got := allocatedBy(func() {
			var v any
			err = Unmarshal(data, &v)
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		perByte := float64(got) / float64(len(data))
		t.Logf("%-18s %7d bytes: %6.1f B allocated per input byte", name, len(data), perByte)
		if bound := uint64(costPerByte*len(data) + costBase); got > bound {
			t.Errorf("%s: %d bytes allocated for %d bytes of input (bound %d)", name, got, len(data), bound)
		}
	}
}
