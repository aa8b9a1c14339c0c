package pickle

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSortMapItems checks mapSorter.sort against a plain sort of the keys,
// at sizes on both sides of its switch to radix sorting, with keys that
// share long prefixes, differ only past 8 bytes, are prefixes of each
// other, are empty or hold bytes above 0x7f.
func TestSortMapItems(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i int) string{
		"numbered": func(i int) string { return fmt.Sprintf("item%d", i) },
		"random": func(int) string {
			b := make([]byte, rng.IntN(12))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			return string(b)
		},
		"longprefix": func(i int) string { return "commonprefix/" + fmt.Sprint(rng.IntN(1<<30)) + fmt.Sprint(i) },
		"nested":     func(i int) string { return strings.Repeat("a", i%20) + fmt.Sprint(i/20) },
		"binaryish":  func(i int) string { return string([]byte{byte(i >> 8), 0, byte(i), 0xff}) },
	}
	var so mapSorter
	for name, gen := range gens {
		for _, n := range []int{1, 2, 255, 256, 257, 1000, 4095, 4096, 20000} {
			seen := map[string]bool{}
			var keys []string
			for i := 0; len(keys) < n; i++ {
				if k := gen(i); !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			items := make([]mapItem, n)
			for i, k := range keys {
				items[i] = mapItem{keyPrefix(k), i}
			}
			items = so.sort(items, keys)
			got := make([]string, n)
			for i, it := range items {
				got[i] = keys[it.i]
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s, %d keys: sorted wrong", name, n)
			}
		}
	}
}

// TestStrMapEncode encodes nested map[string]any values (maps inside maps,
// at sizes on both sides of the radix sort's threshold, reusing the
// scratch of each nesting level) and checks that every dict decodes with
// its keys in sorted order and the values it had; an encode that fails
// inside a nested map leaves the pooled scratch usable.
func TestStrMapEncode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var gen func(depth int) map[string]any
	gen = func(depth int) map[string]any {
		n := rng.IntN(6)
		if depth == 0 {
			n = 3000
		}
		m := make(map[string]any, n)
		for len(m) < n {
			k := fmt.Sprintf("k%d", rng.IntN(1<<20))
			if depth < 2 && rng.IntN(3) == 0 {
				m[k] = gen(depth + 1)
			} else {
				m[k] = int64(rng.IntN(1000))
			}
		}
		return m
	}
	var check func(path string, got any, want map[string]any)
	check = func(path string, got any, want map[string]any) {
		d, ok := got.(*Dict)
		if !ok {
			t.Fatalf("%s: decoded %T, want *Dict", path, got)
		}
		keys := make([]string, 0, d.Len())
		for k, v := range d.All() {
			ks := k.(string)
			keys = append(keys, ks)
			switch w := want[ks].(type) {
			case map[string]any:
				check(path+"/"+ks, v, w)
			default:
				if v != w {
					t.Fatalf("%s/%s: %v, want %v", path, ks, v, w)
				}
			}
		}
		if len(keys) != len(want) || !slices.IsSorted(keys) {
			t.Fatalf("%s: %d keys (want %d), sorted %v", path, len(keys), len(want), slices.IsSorted(keys))
		}
	}
	for i := 0; i < 3; i++ {
		m := gen(0)
		var got any
		if err := Unmarshal(mustMarshal(t, m), &got); err != nil {
			t.Fatal(err)
		}
		check("", got, m)
		// A value that cannot be encoded, two maps deep.
		bad := map[string]any{"a": map[string]any{"b": map[string]any{"c": make(chan int)}}, "z": m}
		if _, err := Marshal(bad); err == nil {
			t.Fatal("a map holding a chan encoded")
		}
	}
}

// TestMapEncodeKeepsNoValues checks that the scratch a map is written
// from, kept in the encoder state for the next encode, does not keep the
// map or its values alive: map[string]any, and a typed map (its value
// copies, iterator and key). The test holds the state itself (the pool
// may drop it at any collection, which would hide a leak).
func TestMapEncodeKeepsNoValues(t *testing.T) {
	type big struct{ B []byte }
	em, err := EncOptions{}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		value func(v *big) any
		kept  func(e *encState) bool
	}{
		{"map[string]any", func(v *big) any { return map[string]any{"v": v, "w": map[string]any{"v": v}} },
			func(e *encState) bool { return len(e.strMaps) == 2 && cap(e.strMaps[0].vals) >= 2 }},
		{"map[string]*big", func(v *big) any { return map[string]*big{"v": v, "w": v} },
			func(e *encState) bool { return len(e.maps) == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := new(encState)
			freed := make(chan struct{})
			func() {
				v := &big{B: make([]byte, 1<<10)}
				runtime.SetFinalizer(v, func(*big) { close(freed) })
				e.reset(em.(*encMode), nil)
				if err := e.save(tc.value(v)); err != nil {
					t.Fatal(err)
				}
				e.release()
			}()
			if !tc.kept(e) {
				t.Fatal("the encode kept no scratch")
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				runtime.GC()
				select {
				case <-freed:
					runtime.KeepAlive(e)
					return
				case <-time.After(10 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatal("a value encoded from a map is still reachable through the encoder state")
				}
			}
		})
	}
}

// TestTypedMapEncodeAllocs encodes a thousand small string-keyed maps:
// the iterator and key that reading each map takes are kept with its
// scratch, so the encode allocates nothing per map (it allocated two).
func TestTypedMapEncodeAllocs(t *testing.T) {
	type S struct {
		A map[string]int64 `pickle:"a"`
	}
	v := make([]S, 1000)
	for i := range v {
		v[i].A = map[string]int64{"x": int64(i), "y": 2, "z": 3}
	}
	em, err := EncOptions{}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	allocs := testing.AllocsPerRun(20, func() {
		if buf, err = em.AppendMarshal(buf[:0], v); err != nil {
			t.Fatal(err)
		}
	})
	// A few for the pooled state when the pool drops it (it may, at any
	// collection and at random under the race detector), not 1000.
	if allocs > 100 {
		t.Errorf("encoding 1000 maps: %.0f allocations", allocs)
	}
	t.Logf("%.1f allocations", allocs)
}
