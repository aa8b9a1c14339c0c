package pickle

import (
	"math"
	"unsafe"
)

// idMemo is the encoder's memo of objects by identity (Python's id()): an
// open-addressing table keyed by the words of idKey.p (a pointer, so its
// type and address) with the length and kind. A Go map keyed by idKey
// hashes and compares through the interface, which cost a third of
// encoding a list of records.
//
// Slots are one pointer-free word, as in strMemo: generation, 16 bits of
// the key's hash and the position of its entry in ents. A key's home slot
// keeps the address's low bits, so objects allocated one after another
// (the usual case: a decoded list of records) land in the same cache line
// of slots, and the table of 10k objects stays in cache.
type idMemo struct {
	slots []uint64 // len is 0 or a power of two; at most half full
	ents  []idEnt
	gen   uint64 // as strMemo.gen
}

type idEnt struct {
	typ, p unsafe.Pointer
	n      int
	idx    uint32 // memo index
	kind   byte
}

func idWords(k *idKey) (typ, p unsafe.Pointer) {
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&k.p))
	return w[0], w[1]
}

// idHome returns the home slot of address p in a table of mask+1 slots:
// groups of eight 16-byte units of address share one cache line of slots,
// and the groups are scattered by a multiplicative hash.
func idHome(p unsafe.Pointer, mask uint) uint {
	a := uint(uintptr(p)) >> 4
	g := uint(uint64(a>>3) * 0x9e3779b97f4a7c15 >> 29)
	return (g&^7 | a&7) & mask
}

// idTag returns the slot bits of the key's hash.
func idTag(p unsafe.Pointer, n int, kind byte) uint64 {
	h := (uint64(uintptr(p)) ^ uint64(n)*0x9e3779b97f4a7c15 ^ uint64(kind)<<56) * 0xff51afd7ed558ccd
	return h >> genShift << tagShift
}

// find returns the memo index stored for k (k.p a pointer).
func (m *idMemo) find(k *idKey) (int, bool) {
	typ, p := idWords(k)
	return m.findWords(typ, p, k.n, k.kind)
}

// findWords returns the memo index stored for the key of these words.
func (m *idMemo) findWords(typ, p unsafe.Pointer, n int, kind byte) (int, bool) {
	if len(m.ents) == 0 {
		return 0, false
	}
	if _, en := m.probe(typ, p, n, kind); en != nil {
		return int(en.idx), true
	}
	return 0, false
}

// probe returns the key's entry, or nil and the empty slot where it
// belongs.
func (m *idMemo) probe(typ, p unsafe.Pointer, n int, kind byte) (uint, *idEnt) {
	want := m.gen | idTag(p, n, kind)
	mask := uint(len(m.slots) - 1)
	for i := idHome(p, mask); ; i = (i + 1) & mask {
		sl := m.slots[i]
		if sl&^(tagMask|entMask) != m.gen {
			return i, nil
		}
		if sl&^entMask == want {
			if en := &m.ents[sl&entMask-1]; en.p == p && en.typ == typ && en.n == n && en.kind == kind {
				return i, en
			}
		}
	}
}

// put stores idx for k, replacing an entry already there.
func (m *idMemo) put(k *idKey, idx int) {
	typ, p := idWords(k)
	m.putWords(typ, p, k.n, k.kind, idx)
}

// putWords stores idx for the key of these words, replacing an entry
// already there.
func (m *idMemo) putWords(typ, p unsafe.Pointer, n int, kind byte, idx int) {
	if _, en := m.lookupOrAdd(typ, p, n, kind, idx); en != nil && uint64(idx) <= math.MaxUint32 {
		en.idx = uint32(idx)
	}
}

// lookupOrAdd returns the key's entry, or stores idx for the key and
// returns nil: one probe where a lookup and a put make two.
func (m *idMemo) lookupOrAdd(typ, p unsafe.Pointer, n int, kind byte, idx int) (int, *idEnt) {
	if 2*(len(m.ents)+1) > len(m.slots) {
		m.grow()
	}
	i, en := m.probe(typ, p, n, kind)
	if en != nil {
		return int(en.idx), en
	}
	if uint64(len(m.ents)) >= entMask-1 || uint64(idx) > math.MaxUint32 {
		return 0, nil // no room (4 billion objects): not shared
	}
	m.ents = append(m.ents, idEnt{typ: typ, p: p, n: n, kind: kind, idx: uint32(idx)})
	m.slots[i] = m.gen | idTag(p, n, kind) | uint64(len(m.ents))
	return 0, nil
}

func (m *idMemo) grow() {
	if m.gen == 0 {
		m.gen = 1 << genShift
	}
	m.slots = make([]uint64, max(64, 2*len(m.slots)))
	mask := uint(len(m.slots) - 1)
	for k := range m.ents {
		en := &m.ents[k]
		i := idHome(en.p, mask)
		for m.slots[i]&^(tagMask|entMask) == m.gen {
			i = (i + 1) & mask
		}
		m.slots[i] = m.gen | idTag(en.p, en.n, en.kind) | uint64(k+1)
	}
}

// reset empties the table for the next encode, keeping its storage
// unless it is huge.
func (m *idMemo) reset() {
	if len(m.slots) > 1<<20 || cap(m.ents) > 1<<19 {
		m.slots, m.ents, m.gen = nil, nil, 0
		return
	}
	clear(m.ents) // keep no user values alive
	m.ents = m.ents[:0]
	m.gen += 1 << genShift
	if m.gen == 0 {
		clear(m.slots)
		m.gen = 1 << genShift
	}
}
