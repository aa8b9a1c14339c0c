package pickle

import "unsafe"

// idMemo is the encoder's memo of objects by identity (Python's id()): an
// open-addressing table keyed by the words of idKey.p (a pointer, so its
// type and address) with the length and kind, hashed by arithmetic on the
// address. A Go map keyed by idKey hashes and compares through the
// interface, which cost a third of encoding a list of records.
type idMemo struct {
	slots []idSlot // len is 0 or a power of two; at most half full
	n     int
}

type idSlot struct {
	typ, p unsafe.Pointer
	n      int
	kind   byte
	idx    int // memo index + 1; 0 marks an empty slot
}

func idWords(k *idKey) (typ, p unsafe.Pointer) {
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&k.p))
	return w[0], w[1]
}

func idHash(p unsafe.Pointer, n int, kind byte) uint {
	h := uint64(uintptr(p))>>3 ^ uint64(n)*0x9e3779b97f4a7c15 ^ uint64(kind)<<56
	h *= 0xff51afd7ed558ccd
	return uint(h ^ h>>32)
}

// find returns the memo index stored for k (k.p a pointer).
func (m *idMemo) find(k *idKey) (int, bool) {
	typ, p := idWords(k)
	return m.findWords(typ, p, k.n, k.kind)
}

// findWords returns the memo index stored for the key of these words.
func (m *idMemo) findWords(typ, p unsafe.Pointer, n int, kind byte) (int, bool) {
	if m.n == 0 {
		return 0, false
	}
	mask := uint(len(m.slots) - 1)
	for i := idHash(p, n, kind) & mask; ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.idx == 0 {
			return 0, false
		}
		if s.p == p && s.typ == typ && s.n == n && s.kind == kind {
			return s.idx - 1, true
		}
	}
}

// put stores idx for k, replacing an entry already there.
func (m *idMemo) put(k *idKey, idx int) {
	typ, p := idWords(k)
	m.putWords(typ, p, k.n, k.kind, idx)
}

// putWords stores idx for the key of these words.
func (m *idMemo) putWords(typ, p unsafe.Pointer, n int, kind byte, idx int) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	mask := uint(len(m.slots) - 1)
	for i := idHash(p, n, kind) & mask; ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.idx == 0 {
			*s = idSlot{typ: typ, p: p, n: n, kind: kind, idx: idx + 1}
			m.n++
			return
		}
		if s.p == p && s.typ == typ && s.n == n && s.kind == kind {
			s.idx = idx + 1
			return
		}
	}
}

func (m *idMemo) grow() {
	old := m.slots
	m.slots = make([]idSlot, max(64, 2*len(old)))
	mask := uint(len(m.slots) - 1)
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		i := idHash(s.p, s.n, s.kind) & mask
		for m.slots[i].idx != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = s
	}
}

// reset empties the table, keeping its storage unless it is much larger
// than this encode needed (clearing it after each small encode would cost
// more than regrowing it) or huge.
func (m *idMemo) reset() {
	switch {
	case len(m.slots) > 1<<12 && 8*m.n < len(m.slots), len(m.slots) > 1<<18:
		m.slots = nil
	case m.n > 0:
		clear(m.slots)
	}
	m.n = 0
}
