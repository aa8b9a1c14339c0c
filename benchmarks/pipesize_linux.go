package main

import "golang.org/x/sys/unix"

// setPipeSize enlarges the pipe behind fd (F_SETPIPE_SZ).
func setPipeSize(fd, size int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, size)
}
