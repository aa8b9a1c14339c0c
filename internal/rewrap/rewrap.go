// Package rewrap moves the socket of an idle connection.Conn to a new Conn
// with other settings (on or off the runtime poller: ThreadWait). The
// manager client and server both do this between calls.
package rewrap

import (
	"context"

	"github.com/mpwire/mpwire/connection"
)

// Conn returns a Conn with cfg's settings for the socket of conn, a duplex
// Conn between messages, or nil if that fails or if anything is there to
// receive already (it may have been read ahead into conn's buffer, which
// the new Conn would not see). conn stays open either way: the caller
// closes it. Bytes that arrive meanwhile wait in the socket, which the new
// Conn shares.
func Conn(conn *connection.Conn, cfg connection.Config) *connection.Conn {
	if ready, err := conn.PollTimeout(context.Background(), 0); ready || err != nil {
		return nil
	}
	f, err := conn.File() // blocking, as ThreadWait needs for a socket
	if err != nil {
		return nil
	}
	nc, err := cfg.FromFile(f, true, true)
	if err != nil {
		f.Close()
		return nil
	}
	return nc
}
