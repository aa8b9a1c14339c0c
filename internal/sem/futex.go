//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h). None carries FUTEX_PRIVATE_FLAG (128):
// glibc computes (op | FUTEX_PRIVATE_FLAG) ^ private with private = 128 for
// named semaphores, i.e. it uses shared futexes, keyed by the file page, so
// waiters in different processes meet.
const (
	futexWake_      = 1
	futexWaitBitset = 9
	futexBitsetAny  = 0xffffffff
)

// valueWordOffset is where the 32-bit count sits inside the 64-bit word
// (glibc's SEM_VALUE_OFFSET): the low half, at offset 0 on little-endian
// targets, the only ones this package builds for.
const valueWordOffset = 0

// futexWaitFor sleeps while *word == val, for at most d (d < 0: no limit),
// with FUTEX_WAIT_BITSET and an absolute CLOCK_MONOTONIC deadline (what
// glibc uses for sem_clockwait(CLOCK_MONOTONIC); sem_timedwait adds
// FUTEX_CLOCK_REALTIME). A monotonic deadline matches Go's own deadlines,
// which ignore wall-clock jumps. It returns the raw errno (nil, EAGAIN,
// EINTR, ETIMEDOUT, ...).
func futexWaitFor(word *uint32, val uint32, d time.Duration) error {
	var tsp unsafe.Pointer
	if d >= 0 {
		var now unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
			return err
		}
		ts := unix.NsecToTimespec(now.Nano() + int64(d))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitBitset,
		uintptr(val), uintptr(tsp), 0, futexBitsetAny)
	if e != 0 {
		return e
	}
	return nil
}

// futexWake wakes up to n sleepers on word.
func futexWake(word *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWake_, uintptr(n), 0, 0, 0)
}
