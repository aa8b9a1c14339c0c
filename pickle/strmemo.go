package pickle

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// strMemo is the encoder's memo of str values by identity, as CPython's
// pickler memoizes every object (docs: doc.go, "Identity"): a string is
// keyed by its data pointer and length. Go strings are immutable, so the
// same pointer and length are the same content; a string shared in Go (a
// literal, a decoded str the pickle fetched twice, a map key reused) is
// written once, and equal strings at different addresses are written each
// time, as CPython writes equal but distinct str objects. The empty string
// and the one-character latin-1 strings, which CPython keeps as single
// objects, are keyed by content (canonStr). Keying by two words costs a
// multiply and two comparisons where hashing the content cost a pass over
// every string (issue 19).
//
// A slot is one pointer-free word: the generation of the encode that wrote
// it, 16 bits of the key's hash, and the position of its entry in ents
// (entries are appended in memo order and read only to confirm a match).
// A table for 10k strings is then 256 KiB, small enough to stay in cache
// where slots holding the strings were four times that, and a new encode
// empties the table by moving to the next generation instead of clearing
// it. An entry holds the string itself, so its bytes cannot be freed and
// their address reused by another string while the memo refers to them.
//
// The same table keyed by content (byContent, used through findContent) is
// the memo of dict keys (encState.memoKey): see saveKeyStr.
type strMemo struct {
	slots []uint64 // len is 0 or a power of two; at most half full
	ents  []strEnt
	gen   uint64 // current generation << genShift; slots of another one are empty
	want  uint64 // the slot word of the key of the last find, without its entry
	// byContent: strings are hashed and compared by their bytes
	// (findContent), not their address and length (find).
	byContent bool
	// shapes holds keyShape(s) of every s put by putKey: a string whose
	// shape is not there has no entry of its content (mayHold).
	shapes byteSet
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

// strHash returns the hash of the string at p of n bytes: its top 16
// bits go to the slot (the tag) and bits 16 on pick its home slot.
func strHash(p *byte, n int) uint64 {
	return (uint64(uintptr(unsafe.Pointer(p))) ^ uint64(n)*0x9e3779b97f4a7c15) * 0xff51afd7ed558ccd
}

// find returns the memo index of s (this string: its pointer and length),
// or the slot where s belongs and false. The slot stays valid until the
// next call to find or reset.
func (m *strMemo) find(s string) (idx int, slot uint, ok bool) {
	if 2*(len(m.ents)+1) > len(m.slots) {
		m.grow()
	}
	p, n := unsafe.StringData(s), len(s)
	h := strHash(p, n)
	want := m.gen | h>>genShift<<tagShift
	m.want = want
	mask := uint(len(m.slots) - 1)
	for i := uint(h>>16) & mask; ; i = (i + 1) & mask {
		sl := m.slots[i]
		if sl&^(tagMask|entMask) != m.gen {
			return 0, i, false
		}
		if sl&^entMask == want {
			if en := &m.ents[sl&entMask-1]; unsafe.StringData(en.s) == p && len(en.s) == n {
				return en.idx, i, true
			}
		}
	}
}

var strMemoSeed = maphash.MakeSeed()

// keySeeds are random words mixed into the hash of keys of up to 16
// bytes (contentHash), so keys chosen to collide cannot be chosen without
// them.
var keySeeds = func() (s [3]uint64) {
	for i := range s {
		s[i] = maphash.String(strMemoSeed, string(rune('a'+i))) | 1
	}
	return s
}()

// contentHash hashes the bytes of s: a string of up to 16 bytes (most
// dict keys) is read as two words, overlapping, and mixed by two 128-bit
// multiplications with random words (as the runtime's hash without AES
// does), a third of the work of maphash for short strings; longer ones go
// to maphash.
func contentHash(s string) uint64 {
	n := len(s)
	var a, b uint64
	switch {
	case n > 16:
		return maphash.String(strMemoSeed, s)
	case n >= 8:
		p := unsafe.StringData(s)
		a = binary.LittleEndian.Uint64(unsafe.Slice(p, 8))
		b = binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), n-8)), 8))
	case n >= 4:
		p := unsafe.StringData(s)
		a = uint64(binary.LittleEndian.Uint32(unsafe.Slice(p, 4)))
		b = uint64(binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), n-4)), 4)))
	case n > 0:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	return mix(keySeeds[2]^uint64(n), mix(a^keySeeds[0], b^keySeeds[1]))
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// findContent is find for a table by content: it returns the memo index
// of a string equal to s.
func (m *strMemo) findContent(s string) (idx int, slot uint, ok bool) {
	if 2*(len(m.ents)+1) > len(m.slots) {
		m.byContent = true
		m.grow()
	}
	h := contentHash(s)
	want := m.gen | h>>genShift<<tagShift
	m.want = want
	mask := uint(len(m.slots) - 1)
	for i := uint(h>>16) & mask; ; i = (i + 1) & mask {
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
func (m *strMemo) put(slot uint, s string, idx int) {
	if uint64(len(m.ents)) >= entMask-1 {
		return // no room in a slot: s is written again if it recurs
	}
	m.ents = append(m.ents, strEnt{s: s, idx: idx})
	m.slots[slot] = m.want | uint64(len(m.ents))
}

// byteSet is a set of 8-bit values, a bit each: the slots of a slotCache
// set in an encode, the shapes (keyShape) of the strings a table holds.
type byteSet [4]uint64

func (b *byteSet) add(i uint)      { b[i/64] |= 1 << (i % 64) }
func (b *byteSet) has(i uint) bool { return b[i/64]&(1<<(i%64)) != 0 }

// keyShape is a string's 8 bits of its length and first and last bytes:
// its slot in the key cache (saveKeyStr), its bit in strMemo.shapes and
// keyRun.shapes.
func keyShape(s string) uint {
	if n := len(s); n > 0 {
		return (uint(n)*31 + uint(s[0])*7 + uint(s[n-1])) & 255
	}
	return 0
}

// putKey is put for a table by content, noting the string's shape.
func (m *strMemo) putKey(slot uint, s string, idx int) {
	m.put(slot, s, idx)
	m.shapes.add(keyShape(s))
}

// mayHold reports whether a table by content filled by putKey may hold a
// string of s's content: false means it holds none (no string of its
// length and end bytes was put), without hashing s.
func (m *strMemo) mayHold(s string) bool { return m.shapes.has(keyShape(s)) }

func (m *strMemo) grow() {
	if m.gen == 0 {
		m.gen = 1 << genShift
	}
	m.slots = make([]uint64, max(64, 2*len(m.slots)))
	mask := uint(len(m.slots) - 1)
	for k := range m.ents {
		var h uint64
		if m.byContent {
			// Hash again: keeping each hash would add a third to the
			// entries every encode writes, for the few that grow the table.
			h = contentHash(m.ents[k].s)
		} else {
			h = strHash(unsafe.StringData(m.ents[k].s), len(m.ents[k].s))
		}
		i := uint(h>>16) & mask
		for m.slots[i]&^(tagMask|entMask) == m.gen {
			i = (i + 1) & mask
		}
		m.slots[i] = m.gen | h>>genShift<<tagShift | uint64(k+1)
	}
}

// reset empties the table for the next encode, keeping its storage
// unless it is huge.
func (m *strMemo) reset() {
	m.shapes = byteSet{}
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

// strSingles[c] is the one-character string of code point c (latin-1).
var strSingles = func() (t [256]string) {
	for c := range t {
		t[c] = string(rune(c))
	}
	return t
}()

// canonStr returns the string the memo keys s by: for the empty string
// and a one-character latin-1 string (U+0000-U+00FF), one string of that
// content, as CPython keeps one object of each, so equal ones are always
// one str (written once, then fetched); s itself otherwise.
func canonStr(s string) string {
	switch len(s) {
	case 0:
		return strSingles[0][:0]
	case 1:
		if c := s[0]; c < 0x80 {
			return strSingles[c]
		}
	case 2:
		if c, d := s[0], s[1]; c&^1 == 0xC2 && d&0xC0 == 0x80 {
			return strSingles[(c&3)<<6|d&0x3F]
		}
	}
	return s
}
