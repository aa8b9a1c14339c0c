package pickle

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// marshalBothWays encodes v with the keys of large maps in runs (keyRun)
// and with every key in memoKey, and fails unless the bytes agree
// (at protocol 4, whose bytes it returns, and at protocols 0 and 2).
func marshalBothWays(t *testing.T, name string, v any) []byte {
	t.Helper()
	var out []byte
	for _, proto := range []int{0, 2, 4} {
		em, err := EncOptions{Protocol: proto}.EncMode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := em.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		noKeyRuns = true
		want, err := em.Marshal(v)
		noKeyRuns = false
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := firstDiff(got, want)
			t.Fatalf("%s, protocol %d: runs and memoKey disagree at byte %d:\n got …%q\nwant …%q", name, proto, i,
				got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
		out = got
	}
	return out
}

type runRec struct {
	ID   int            `pickle:"id"`
	Name string         `pickle:"k007"`
	Sub  map[string]int `pickle:"sub"`
}

// TestKeyRunSameBytes: the keys of large maps (past bigMapKeys) kept in a
// run write the same bytes as through memoKey, wherever the same key text
// recurs: before the map, in its values (a field name, a small map's key,
// a large map inside it that takes the run), after it, in a second large
// map, and by identity (a key that is also a value).
func TestKeyRunSameBytes(t *testing.T) {
	const n = bigMapKeys + 40
	key := func(i int) string { return strings.Clone(fmt.Sprintf("k%03d", i)) }
	big := func(lo int) map[string]int {
		m := map[string]int{}
		for i := lo; i < lo+n; i++ {
			m[key(i)] = i
		}
		return m
	}
	shared := key(50)
	inner := big(30) // keys k030.. overlap the outer map's
	outer := map[string]map[string]int{}
	for i := 0; i < n; i++ {
		m := map[string]int{key(i + 1): i, key(i + 90): i} // the next key, a later one
		if i == 20 {
			m = inner // a large map inside takes the run
		}
		outer[key(i)] = m
	}
	recs := map[string]runRec{}
	for i := 0; i < n; i++ {
		recs[key(i)] = runRec{ID: i, Name: key(i), Sub: map[string]int{key(i + 3): 1}}
	}
	anyMap := map[string]any{}
	for i := 0; i < n; i++ {
		anyMap[key(2*i)] = map[string]any{key(i): i, "k007": shared}
	}
	anyMap[shared] = shared
	cases := []struct {
		name string
		v    any
	}{
		{"nested large maps", []any{map[string]int{key(5): 1}, outer, big(60), map[string]int{key(3): 2, key(200): 3}}},
		{"records", []any{recs, big(0)}},
		{"map[string]any", []any{anyMap, recs, shared, big(10)}},
		{"empty values", func() any {
			m := map[string]struct{}{}
			for i := 0; i < n; i++ {
				m[key(i)] = struct{}{}
			}
			return []any{m, big(0)}
		}()},
		{"two runs then small", []any{big(0), big(n / 2), map[string]int{key(1): 1, key(n): 2}}},
		{"identity", func() any {
			m := big(0)
			ks := []any{}
			for k := range m {
				ks = append(ks, k) // the same strings as values, before and after
			}
			return []any{ks[:10], m, ks}
		}()},
	}
	for _, c := range cases {
		b := marshalBothWays(t, c.name, c.v)
		// Every key text is written once (a SHORT_BINUNICODE), fetched after.
		if c.name == "nested large maps" {
			for i := 0; i < n+90; i++ {
				if cnt := bytes.Count(b, []byte(sstr(key(i)))); cnt != 1 {
					t.Errorf("%s: %q written %d times", c.name, key(i), cnt)
				}
			}
		}
	}
}

// TestKeyRunRandom compares runs with memoKey on random nests of maps whose keys
// come from a small set of texts.
func TestKeyRunRandom(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	texts := make([]string, 400)
	for i := range texts {
		texts[i] = fmt.Sprintf("t%d", i)
	}
	var gen func(depth int) any
	gen = func(depth int) any {
		size := r.Intn(3 * bigMapKeys)
		if r.Intn(3) == 0 {
			size = r.Intn(8)
		}
		off := r.Intn(len(texts))
		switch k := r.Intn(4); {
		case depth > 2 || k == 0:
			m := map[string]int{}
			for i := 0; i < size; i++ {
				m[strings.Clone(texts[(off+i*7)%len(texts)])] = i
			}
			return m
		case k == 1:
			m := map[string]runRec{}
			for i := 0; i < size; i++ {
				t := texts[(off+i*3)%len(texts)]
				m[strings.Clone(t)] = runRec{ID: i, Name: t, Sub: map[string]int{strings.Clone(texts[r.Intn(len(texts))]): i}}
			}
			return m
		default:
			m := map[string]any{}
			for i := 0; i < size; i++ {
				var v any = i
				if r.Intn(8<<(2*depth)) == 0 { // one value in 8, 32, 128 at depths 0, 1, 2
					v = gen(depth + 1)
				}
				m[strings.Clone(texts[(off+i*5)%len(texts)])] = v
			}
			return m
		}
	}
	for i := 0; i < 200; i++ {
		v := []any{}
		for j := r.Intn(4) + 1; j > 0; j-- {
			v = append(v, gen(0))
		}
		marshalBothWays(t, fmt.Sprint("case ", i), v)
	}
}

// TestStructKeyFetchPast255: a struct's field names fetched from the memo
// at indices past 255 are LONG_BINGETs (structFields' inline BINGET takes
// only smaller ones), and decode back to the same fields.
func TestStructKeyFetchPast255(t *testing.T) {
	type rec struct {
		A int64  `pickle:"a"`
		B string `pickle:"b"`
	}
	type doc struct {
		Pad  []string `pickle:"pad"`
		Recs []rec    `pickle:"recs"`
	}
	v := doc{Recs: []rec{{1, "x1"}, {2, "x2"}, {3, "x3"}}}
	for i := 0; i < 300; i++ {
		v.Pad = append(v.Pad, fmt.Sprint("p", i))
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// "a" is memoized after the 300 pads, so the later records fetch it
	// with LONG_BINGET.
	if bytes.Count(b, []byte(sstr("a"))) != 1 {
		t.Fatalf("key \"a\" not written once: %q", b[len(b)-80:])
	}
	var got doc
	if err := Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(v) {
		t.Fatalf("round trip: got %v", got.Recs)
	}
}
