//go:build !linux

package queue

import "github.com/mpwire/mpwire/connection"

// setPipeSize: only Linux can resize a pipe (F_SETPIPE_SZ).
func setPipeSize(*connection.Conn, int) {}
