package sysfd

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Pipe returns a close-on-exec pipe, both ends non-blocking if nonblock.
func Pipe(nonblock bool) (r, w int, err error) {
	flags := unix.O_CLOEXEC
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	var p [2]int
	if err := unix.Pipe2(p[:], flags); err != nil {
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// Socketpair returns a close-on-exec, blocking AF_UNIX stream socketpair.
func Socketpair() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}

// Socket returns a close-on-exec, non-blocking socket.
func Socket(family, typ, proto int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
}

// ReopenPipe opens the pipe behind fd again, through /proc/self/fd, as a
// new close-on-exec open file description with access mode mode
// (O_RDONLY or O_WRONLY) and O_NONBLOCK if nonblock, so that its blocking
// mode is independent of fd's.
func ReopenPipe(fd, mode int, nonblock bool) (int, error) {
	flags := mode | unix.O_CLOEXEC
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	return unix.Open("/proc/self/fd/"+strconv.Itoa(fd), flags, 0)
}

// Replace makes newfd refer to oldfd's open file description (close-on-exec)
// and closes oldfd.
func Replace(oldfd, newfd int) error {
	if err := unix.Dup3(oldfd, newfd, unix.O_CLOEXEC); err != nil {
		return err
	}
	return unix.Close(oldfd)
}

// FDDir lists the process's open descriptors by number.
const FDDir = "/proc/self/fd"
