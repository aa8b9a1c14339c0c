package connection

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readFD is one read(2) into p (len(p) > 0); recvfrom(2) with MSG_DONTWAIT
// on a socket, whose shared open file description may be in blocking mode.
// macOS goes through x/sys/unix's libc wrappers (raw system call numbers
// are not a stable interface there).
func readFD(fd uintptr, p []byte, sock bool) (int, syscall.Errno) {
	var n int
	var err error
	if sock {
		n, _, err = unix.Recvfrom(int(fd), p, unix.MSG_DONTWAIT)
	} else {
		n, err = unix.Read(int(fd), p)
	}
	return n, errnoOf(err)
}

// writeFD writes iov (one or two buffers) with one system call: writev(2),
// or sendmsg(2) with MSG_DONTWAIT on a socket. macOS has no MSG_NOSIGNAL
// in its public interface; a SIGPIPE from a socket other than standard
// output or error is ignored by the Go runtime and the write fails with
// EPIPE, as on Linux.
func writeFD(fd uintptr, iov []unix.Iovec, sock bool, _ *unix.Msghdr) (int, syscall.Errno) {
	var bufs [2][]byte
	for i := range iov {
		bufs[i] = unsafe.Slice(iov[i].Base, iov[i].Len)
	}
	var n int
	var err error
	if sock {
		n, err = unix.SendmsgBuffers(int(fd), bufs[:len(iov)], nil, nil, unix.MSG_DONTWAIT)
	} else {
		n, err = unix.Writev(int(fd), bufs[:len(iov)])
	}
	return n, errnoOf(err)
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}
