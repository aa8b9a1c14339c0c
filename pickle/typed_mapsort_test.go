package pickle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
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
