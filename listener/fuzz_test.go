package listener_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
)

// scriptConn is a net.Conn that reads a fixed byte string and records
// what is written.
type scriptConn struct {
	r *bytes.Reader
	w *bytes.Buffer
}

func (c scriptConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c scriptConn) Write(p []byte) (int, error)        { return c.w.Write(p) }
func (c scriptConn) Close() error                       { return nil }
func (c scriptConn) LocalAddr() net.Addr                { return nil }
func (c scriptConn) RemoteAddr() net.Addr               { return nil }
func (c scriptConn) SetDeadline(t time.Time) error      { return nil }
func (c scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (c scriptConn) SetWriteDeadline(t time.Time) error { return nil }

func frames(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = connection.AppendHeader(b, len(m))
		b = append(b, m...)
	}
	return b
}

// FuzzAnswerChallenge plays an arbitrary challenger against the responder:
// no panic, at most two frames written (the reply), each within the
// 256-byte cap, and success only when the peer said #WELCOME#.
func FuzzAnswerChallenge(f *testing.F) {
	f.Add([]byte("#CHALLENGE#"+"01234567890123456789"), []byte("#WELCOME#"))
	f.Add([]byte("#CHALLENGE#{sha256}"+"0123456789012345678901234567890123456789"), []byte("#WELCOME#"))
	f.Add([]byte("#CHALLENGE#{sha3_384}"+"0123456789012345678901234567890123456789"), []byte("#FAILURE#"))
	f.Add([]byte("#CHALLENGE#{md5}x"), []byte("#WELCOME#"))
	f.Add([]byte("#CHALLENGE#{sha256"), []byte(""))
	f.Add([]byte("#CHALLENGE#0123456789012345"), []byte("#WELCOME#"))
	f.Add(bytes.Repeat([]byte("A"), 300), []byte("#WELCOME#"))
	f.Fuzz(func(t *testing.T, challenge, answer []byte) {
		var out bytes.Buffer
		c := connection.NewConn(scriptConn{bytes.NewReader(frames(challenge, answer)), &out})
		err := listener.AnswerChallenge(context.Background(), c, []byte("key"))
		if err == nil && (string(answer) != "#WELCOME#" || len(challenge) > 256) {
			t.Fatalf("accepted challenge %q / answer %q", challenge, answer)
		}
		if out.Len() > 4+256 {
			t.Fatalf("wrote %d bytes", out.Len())
		}
	})
}

// FuzzDeliverChallenge plays an arbitrary responder against the
// challenger: no panic, never a #WELCOME# (the challenge is random, so no
// fixed reply can be right).
func FuzzDeliverChallenge(f *testing.F) {
	f.Add([]byte("0123456789abcdef"))
	f.Add([]byte("{sha256}0123456789abcdef0123456789abcdef"))
	f.Add([]byte("{sha3_256}0123456789abcdef0123456789abcdef"))
	f.Add([]byte("{nope}0123456789abcdef"))
	f.Add([]byte("{"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, reply []byte) {
		for _, s := range []listener.Scheme{listener.SchemeLegacy, listener.SchemeSHA256} {
			var out bytes.Buffer
			c := connection.NewConn(scriptConn{bytes.NewReader(frames(reply)), &out})
			if err := listener.DeliverChallenge(context.Background(), c, []byte("key"), s); err == nil {
				t.Fatalf("reply %q accepted", reply)
			}
			if bytes.Contains(out.Bytes(), []byte("#WELCOME#")) {
				t.Fatalf("welcomed reply %q", reply)
			}
		}
	})
}
