package listener_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
)

type addrCase struct {
	name    string
	network string // Go network
	family  string // conn_*.py --family
	address func(t *testing.T) string
}

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "mpl")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

var addrCases = []addrCase{
	{"tcp", "tcp", "tcp", func(t *testing.T) string { return "127.0.0.1:0" }},
	{"unix path", "unix", "unix", func(t *testing.T) string { return filepath.Join(shortDir(t), "l.sock") }},
	{"unix abstract", "unix", "unix", func(t *testing.T) string {
		return fmt.Sprintf("@mpwire-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	}},
}

type keyCase struct {
	name      string
	goKey     []byte
	pyKey     []byte // nil: MPWIRE_AUTHKEY unset
	wantAuthn bool   // both sides succeed
}

var keyCases = []keyCase{
	{"right key", []byte("secret"), []byte("secret"), true},
	{"wrong key", []byte("secret"), []byte("wrong"), false},
	{"no key", nil, nil, true},
}

func keyEnv(k []byte) []string {
	if k == nil {
		return nil
	}
	return []string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(k)}
}

// goAddrString gives Python the address the Go listener actually bound.
func goAddrString(a net.Addr) string { return a.String() }

// TestGoListenerPythonClient: Go Listeners accept Python Client()s over
// tcp, a unix path and an abstract socket, with the right key, a wrong key
// and no key, for every interpreter (≤3.11 answer the {sha256} challenge
// with raw MD5; 3.12+ with {sha256}). One Python process connects to all
// nine listeners in turn.
func TestGoListenerPythonClient(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		type target struct {
			name   string
			kc     keyCase
			l      *listener.Listener
			hsErrs chan error
		}
		var targets []*target
		var args []string
		for _, ac := range addrCases {
			for _, kc := range keyCases {
				tg := &target{name: ac.name + ", " + kc.name, kc: kc, hsErrs: make(chan error, 1)}
				cfg := listener.Config{Authkey: kc.goKey, HandshakeTimeout: 20 * time.Second,
					OnHandshakeError: func(_ net.Addr, err error) { tg.hsErrs <- err }}
				l, err := cfg.Listen(ac.network, ac.address(t))
				require.NoError(t, err)
				defer l.Close()
				tg.l = l
				key := "-"
				if kc.pyKey != nil {
					key = hex.EncodeToString(kc.pyKey)
				}
				args = append(args, "--target", ac.family, goAddrString(l.Addr()), key)
				targets = append(targets, tg)
			}
		}
		ctx := pyharness.Context(t, 60*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_client.py", Args: args})
		for _, tg := range targets {
			t.Run(tg.name, func(t *testing.T) {
				if tg.kc.wantAuthn {
					c, err := tg.l.Accept(ctx)
					require.NoError(t, err)
					defer c.Close()
					msg, err := c.RecvBytes(ctx)
					require.NoError(t, err)
					assert.Equal(t, "hello from python", string(msg))
					require.NoError(t, c.SendBytes(context.Background(), append([]byte("echo:"), msg...)))
					line, err := proc.ReadLine(ctx)
					require.NoError(t, err)
					assert.Equal(t, "REPLY "+hex.EncodeToString([]byte("echo:hello from python")), line)
					return
				}
				line, err := proc.ReadLine(ctx)
				require.NoError(t, err)
				assert.Equal(t, "AUTHFAIL digest sent was rejected", line)
				select {
				case err := <-tg.hsErrs:
					assert.ErrorIs(t, err, listener.ErrAuthentication)
					assert.Contains(t, err.Error(), "digest received was wrong")
				case <-ctx.Done():
					t.Fatal("the Go listener did not report the failed handshake")
				}
			})
		}
		require.NoError(t, proc.Wait())
	})
}

// TestPythonListenerGoClient: Go Dial()s a Python Listener (≤3.11 send the
// legacy 20-byte challenge, 3.12+ {sha256}); the Go client challenges back
// with {sha256}, which every version answers.
func TestPythonListenerGoClient(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, ac := range addrCases {
			for _, kc := range keyCases {
				t.Run(ac.name+", "+kc.name, func(t *testing.T) {
					ctx := pyharness.Context(t, 30*time.Second)
					proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_listener.py",
						Args: []string{"--family", ac.family, "--address", ac.address(t)}, Env: keyEnv(kc.pyKey)})
					line, err := proc.ReadLine(ctx)
					require.NoError(t, err)
					addr, ok := strings.CutSuffix(line, " READY")
					require.True(t, ok, "got %q", line)
					c, err := listener.Dial(ctx, ac.network, addr, kc.goKey)
					if !kc.wantAuthn {
						require.ErrorIs(t, err, listener.ErrAuthentication)
						assert.Contains(t, err.Error(), "digest sent was rejected")
						line, err := proc.ReadLine(ctx)
						require.NoError(t, err)
						assert.Equal(t, "AUTHFAIL digest received was wrong", line)
						require.NoError(t, proc.Wait())
						return
					}
					require.NoError(t, err)
					defer c.Close()
					require.NoError(t, c.SendBytes(context.Background(), []byte("hello from go")))
					got, err := c.RecvBytes(ctx)
					require.NoError(t, err)
					assert.Equal(t, "echo:hello from go", string(got))
					line, err = proc.ReadLine(ctx)
					require.NoError(t, err)
					assert.Equal(t, "OK 13", line)
					require.NoError(t, proc.Wait())
				})
			}
		}
	})
}

// TestGoChallengeSchemesAgainstPythonClients: Go Listeners sending each
// challenge scheme; every Python client must authenticate (≤3.11 answer
// every challenge with raw HMAC-MD5, which Python's modern challenger — and
// ours — accepts; 3.12+ answer with the named digest).
func TestGoChallengeSchemesAgainstPythonClients(t *testing.T) {
	schemes := []listener.Scheme{listener.SchemeLegacy, listener.SchemeMD5, listener.SchemeSHA256,
		listener.SchemeSHA384, listener.SchemeSHA3256, listener.SchemeSHA3384}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		var ls []*listener.Listener
		var args []string
		for _, s := range schemes {
			l, err := listener.Config{Authkey: []byte("k3y"), Scheme: s}.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer l.Close()
			ls = append(ls, l)
			args = append(args, "--target", "tcp", l.Addr().String(), hex.EncodeToString([]byte("k3y")))
		}
		ctx := pyharness.Context(t, 60*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_client.py", Args: args})
		for i, s := range schemes {
			t.Run(string(s), func(t *testing.T) {
				c, err := ls[i].Accept(ctx)
				require.NoError(t, err)
				defer c.Close()
				msg, err := c.RecvBytes(ctx)
				require.NoError(t, err)
				require.NoError(t, c.SendBytes(context.Background(), msg))
				line, err := proc.ReadLine(ctx)
				require.NoError(t, err)
				assert.True(t, strings.HasPrefix(line, "REPLY "), line)
			})
		}
		require.NoError(t, proc.Wait())
	})
}

// TestPickledValuesOverAuthenticatedConnections: after authentication,
// Send/Recv carry pickles both ways between Go and a Python Listener.
func TestPickledValuesOverAuthenticatedConnections(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 30*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_listener.py",
			Args: []string{"--mode", "obj"}, Env: keyEnv([]byte("secret"))})
		line, err := proc.ReadLine(ctx)
		require.NoError(t, err)
		addr, _ := strings.CutSuffix(line, " READY")
		c, err := listener.Dial(ctx, "tcp", addr, []byte("secret"))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Send(ctx, []any{42, nil, "hello"}))
		var reply []any
		require.NoError(t, c.Recv(ctx, &reply))
		require.Len(t, reply, 3)
		assert.Equal(t, "list", reply[0])
		assert.Equal(t, "[42, None, 'hello']", reply[1])
		assert.Equal(t, []any{int64(42), nil, "hello"}, reply[2])
		require.NoError(t, proc.Wait())
	})
}

// TestGoAnswersPythonDigestChallenges: Python 3.12+'s deliver_challenge
// with each digest_name; the Go responder must answer with the prefixed
// MAC Python verifies, and then answer Go's challenge in turn.
func TestGoAnswersPythonDigestChallenges(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		if !py.AtLeast(3, 12) {
			t.Skipf("%s has no digest_name in deliver_challenge (legacy challenges are covered by TestPythonListenerGoClient)", py.Name())
		}
		t.Parallel()
		for _, d := range []string{"md5", "sha256", "sha384", "sha3_256", "sha3_384"} {
			t.Run(d, func(t *testing.T) {
				ctx := pyharness.Context(t, 30*time.Second)
				proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_listener.py",
					Args: []string{"--digest", d}, Env: keyEnv([]byte("secret"))})
				line, err := proc.ReadLine(ctx)
				require.NoError(t, err)
				addr, _ := strings.CutSuffix(line, " READY")
				c, err := listener.Dial(ctx, "tcp", addr, []byte("secret"))
				require.NoError(t, err)
				defer c.Close()
				require.NoError(t, c.SendBytes(context.Background(), []byte("digest "+d)))
				got, err := c.RecvBytes(ctx)
				require.NoError(t, err)
				assert.Equal(t, "echo:digest "+d, string(got))
				require.NoError(t, proc.Wait())
			})
		}
	})
}
