package pickle

import (
	"strconv"
	"testing"
	"unsafe"
)

// The encoder's memo tables empty themselves by moving to the next
// generation; these tests cross the 16-bit generation counter's wrap and
// check that no entry of an earlier encode is ever found again.

func TestStrMemoForgetsEarlierEncodes(t *testing.T) {
	var m strMemo
	// The memo keys strings by identity: the same strings every round,
	// so an entry of an earlier encode would be found if it survived.
	strs := make([]string, 300)
	old := make([]string, 300)
	for i := range strs {
		strs[i] = "s" + strconv.Itoa(i)
		old[i] = "old" + strconv.Itoa(i)
	}
	for round := 0; round < 1<<16+10; round++ {
		// Fewer strings on most rounds, so stale slots of larger rounds
		// stay behind in the table.
		n := 3
		if round%1000 == 0 {
			n = 300
		}
		if round == 0 {
			// Strings of the first encode only: the generation that
			// follows the wrap has the first one's number.
			for i, s := range old {
				_, slot, _ := m.find(s)
				m.put(slot, s, i)
			}
		} else if round < 10 || round > 1<<16-10 {
			for _, s := range old {
				if _, _, ok := m.find(s); ok {
					t.Fatalf("round %d: a str of the first encode found", round)
				}
			}
		}
		for i, s := range strs[:n] {
			if _, slot, ok := m.find(s); ok {
				t.Fatalf("round %d: %q found before it was put", round, s)
			} else {
				m.put(slot, s, 2*i)
			}
		}
		for i, s := range strs[:n] {
			if idx, _, ok := m.find(s); !ok || idx != 2*i {
				t.Fatalf("round %d: %q: %d, %v; want %d", round, s, idx, ok, 2*i)
			}
		}
		m.reset()
	}
}

func TestIDMemoForgetsEarlierEncodes(t *testing.T) {
	var m idMemo
	objs := make([][4]int64, 300)
	old := make([][4]int64, 300)
	typ := typeWord((*[4]int64)(nil))
	for round := 0; round < 1<<16+10; round++ {
		n := 3
		if round%1000 == 0 {
			n = 300
		}
		for i := range old {
			p := unsafe.Pointer(&old[i])
			if round == 0 {
				m.putWords(typ, p, 0, 'p', i) // in the first encode only
			} else if _, ok := m.findWords(typ, p, 0, 'p'); ok && (round < 10 || round > 1<<16-10) {
				t.Fatalf("round %d: an object of the first encode found", round)
			}
		}
		for i := 0; i < n; i++ {
			p := unsafe.Pointer(&objs[i])
			if _, ok := m.findWords(typ, p, 0, 'p'); ok {
				t.Fatalf("round %d: object %d found before it was put", round, i)
			}
			if i%2 == 0 {
				m.putWords(typ, p, 0, 'p', 2*i)
			} else if _, en := m.lookupOrAdd(typ, p, 0, 'p', 2*i); en != nil {
				t.Fatalf("round %d: object %d found by lookupOrAdd before it was put", round, i)
			}
		}
		for i := 0; i < n; i++ {
			p := unsafe.Pointer(&objs[i])
			if idx, ok := m.findWords(typ, p, 0, 'p'); !ok || idx != 2*i {
				t.Fatalf("round %d: object %d: %d, %v; want %d", round, i, idx, ok, 2*i)
			}
			// The same address as another kind, length or type is
			// another key.
			if _, ok := m.findWords(typ, p, 1, 'p'); ok {
				t.Fatalf("round %d: object %d found with another length", round, i)
			}
			if _, ok := m.findWords(typ, p, 0, 's'); ok {
				t.Fatalf("round %d: object %d found as another kind", round, i)
			}
			if _, ok := m.findWords(stringWord, p, 0, 'p'); ok {
				t.Fatalf("round %d: object %d found as another type", round, i)
			}
		}
		// putWords replaces the index of a key already there.
		p := unsafe.Pointer(&objs[0])
		m.putWords(typ, p, 0, 'p', 7)
		if idx, en := m.lookupOrAdd(typ, p, 0, 'p', 9); en == nil || idx != 7 {
			t.Fatalf("round %d: replaced index %d, want 7", round, idx)
		}
		m.reset()
	}
}
