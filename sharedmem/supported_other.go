//go:build !linux

package sharedmem

import (
	"fmt"

	"github.com/mpwire/mpwire"
)

// checkSupported: outside Linux, shm_open names live in the kernel (macOS)
// rather than in /dev/shm files, and pure Go cannot reach them; CPython's
// named segments and sharedctypes arenas are then out of reach.
func checkSupported() error {
	return fmt.Errorf("sharedmem: named shared memory shared with CPython needs Linux (/dev/shm): %w", mpwire.ErrUnsupported)
}
