package listener_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pipe(t *testing.T) (*connection.Conn, *connection.Conn) {
	a, b, err := connection.Pipe(true)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestAnswerChallengeWorkedExamples replays the worked examples of
// docs/spec.md#handshake (key b'secret') and checks our replies byte for
// byte against the ones CPython produced.
func TestAnswerChallengeWorkedExamples(t *testing.T) {
	for _, tc := range []struct {
		name, challenge, reply string
	}{
		{"legacy 20-byte challenge gets raw HMAC-MD5", "1111111111111111111111111111111111111111",
			"acaea49efbc66d232affdba4906587f6"},
		{"{sha256} challenge gets {sha256}+HMAC-SHA256 over the whole payload",
			hex.EncodeToString([]byte("{sha256}")) + "22222222222222222222222222222222222222222222222222222222222222222222222222222222",
			hex.EncodeToString([]byte("{sha256}")) + "1fd444d7ea7969cca0fbbcdb6bfbfae8e97831866b6a6f3d287f0eb637bd989e"},
		{"{sha384} challenge gets {sha384}+HMAC-SHA384 over the whole payload",
			hex.EncodeToString([]byte("{sha384}")) + "22222222222222222222222222222222222222222222222222222222222222222222222222222222",
			hex.EncodeToString([]byte("{sha384}")) + "dcc963648d1d09be4aec0c242ece34a321bfc8707a0b6366c5a7836735666c84087ca2753f145443594204c71a291b47"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pipe(t)
			ch, _ := hex.DecodeString(tc.challenge)
			errc := make(chan error, 1)
			go func() { errc <- listener.AnswerChallenge(testCtx(t), b, []byte("secret")) }()
			require.NoError(t, a.SendBytes(context.Background(), append([]byte("#CHALLENGE#"), ch...)))
			reply, err := a.RecvBytes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.reply, hex.EncodeToString(reply))
			require.NoError(t, a.SendBytes(context.Background(), []byte("#WELCOME#")))
			require.NoError(t, <-errc)
		})
	}
}

func TestSchemesRoundTripGoToGo(t *testing.T) {
	for _, s := range []listener.Scheme{listener.SchemeLegacy, listener.SchemeMD5, listener.SchemeSHA256,
		listener.SchemeSHA384, listener.SchemeSHA3256, listener.SchemeSHA3384} {
		for _, right := range []bool{true, false} {
			name := string(s) + map[bool]string{true: " right key", false: " wrong key"}[right]
			t.Run(name, func(t *testing.T) {
				a, b := pipe(t)
				other := []byte("secret")
				if !right {
					other = []byte("guess")
				}
				errc := make(chan error, 1)
				go func() { errc <- listener.AnswerChallenge(testCtx(t), b, other) }()
				err := listener.DeliverChallenge(testCtx(t), a, []byte("secret"), s)
				answerErr := <-errc
				if right {
					require.NoError(t, err)
					require.NoError(t, answerErr)
					return
				}
				require.ErrorIs(t, err, listener.ErrAuthentication)
				assert.Contains(t, err.Error(), "digest received was wrong")
				require.ErrorIs(t, answerErr, listener.ErrAuthentication)
				assert.Contains(t, answerErr.Error(), "digest sent was rejected")
			})
		}
	}
}

func TestHandshakeRejectsBadMessages(t *testing.T) {
	t.Run("a 319-byte challenge is refused (256-byte cap)", func(t *testing.T) {
		a, b := pipe(t)
		require.NoError(t, a.SendBytes(context.Background(), make([]byte, 319)))
		err := listener.AnswerChallenge(testCtx(t), b, []byte("k"))
		assert.ErrorIs(t, err, connection.ErrFrameTooLarge)
	})
	t.Run("a message without #CHALLENGE#", func(t *testing.T) {
		a, b := pipe(t)
		require.NoError(t, a.SendBytes(context.Background(), []byte("hello")))
		assert.ErrorIs(t, listener.AnswerChallenge(testCtx(t), b, []byte("k")), listener.ErrAuthentication)
	})
	t.Run("a challenge shorter than 20 bytes", func(t *testing.T) {
		a, b := pipe(t)
		require.NoError(t, a.SendBytes(context.Background(), []byte("#CHALLENGE#short")))
		err := listener.AnswerChallenge(testCtx(t), b, []byte("k"))
		assert.ErrorIs(t, err, listener.ErrAuthentication)
		assert.Contains(t, err.Error(), "challenge too short")
	})
	t.Run("an unknown digest prefix", func(t *testing.T) {
		a, b := pipe(t)
		require.NoError(t, a.SendBytes(context.Background(), []byte("#CHALLENGE#{sha1}0123456789012345678901234567890123456789")))
		assert.ErrorIs(t, listener.AnswerChallenge(testCtx(t), b, []byte("k")), listener.ErrAuthentication)
	})
	t.Run("a reply of the wrong length for its digest", func(t *testing.T) {
		a, b := pipe(t)
		go func() {
			_, _ = b.RecvBytes(context.Background())
			_ = b.SendBytes(context.Background(), []byte("{sha256}short"))
			_, _ = b.RecvBytes(context.Background())
		}()
		err := listener.DeliverChallenge(testCtx(t), a, []byte("k"), listener.SchemeSHA256)
		assert.ErrorIs(t, err, listener.ErrAuthentication)
		assert.Contains(t, err.Error(), "expected \"sha256\" of length 32 got 5")
	})
}

// TestStalledClientDoesNotBlockAccept: one client connects and says
// nothing; a second, proper client is still accepted at once, and the
// stalled one is dropped after the handshake timeout.
func TestStalledClientDoesNotBlockAccept(t *testing.T) {
	dropped := make(chan error, 1)
	l, err := listener.Config{Authkey: []byte("k"), HandshakeTimeout: 3 * time.Second,
		OnHandshakeError: func(_ net.Addr, err error) { dropped <- err }}.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	stalled, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer stalled.Close()

	go func() {
		c, err := listener.Dial(context.Background(), "tcp", l.Addr().String(), []byte("k"))
		if err == nil {
			_ = c.SendBytes(context.Background(), []byte("hi"))
			_, _ = c.RecvBytes(context.Background())
			c.Close()
		}
	}()
	c, err := l.Accept(testCtx(t))
	require.NoError(t, err)
	defer c.Close()
	select {
	case err := <-dropped:
		t.Fatalf("the good client was accepted only after the stalled one was dropped (%v)", err)
	default:
	}
	got, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	select {
	case err := <-dropped:
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	case <-time.After(15 * time.Second):
		t.Fatal("the stalled client was never dropped")
	}
}

func TestCloseUnblocksAcceptAndRemovesSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	l, err := listener.Listen("unix", path, nil)
	require.NoError(t, err)
	_, err = os.Stat(path)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(context.Background()); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, l.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Accept")
	}
	_, err = os.Stat(path)
	assert.True(t, errors.Is(err, os.ErrNotExist), "socket file left behind: %v", err)
	assert.NoError(t, l.Close())
}

func TestAbstractAddressForms(t *testing.T) {
	name := "mpwire-abs-" + time.Now().Format("150405.000000000")
	l, err := listener.Listen("unix", "\x00"+name, []byte("k"))
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, "@"+name, l.Addr().String())
	go func() {
		c, err := l.Accept(context.Background())
		if err == nil {
			_ = c.SendBytes(context.Background(), []byte("abstract"))
			c.Close()
		}
	}()
	c, err := listener.Dial(testCtx(t), "unix", "@"+name, []byte("k"))
	require.NoError(t, err)
	defer c.Close()
	got, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "abstract", string(got))
}

func TestWrongKeyFailsPromptlyOnBothSides(t *testing.T) {
	hs := make(chan error, 1)
	l, err := listener.Config{Authkey: []byte("right"), OnHandshakeError: func(_ net.Addr, err error) { hs <- err }}.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	// Both sides fail within the test context, long before the 20s
	// handshake timeout would end a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = listener.Dial(ctx, "tcp", l.Addr().String(), []byte("wrong"))
	require.ErrorIs(t, err, listener.ErrAuthentication)
	select {
	case err := <-hs:
		assert.ErrorIs(t, err, listener.ErrAuthentication)
	case <-ctx.Done():
		t.Fatal("the server side did not fail")
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := listener.Listen("udp", "127.0.0.1:0", nil)
	assert.Error(t, err)
	_, err = listener.Config{Authkey: []byte("k"), Scheme: "sha1"}.Dial(context.Background(), "tcp", "127.0.0.1:1")
	assert.Error(t, err)
	l, err := listener.Config{Backlog: 1}.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	l.Close()
	l, err = listener.Listen("tcp6", "[::1]:0", nil)
	if err == nil {
		l.Close()
	}
}

// TestAcceptedConnFileIsBlocking: a listener Conn handed over with File()
// must be usable by Python (blocking), while the Go Conn keeps working.
func TestAcceptedConnFileIsBlocking(t *testing.T) {
	l, err := listener.Listen("tcp", "127.0.0.1:0", nil)
	require.NoError(t, err)
	defer l.Close()
	go func() {
		c, err := listener.Dial(context.Background(), "tcp", l.Addr().String(), nil)
		if err == nil {
			_ = c.SendBytes(context.Background(), []byte("one"))
			_, _ = c.RecvBytes(context.Background())
			c.Close()
		}
	}()
	c, err := l.Accept(testCtx(t))
	require.NoError(t, err)
	defer c.Close()
	f, err := c.File()
	require.NoError(t, err)
	defer f.Close()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	require.NoError(t, err)
	assert.Zero(t, flags&unix.O_NONBLOCK)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	got, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "one", string(got))
	require.NoError(t, c.SendBytes(context.Background(), []byte("two")))
}

func TestEmptyAddressPicksOneLikePython(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			l, err := listener.Listen(network, "", []byte("k"))
			require.NoError(t, err)
			addr := l.Addr().String()
			go func() {
				if c, err := l.Accept(context.Background()); err == nil {
					_ = c.SendBytes(context.Background(), []byte(c.RemoteAddr().Network()))
					c.Close()
				}
			}()
			c, err := listener.Dial(testCtx(t), network, addr, []byte("k"))
			require.NoError(t, err)
			got, err := c.RecvBytes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, network, string(got))
			c.Close()
			require.NoError(t, l.Close())
			if network == "unix" {
				_, err := os.Stat(filepath.Dir(addr))
				assert.True(t, errors.Is(err, os.ErrNotExist), "the private directory is removed")
			}
		})
	}
}

// TestNegativeLimitsMeanNone: HandshakeTimeout and MaxHandshakes below zero
// turn the limits off; the handshake still works.
func TestNegativeLimitsMeanNone(t *testing.T) {
	cfg := listener.Config{Authkey: []byte("k"), HandshakeTimeout: -1, MaxHandshakes: -1}
	l, err := cfg.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := cfg.Dial(testCtx(t), "tcp", l.Addr().String())
		if err == nil {
			err = c.SendBytes(testCtx(t), []byte("hi"))
			c.Close()
		}
		errc <- err
	}()
	c, err := l.Accept(testCtx(t))
	require.NoError(t, err)
	defer c.Close()
	got, err := c.RecvBytes(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	require.NoError(t, <-errc)
}

func TestAcceptAfterCloseIsErrClosed(t *testing.T) {
	l, err := listener.Listen("tcp", "127.0.0.1:0", nil)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	_, err = l.Accept(testCtx(t))
	assert.ErrorIs(t, err, listener.ErrClosed)
	assert.ErrorIs(t, err, net.ErrClosed)
}
