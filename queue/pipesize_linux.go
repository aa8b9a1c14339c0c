package queue

import (
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
)

// setPipeSize applies Config.PipeSize (best effort).
func setPipeSize(c *connection.Conn, n int) {
	if n <= 0 {
		return
	}
	if fd := c.Fd(); fd >= 0 {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, n)
	}
}
