package pickle

import "hash/maphash"

// strMemo is the encoder's memo of str values by content: an
// open-addressing table that hashes each string once for the lookup and
// the insert that follows a miss (a Go map would hash it twice).
type strMemo struct {
	slots []strSlot // len is 0 or a power of two; at most half full
	n     int
	hash  uint64 // hash of the string of the last find
}

type strSlot struct {
	h   uint64
	s   string
	idx int // memo index + 1; 0 marks an empty slot
}

var strMemoSeed = maphash.MakeSeed()

// find returns the memo index of s, or the slot where s belongs and
// false. The slot stays valid until the next call to find or reset.
func (m *strMemo) find(s string) (idx int, slot int, ok bool) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	h := maphash.String(strMemoSeed, s)
	m.hash = h
	mask := len(m.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		sl := &m.slots[i]
		if sl.idx == 0 {
			return 0, i, false
		}
		if sl.h == h && sl.s == s {
			return sl.idx - 1, i, true
		}
	}
}

// put stores s with memo index idx in the slot that the last find (of s,
// a miss) returned.
func (m *strMemo) put(slot int, s string, idx int) {
	m.slots[slot] = strSlot{h: m.hash, s: s, idx: idx + 1}
	m.n++
}

func (m *strMemo) grow() {
	old := m.slots
	n := max(64, 2*len(old))
	m.slots = make([]strSlot, n)
	mask := n - 1
	for _, sl := range old {
		if sl.idx == 0 {
			continue
		}
		i := int(sl.h) & mask
		for m.slots[i].idx != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = sl
	}
}

// reset empties the table, keeping its storage unless it is much larger
// than this encode needed (clearing it after each small encode would cost
// more than regrowing it) or huge.
func (m *strMemo) reset() {
	if len(m.slots) > 1<<12 && 8*m.n < len(m.slots) || len(m.slots) > 1<<18 {
		m.slots = nil
	} else if m.n > 0 {
		clear(m.slots)
	}
	m.n = 0
}
