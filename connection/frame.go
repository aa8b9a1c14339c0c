package connection

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Frame header facts (docs/spec.md#frames), kept in one place.
const (
	// smallHeaderLen is the 4-byte signed big-endian length header.
	smallHeaderLen = 4
	// largeHeaderLen is 0xFFFFFFFF followed by an 8-byte unsigned length.
	largeHeaderLen = 12
	// maxSmallFrame is the largest payload Python writes with the 4-byte
	// header; anything larger uses the 12-byte form (Python does the same,
	// for compatibility with 3.7 and older readers).
	maxSmallFrame = math.MaxInt32
	// largeMarker is the signed 4-byte header value announcing the 8-byte
	// length.
	largeMarker = -1
)

// putHeader writes the frame header for a payload of n bytes into dst
// (which must have room for 12 bytes) and returns its length.
func putHeader(dst []byte, n uint64) int {
	if n <= maxSmallFrame {
		binary.BigEndian.PutUint32(dst, uint32(n))
		return smallHeaderLen
	}
	binary.BigEndian.PutUint32(dst, 0xFFFFFFFF)
	binary.BigEndian.PutUint64(dst[4:], n)
	return largeHeaderLen
}

// AppendHeader appends the frame header for a payload of n bytes to dst:
// 4 bytes for n <= 2^31-1, else 0xFFFFFFFF and 8 bytes, as Python writes
// it. Packages that write frames themselves (a Queue holding a lock around
// its own writes, say) use it so the header lives in one place.
func AppendHeader(dst []byte, n int) []byte {
	var h [largeHeaderLen]byte
	k := putHeader(h[:], uint64(n))
	return append(dst, h[:k]...)
}

// ParseHeader decodes the frame header at the start of b and returns the
// payload length it announces and the header's own length (4, or 12 for
// the large form 0xFFFFFFFF + 8-byte length). It returns io.ErrUnexpectedEOF
// when b is shorter than the header, and an error wrapping ErrBadHeader for
// a negative 4-byte length other than the large-form marker. It is the one
// parser of frame headers: Conn uses it, and so do tools that read captured
// frames (mpcat dis --frames).
func ParseHeader(b []byte) (size uint64, n int, err error) {
	if len(b) < smallHeaderLen {
		return 0, 0, io.ErrUnexpectedEOF
	}
	l := int32(binary.BigEndian.Uint32(b))
	switch {
	case l == largeMarker:
		if len(b) < largeHeaderLen {
			return 0, 0, io.ErrUnexpectedEOF
		}
		return binary.BigEndian.Uint64(b[smallHeaderLen:]), largeHeaderLen, nil
	case l < 0:
		return 0, 0, fmt.Errorf("%w: %d", ErrBadHeader, l)
	}
	return uint64(l), smallHeaderLen, nil
}
