//go:build !linux

package server

import "github.com/mpwire/mpwire/connection"

// Config.EventLoops is Linux-only: elsewhere connections beyond
// ThreadWaitConns wait on the runtime poller.
const loopSupported = false

type evLoop struct{}

type loopConn struct {
	hand chan handoff
}

type handoff struct {
	unread []byte
	v      any
	call   bool
	reply  []byte
}

var rawReply = new(int)

func newLoop(*Server) (*evLoop, error)                           { return nil, nil }
func (l *evLoop) close()                                         {}
func (l *evLoop) add(*connection.Conn, Caller, string) *loopConn { return nil }
func (lc *loopConn) remove()                                     {}
func (lc *loopConn) arm() bool                                   { return false }
func (lc *loopConn) writeRaw([]byte) bool                        { return false }

func (s *Server) inlineCall(any) bool { return false }
