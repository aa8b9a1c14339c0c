package pickle

import (
	"encoding/binary"
	"math"
	"testing"
)

// The key cache (keyCache, keyRun) names a record's fields by the two
// bytes of each key's BINGET, as the records before it were read. These
// tests change what those bytes mean, or how the values are written, after
// the cache is filled, and check the typed decoder still agrees with the
// generic path without handing the pickle over.

// keyRec is a record of the hand-written pickles below.
type keyRec struct {
	ID    int64   `pickle:"id"`
	Score float64 `pickle:"score"`
}

// recBytes is a record as CPython writes one after the first: EMPTY_DICT,
// MEMOIZE, MARK, its pairs, SETITEMS.
func recBytes(pairs ...[]byte) []byte {
	b := []byte{opEmptyDict, opMemoize, opMark}
	for _, p := range pairs {
		b = append(b, p...)
	}
	return append(b, opSetitems)
}

func binget(i byte) []byte { return []byte{opBinget, i} }

func binint1(v byte) []byte { return []byte{opBinint1, v} }

func binfloat(f float64) []byte {
	return binary.BigEndian.AppendUint64([]byte{opBinfloat}, math.Float64bits(f))
}

func shortStr(s string, memo ...byte) []byte {
	b := append([]byte{opShortBinunicode, byte(len(s))}, s...)
	return append(b, memo...)
}

func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// keyRecs is a list of records: the first writes its keys (memo 2 is "id",
// 3 is "score"), the next three fetch them, then come the records of
// tail (the memo holds 4 records then: the next MEMOIZE is 7).
func keyRecs(tail ...[]byte) []byte {
	b := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
	b = append(b, recBytes(shortStr("id", opMemoize), binint1(1), shortStr("score", opMemoize), binfloat(1.5))...)
	for i := byte(2); i <= 4; i++ {
		b = append(b, recBytes(binget(2), binint1(i), binget(3), binfloat(float64(i)+0.5))...)
	}
	for _, t := range tail {
		b = append(b, t...)
	}
	return append(b, opAppends, opStop)
}

func decodeKeyRecs(t *testing.T, data []byte) []keyRec {
	t.Helper()
	before := typedFallbacks.Load()
	var got []keyRec
	if err := Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if typedFallbacks.Load() != before {
		t.Fatalf("%q went through the generic path", data)
	}
	checkTypedAgrees(t, data, func() any { return new([]keyRec) })
	checkTypedAgrees(t, data, func() any { return new([]*keyRec) })
	return got
}

// A BINPUT that binds a key's memo index to another str: the next record's
// BINGET of it names the other field.
func TestTypedKeyCacheMemoRebound(t *testing.T) {
	data := keyRecs(
		// "score" again, put at 2 (where "id" was).
		recBytes(shortStr("score", opBinput, 2), binfloat(5.5)),
		// BINGET 2 is "score" now: an int into the float field.
		recBytes(binget(2), binint1(6)),
		recBytes(binget(2), binint1(7), binget(3), binfloat(7.5)),
	)
	got := decodeKeyRecs(t, data)
	want := []keyRec{{1, 1.5}, {2, 2.5}, {3, 3.5}, {4, 4.5}, {0, 5.5}, {0, 6}, {0, 7.5}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The cache does not outlive a decode: the next pickle may bind the same
// memo indexes to other keys (and the decoder's state is reused).
func TestTypedKeyCacheNotKeptAcrossDecodes(t *testing.T) {
	first := keyRecs()
	// The same layout with the keys the other way round: memo 2 is
	// "score", 3 is "id".
	second := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
	second = append(second, recBytes(shortStr("score", opMemoize), binfloat(1.5), shortStr("id", opMemoize), binint1(1))...)
	for i := byte(2); i <= 4; i++ {
		second = append(second, recBytes(binget(2), binint1(i), binget(3), binint1(10+i))...)
	}
	second = append(second, opAppends, opStop)
	want := []keyRec{{1, 1.5}, {12, 2}, {13, 3}, {14, 4}}
	for round := 0; round < 3; round++ {
		decodeKeyRecs(t, first)
		got := decodeKeyRecs(t, second)
		if len(got) != len(want) {
			t.Fatalf("round %d: got %+v, want %+v", round, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d, record %d: got %+v, want %+v", round, i, got[i], want[i])
			}
		}
	}
}

// Values in other forms than the records before wrote them, once the
// cache holds the keys: each goes to structPairs' general path (or the
// generic one), as before the cache.
func TestTypedKeyCacheValueForms(t *testing.T) {
	// Ints the typed decoder reads itself (structPairs' general path).
	for _, v := range [][]byte{
		{opLong1, 2, 0x10, 0x27},           // 10000 as LONG1
		{opBinint, 0xff, 0xff, 0xff, 0xff}, // -1
		{opBinint2, 0x10, 0x27},
	} {
		got := decodeKeyRecs(t, keyRecs(
			recBytes(binget(2), v, binget(3), binfloat(9.5)),
			recBytes(binget(2), binint1(10), binget(3), binfloat(10.5)),
		))
		if len(got) != 6 || got[5] != (keyRec{10, 10.5}) {
			t.Fatalf("%q: %+v", v, got)
		}
	}
	values := [][]byte{
		binfloat(2.5), // a float into the int field: the generic path refuses it
		{opNone},
		{opNewtrue},
		shortStr("x", opMemoize),
		{opEmptyList, opMemoize},
		binget(2), // the key "id" as the value
	}
	for _, v := range values {
		data := keyRecs(
			recBytes(binget(2), v, binget(3), binfloat(9.5)),
			recBytes(binget(2), binint1(10), binget(3), binfloat(10.5)),
		)
		checkTypedAgrees(t, data, func() any { return new([]keyRec) })
		checkTypedAgrees(t, data, func() any { return new([]tRec) })
		checkTypedAgrees(t, data, func() any { return new(map[string]keyRec) })
	}
}

// Records of tRec as CPython writes them, with values of each field in
// other forms after the cache is filled.
func TestTypedKeyCacheRecordsAgree(t *testing.T) {
	alt := map[string][]any{
		"id":    {int64(1) << 40, int64(-5), "s", nil, 1.5},
		"name":  {"héllo wörld ✓", "", "a long name " + string(make([]byte, 300)), int64(3), nil},
		"score": {int64(2), true, nil, "s"},
		"tags":  {[]any{}, []any{"x", "y", "z", "w", "v"}, []any{int64(1)}, nil, "s"},
		"ok":    {int64(1), nil, "s"},
	}
	rec := func(i int64, field string, v any) *Dict {
		d := NewDict()
		vals := map[string]any{"id": i, "name": "item", "score": 0.5, "tags": []any{"a", "b"}, "ok": true}
		if field != "" {
			vals[field] = v
		}
		for _, k := range []string{"id", "name", "score", "tags", "ok"} {
			_ = d.Set(k, vals[k])
		}
		return d
	}
	for field, vs := range alt {
		for _, v := range vs {
			list := []any{rec(1, "", nil), rec(2, "", nil), rec(3, "", nil), rec(4, field, v), rec(5, "", nil)}
			data := mustMarshal(t, list)
			checkTypedAgrees(t, data, func() any { return new([]tRec) })
			checkTypedAgrees(t, data, func() any { return new([]*tRec) })
			byName := NewDict()
			for i, r := range list {
				_ = byName.Set(string(rune('a'+i)), r)
			}
			checkTypedAgrees(t, mustMarshal(t, byName), func() any { return new(map[string]tRec) })
		}
	}
}

// The limits on objects, items and memo entries hold as before the cache:
// records whose keys are BINGETs (read by keyRun) meet them where the same
// records with LONG_BINGET keys (which the cache does not hold: read by
// structPairs' general path) do.
func TestTypedKeyCacheLimits(t *testing.T) {
	recs := func(get func(byte) []byte) []byte {
		b := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
		// Memo: 0 the list, 1 the record, 2 "id", 3 "name", 4 "nm0",
		// 5 "tags", 6 its list, 7 "a", 8 "b", 9 "ok", 10 "score".
		b = append(b, recBytes(shortStr("id", opMemoize), binint1(0), shortStr("name", opMemoize), shortStr("nm0", opMemoize),
			shortStr("tags", opMemoize), []byte{opEmptyList, opMemoize, opMark}, shortStr("a", opMemoize), shortStr("b", opMemoize),
			[]byte{opAppends}, shortStr("ok", opMemoize), []byte{opNewtrue}, shortStr("score", opMemoize), binfloat(0.5))...)
		// Three records: the second fills the cache, the third reads by
		// it; five pairs each, more than the list's items.
		for i := byte(1); i < 3; i++ {
			b = append(b, recBytes(get(2), binint1(i), get(3), shortStr("nm"+string(rune('0'+i)), opMemoize),
				get(5), []byte{opEmptyList, opMemoize, opMark}, binget(7), binget(8), []byte{opAppends}, get(9), []byte{opNewfalse},
				get(10), binfloat(1.5))...)
		}
		return append(b, opAppends, opStop)
	}
	cached := recs(binget)
	uncached := recs(func(i byte) []byte { return []byte{opLongBinget, i, 0, 0, 0} })
	var want []tRec
	if err := genericOnlyMode.Unmarshal(cached, &want); err != nil || len(want) != 3 || want[2].Name != "nm2" || want[2].Score != 1.5 {
		t.Fatalf("%v %+v", err, want)
	}
	for n := 1; n < 80; n++ {
		for _, o := range []DecOptions{{MaxObjects: n}, {MaxContainerLen: n}, {MaxMemo: n}} {
			m, err := o.DecMode()
			if err != nil {
				t.Fatal(err)
			}
			var a, b []tRec
			before := typedFallbacks.Load()
			errA := m.Unmarshal(cached, &a)
			fellA := typedFallbacks.Load() != before
			before = typedFallbacks.Load()
			errB := m.Unmarshal(uncached, &b)
			fellB := typedFallbacks.Load() != before
			if (errA == nil) != (errB == nil) || fellA != fellB || errA == nil && !typedSame(a, b) {
				t.Fatalf("%+v: BINGET keys: %v (generic path: %v) %+v; LONG_BINGET keys: %v (generic path: %v) %+v",
					o, errA, fellA, a, errB, fellB, b)
			}
			if errA == nil && !typedSame(a, want) {
				t.Fatalf("%+v: %+v, want %+v", o, a, want)
			}
		}
	}
}
