package sysfd

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Pipe returns a close-on-exec pipe, both ends non-blocking if nonblock.
func Pipe(nonblock bool) (r, w int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := unix.Pipe(p[:]); err != nil {
		return -1, -1, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if nonblock {
			if err := unix.SetNonblock(fd, true); err != nil {
				unix.Close(p[0])
				unix.Close(p[1])
				return -1, -1, err
			}
		}
	}
	return p[0], p[1], nil
}

// Socketpair returns a close-on-exec, blocking AF_UNIX stream socketpair.
func Socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return fds, nil
}

// Socket returns a close-on-exec, non-blocking socket.
func Socket(family, typ, proto int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, typ, proto)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// errNoReopen: macOS's /dev/fd/N duplicates the descriptor (same open file
// description), so a pipe cannot be given a private blocking mode.
var errNoReopen = errors.New("sysfd: reopening a pipe needs Linux's /proc/self/fd")

// ReopenPipe is not possible on macOS; it fails, and callers keep the
// shared description.
func ReopenPipe(fd, mode int, nonblock bool) (int, error) { return -1, errNoReopen }

// Replace makes newfd refer to oldfd's open file description (close-on-exec)
// and closes oldfd.
func Replace(oldfd, newfd int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := unix.Dup2(oldfd, newfd); err != nil {
		return err
	}
	unix.CloseOnExec(newfd)
	return unix.Close(oldfd)
}

// FDDir lists the process's open descriptors by number.
const FDDir = "/dev/fd"
