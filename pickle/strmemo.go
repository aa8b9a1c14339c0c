package pickle

import "hash/maphash"

// strMemo is the encoder's memo of str values by content: an
// open-addressing table that hashes each string once for the lookup and
// the insert that follows a miss (a Go map would hash it twice).
//
// A slot is one pointer-free word: the generation of the encode that wrote
// it, 16 bits of the string's hash, and the position of its entry in ents
// (entries are appended in memo order and read only to confirm a match).
// A table for 10k strings is then 256 KiB, small enough to stay in cache
// where slots holding the strings were four times that, and a new encode
// empties the table by moving to the next generation instead of clearing
// it.
type strMemo struct {
	slots []uint64 // len is 0 or a power of two; at most half full
	ents  []strEnt
	gen   uint64 // current generation << genShift; slots of another one are empty
	hash  uint64 // hash of the string of the last find
}

type strEnt struct {
	s   string
	idx int // memo index
}

const (
	genShift = 48
	tagShift = 32
	tagMask  = 1<<genShift - 1<<tagShift
	entMask  = 1<<tagShift - 1
)

var strMemoSeed = maphash.MakeSeed()

// find returns the memo index of s, or the slot where s belongs and
// false. The slot stays valid until the next call to find or reset.
func (m *strMemo) find(s string) (idx int, slot int, ok bool) {
	if 2*(len(m.ents)+1) > len(m.slots) {
		m.grow()
	}
	h := maphash.String(strMemoSeed, s)
	m.hash = h
	want := m.gen | h>>genShift<<tagShift
	mask := len(m.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		sl := m.slots[i]
		if sl&^(tagMask|entMask) != m.gen {
			return 0, i, false
		}
		if sl&^entMask == want {
			if en := &m.ents[sl&entMask-1]; en.s == s {
				return en.idx, i, true
			}
		}
	}
}

// put stores s with memo index idx in the slot that the last find (of s,
// a miss) returned.
func (m *strMemo) put(slot int, s string, idx int) {
	if uint64(len(m.ents)) >= entMask-1 {
		return // no room in a slot: s is written again if it recurs
	}
	m.ents = append(m.ents, strEnt{s: s, idx: idx})
	m.slots[slot] = m.gen | m.hash>>genShift<<tagShift | uint64(len(m.ents))
}

func (m *strMemo) grow() {
	if m.gen == 0 {
		m.gen = 1 << genShift
	}
	n := max(64, 2*len(m.slots))
	m.slots = make([]uint64, n)
	mask := n - 1
	for k := range m.ents {
		// Hash again: keeping each hash would add a third to the entries
		// every encode writes, for the few encodes that grow the table.
		h := maphash.String(strMemoSeed, m.ents[k].s)
		i := int(h) & mask
		for m.slots[i]&^(tagMask|entMask) == m.gen {
			i = (i + 1) & mask
		}
		m.slots[i] = m.gen | h>>genShift<<tagShift | uint64(k+1)
	}
}

// reset empties the table for the next encode, keeping its storage
// unless it is huge.
func (m *strMemo) reset() {
	if len(m.slots) > 1<<20 || cap(m.ents) > 1<<19 {
		m.slots, m.ents, m.gen = nil, nil, 0
		return
	}
	clear(m.ents) // keep no user strings alive
	m.ents = m.ents[:0]
	m.gen += 1 << genShift
	if m.gen == 0 { // the generation wrapped: stale slots could look current
		clear(m.slots)
		m.gen = 1 << genShift
	}
}
