package pickle

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"unsafe"
)

// strsThenGets is a pickle of a list of n distinct strs (short, with their
// MEMOIZE, as CPython writes them; the first is empty) followed by the
// same strs again, fetched from the memo: the memo holds the made strings
// by chunk and offset, and n long enough spans several chunks.
func strsThenGets(n int) []byte {
	b := []byte{opProto, 4, opEmptyList, opMemoize, opMark}
	for i := 0; i < n; i++ {
		s := ""
		if i > 0 {
			s = fmt.Sprintf("str number %08d, %s", i, "padding to make the bytes long")
		}
		b = append(b, opShortBinunicode, byte(len(s)))
		b = append(b, s...)
		b = append(b, opMemoize)
	}
	for i := 0; i < n; i++ {
		// The list is memo 0, str i is memo i+1.
		b = append(b, opLongBinget)
		b = binary.LittleEndian.AppendUint32(b, uint32(i+1))
	}
	return append(b, opAppends, opStop)
}

func TestTypedDecoderSharesStrsAcrossChunks(t *testing.T) {
	const n = 3000 // about 180 KiB of strs: several string chunks
	data := strsThenGets(n)
	before := typedFallbacks.Load()
	var out []string
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if typedFallbacks.Load() != before {
		t.Fatal("the typed decoder handed the pickle to the generic path")
	}
	if len(out) != 2*n {
		t.Fatalf("got %d strs, want %d", len(out), 2*n)
	}
	if out[0] != "" || out[n] != "" {
		t.Errorf("the empty str decoded to %q and %q", out[0], out[n])
	}
	for i := 1; i < n; i++ {
		want := fmt.Sprintf("str number %08d, %s", i, "padding to make the bytes long")
		if out[i] != want || out[n+i] != want {
			t.Fatalf("str %d: %q and %q, want %q", i, out[i], out[n+i], want)
		}
		if unsafe.StringData(out[i]) != unsafe.StringData(out[n+i]) {
			t.Fatalf("str %d fetched from the memo is a copy, not the same string", i)
		}
	}
	checkTypedAgrees(t, data, func() any { return new([]string) })
	checkTypedAgrees(t, data, func() any { return new([][]byte) })
}

func TestTypedDecoderMapValueSharedInTheScratch(t *testing.T) {
	// A struct read into a map's scratch value is copied out when stored:
	// a later reference to it must not read the (reused) scratch.
	rec := NewDict()
	_ = rec.Set("id", int64(7))
	_ = rec.Set("name", "seven")
	_ = rec.Set("tags", []any{"a"})
	other := NewDict()
	_ = other.Set("id", int64(8))
	byName := NewDict()
	_ = byName.Set("a", rec)
	_ = byName.Set("b", other)
	_ = byName.Set("c", rec)
	for _, v := range []any{byName, []any{byName, rec}, Tuple{rec, byName}} {
		data := mustMarshal(t, v)
		checkTypedAgrees(t, data, func() any { return new(map[string]tRec) })
		checkTypedAgrees(t, data, func() any { return new([]map[string]tRec) })
		checkTypedAgrees(t, data, func() any { return new([]map[string]*tRec) })
	}
	var m map[string]tRec
	if err := Unmarshal(mustMarshal(t, byName), &m); err != nil {
		t.Fatal(err)
	}
	if m["a"].ID != 7 || m["c"].ID != 7 || m["c"].Name != "seven" || m["b"].ID != 8 {
		t.Errorf("got %+v", m)
	}
}

// benchLikeRecords is CPython's pickle of n records shaped like
// pickle_bench.py's (our encoder writes CPython's bytes for plain data),
// in a list, or by name in a dict.
func benchLikeRecords(t *testing.T, n int, byName bool) []byte {
	recs := make([]any, n)
	m := NewDict()
	for i := range recs {
		d := NewDict()
		_ = d.Set("id", int64(i))
		_ = d.Set("name", fmt.Sprintf("item%d", i))
		_ = d.Set("score", float64(i)*0.5)
		_ = d.Set("tags", []any{"a", "b"})
		_ = d.Set("ok", i%2 == 0)
		recs[i] = d
		_ = m.Set(fmt.Sprintf("item%d", i), d)
	}
	if byName {
		return mustMarshal(t, m)
	}
	return mustMarshal(t, recs)
}

type benchLikeRec struct {
	ID    int64    `pickle:"id"`
	Name  string   `pickle:"name"`
	Score float64  `pickle:"score"`
	Tags  []string `pickle:"tags"`
	OK    bool     `pickle:"ok"`
}

// allocated returns the allocations and bytes of one call of f, the
// fewest of a few runs.
func allocated(f func()) (allocs, bytes uint64) {
	var m0, m1 runtime.MemStats
	for i := 0; i < 5; i++ {
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		a, b := m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc
		if i == 0 || a < allocs {
			allocs = a
		}
		if i == 0 || b < bytes {
			bytes = b
		}
	}
	return allocs, bytes
}

func TestTypedDecoderAllocatesLittleMoreThanTheRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 10000 records a few times")
	}
	const n = 10000
	// What the result holds: the records (or the map's slots for them:
	// with room for 8/7 as many entries, rounded up to a power of two,
	// and a control byte each), the names' bytes (twice for the map: the
	// keys too) and two strings of tags each.
	var names uintptr
	for i := 0; i < n; i++ {
		names += uintptr(len(fmt.Sprintf("item%d", i)))
	}
	tags := uintptr(n * 2 * 16)
	recSize := unsafe.Sizeof(benchLikeRec{})
	slots := uintptr(1)
	for slots < n*8/7 {
		slots *= 2
	}
	for _, tc := range []struct {
		byName bool
		target func() any
		holds  uintptr
	}{
		{false, func() any { return new([]benchLikeRec) }, n*recSize + names + tags},
		{true, func() any { return new(map[string]benchLikeRec) }, slots*(16+recSize+1) + 2*names + tags},
	} {
		data := benchLikeRecords(t, n, tc.byName)
		allocs, bytes := allocated(func() {
			if err := Unmarshal(data, tc.target()); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%T: %d allocations, %d bytes (the result holds about %d)", tc.target(), allocs, bytes, tc.holds)
		// No allocation per record: the strs' bytes, the tags and the
		// records come in slabs, a long list or map is sized once.
		if allocs > 300 {
			t.Errorf("%T: %d allocations for %d records", tc.target(), allocs, n)
		}
		// (Before the sizing from 64 items it was 1.24 and 1.36 times.)
		if limit := uint64(tc.holds) * 12 / 10; bytes > limit {
			t.Errorf("%T: %d bytes allocated for a result of about %d", tc.target(), bytes, tc.holds)
		}
	}
}
