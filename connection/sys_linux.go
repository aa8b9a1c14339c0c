package connection

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawIO is the largest socket read or write made without telling the Go
// scheduler (unix.RawSyscall6): with MSG_DONTWAIT such a call never blocks,
// and for a small message the scheduler's bookkeeping around a system call
// (entersyscall, exitsyscall, and sysmon handing the P to another thread
// when the kernel preempts this one in the call, which it often does right
// after the call woke the peer) costs more than the call. Larger copies
// take long enough that the P should be free for other goroutines (and for
// a garbage collection's stop) meanwhile.
const rawIO = 16 << 10

// readFD is one read(2) into p (len(p) > 0); recv(2) with MSG_DONTWAIT on a
// socket, whose shared open file description may be in blocking mode. Raw
// syscalls: no allocation, no errno boxing.
func readFD(fd uintptr, p []byte, sock bool) (int, syscall.Errno) {
	var n uintptr
	var errno syscall.Errno
	switch {
	case sock && len(p) <= rawIO:
		n, _, errno = unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
	case sock:
		n, _, errno = unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
	default:
		n, _, errno = unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	}
	return int(n), errno
}

// writeFD writes iov (one or two buffers) with one system call: writev(2),
// or on a socket send(2)/sendmsg(2) with MSG_DONTWAIT|MSG_NOSIGNAL (a dead
// peer is EPIPE, not a signal). msg is the caller's reusable header.
func writeFD(fd uintptr, iov []unix.Iovec, sock bool, msg *unix.Msghdr) (int, syscall.Errno) {
	var n uintptr
	var errno syscall.Errno
	switch {
	case sock && len(iov) == 1 && iov[0].Len <= rawIO:
		n, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(iov[0].Base)), uintptr(iov[0].Len), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	case sock && len(iov) == 1:
		n, _, errno = unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(iov[0].Base)), uintptr(iov[0].Len), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	case sock:
		msg.Iov = &iov[0]
		msg.SetIovlen(len(iov))
		n, _, errno = unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	default:
		n, _, errno = unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	}
	return int(n), errno
}
