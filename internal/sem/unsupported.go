//go:build !(linux && (amd64 || arm64 || ppc64le || riscv64 || loong64))

package sem

import (
	"context"
	"fmt"
	"time"

	"github.com/mpwire/mpwire"
)

// errUnsupported is what every constructor returns here: CPython's
// SemLock on this system is not a glibc semaphore in /dev/shm (macOS keeps
// named semaphores in the kernel, reachable only through libc), so there
// is nothing a pure-Go process can share with it.
var errUnsupported = fmt.Errorf("sem: named semaphores shared with CPython need Linux (glibc's /dev/shm layout and futexes): %w", mpwire.ErrUnsupported)

// ErrClosed is mpwire.ErrClosed.
var ErrClosed = mpwire.ErrClosed

// Sem is a named semaphore; on this system none can be opened.
type Sem struct{}

// SemLock is _multiprocessing.SemLock; on this system none can be made.
type SemLock struct{}

// Open fails with ErrUnsupported on this system.
func Open(name string) (*Sem, error) { return nil, errUnsupported }

// Create fails with ErrUnsupported on this system.
func Create(name string, value uint32) (*Sem, error) { return nil, errUnsupported }

// CreateRandom fails with ErrUnsupported on this system.
func CreateRandom(prefix string, value uint32) (*Sem, error) { return nil, errUnsupported }

// Unlink fails with ErrUnsupported on this system.
func Unlink(name string) error { return errUnsupported }

// NewSemLock fails with ErrUnsupported on this system.
func NewSemLock(kind Kind, value, maxvalue int, name string) (*SemLock, error) {
	return nil, errUnsupported
}

// NewSemLockRandom fails with ErrUnsupported on this system.
func NewSemLockRandom(kind Kind, value, maxvalue int) (*SemLock, error) {
	return nil, errUnsupported
}

// NewLock fails with ErrUnsupported on this system.
func NewLock() (*SemLock, error) { return nil, errUnsupported }

// NewRLock fails with ErrUnsupported on this system.
func NewRLock() (*SemLock, error) { return nil, errUnsupported }

// NewSemaphore fails with ErrUnsupported on this system.
func NewSemaphore(value int) (*SemLock, error) { return nil, errUnsupported }

// NewBoundedSemaphore fails with ErrUnsupported on this system.
func NewBoundedSemaphore(value int) (*SemLock, error) { return nil, errUnsupported }

// Rebuild fails with ErrUnsupported on this system.
func Rebuild(st State) (*SemLock, error) { return nil, errUnsupported }

// The methods below exist so that code using a Sem or SemLock builds;
// no value reaches them.

func (s *Sem) Name() string                                     { return "" }
func (s *Sem) Handle() uintptr                                  { return 0 }
func (s *Sem) Close() error                                     { return errUnsupported }
func (s *Sem) Value() (int, error)                              { return 0, errUnsupported }
func (s *Sem) Waiters() (int, error)                            { return 0, errUnsupported }
func (s *Sem) TryAcquire() (bool, error)                        { return false, errUnsupported }
func (s *Sem) Acquire(ctx context.Context) error                { return errUnsupported }
func (s *Sem) AcquireTimeout(d time.Duration) (bool, error)     { return false, errUnsupported }
func (s *Sem) Release() error                                   { return errUnsupported }
func (l *SemLock) State() State                                 { return State{} }
func (l *SemLock) Clone() (*SemLock, error)                     { return nil, errUnsupported }
func (l *SemLock) Kind() Kind                                   { return Semaphore }
func (l *SemLock) MaxValue() int                                { return 0 }
func (l *SemLock) Name() string                                 { return "" }
func (l *SemLock) Sem() *Sem                                    { return nil }
func (l *SemLock) Acquire(ctx context.Context) error            { return errUnsupported }
func (l *SemLock) AcquireTimeout(d time.Duration) (bool, error) { return false, errUnsupported }
func (l *SemLock) TryAcquire() (bool, error)                    { return false, errUnsupported }
func (l *SemLock) Release() error                               { return errUnsupported }
func (l *SemLock) Count() int                                   { return 0 }
func (l *SemLock) IsMine() bool                                 { return false }
func (l *SemLock) GetValue() (int, error)                       { return 0, errUnsupported }
func (l *SemLock) IsZero() (bool, error)                        { return false, errUnsupported }
func (l *SemLock) Unlink() error                                { return errUnsupported }
func (l *SemLock) Close() error                                 { return errUnsupported }
