package connection_test

import (
	"context"
	"errors"
	"io"
	"math"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

// TestPythonValuesRoundTripThroughGo: Python sends values of every builtin
// pickle type with Connection.send; Go receives each into *any and sends
// it back; Python checks equality, exact type and repr.
func TestPythonValuesRoundTripThroughGo(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		a, b, err := connection.Pipe(true)
		require.NoError(t, err)
		defer a.Close()
		f := handOver(t, b)
		ctx := pyharness.Context(t, 60*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_values.py",
			Args: []string{"--fd", "3"}, ExtraFiles: []*os.File{f}})
		f.Close()
		n := 0
		for {
			var v any
			err := a.Recv(ctx, &v)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.NoError(t, a.Send(ctx, v))
			n++
		}
		require.NoError(t, proc.Wait())
		out, _ := proc.Stdout()
		assert.NotContains(t, out, "MISMATCH")
		assert.Contains(t, out, "bad 0")
		assert.Greater(t, n, 40)
	})
}

type point struct {
	X     int64   `pickle:"x"`
	Y     float64 `pickle:"y"`
	Label string  `pickle:"label,omitempty"`
}

// TestGoValuesInPython: Go sends Go values; Python's echo (conn_echo.py
// --mode obj) reports the type and repr it decoded and sends the object
// back, which Go decodes again.
func TestGoValuesInPython(t *testing.T) {
	big1, _ := new(big.Int).SetString("-1267650600228229401496703205376", 10)
	d := pickle.NewDict()
	require.NoError(t, d.Set("k", pickle.Tuple{int64(1), true}))
	require.NoError(t, d.Set(int64(2), nil))
	set, err := pickle.NewSet(int64(1))
	require.NoError(t, err)
	fs, err := pickle.NewFrozenSet("a")
	require.NoError(t, err)
	cases := []struct {
		name     string
		v        any
		typ      string
		repr     string
		protocol int
	}{
		{"nil", nil, "NoneType", "None", 0},
		{"bool", true, "bool", "True", 0},
		{"int64", int64(-5), "int", "-5", 0},
		{"uint8", uint8(200), "int", "200", 0},
		{"big.Int", big1, "int", "-1267650600228229401496703205376", 0},
		{"float64", 1.5, "float", "1.5", 0},
		{"infinity", math.Inf(-1), "float", "-inf", 0},
		{"string", "héllo ☃", "str", "'héllo ☃'", 0},
		{"bytes", []byte{0, 255}, "bytes", `b'\x00\xff'`, 0},
		{"bytearray", pickle.ByteArray("ab"), "bytearray", "bytearray(b'ab')", 0},
		{"list", []any{int64(1), "x", nil}, "list", "[1, 'x', None]", 0},
		{"tuple", pickle.Tuple{int64(1), 2.5}, "tuple", "(1, 2.5)", 0},
		{"dict", d, "dict", "{'k': (1, True), 2: None}", 0},
		{"set", set, "set", "{1}", 0},
		{"frozenset", fs, "frozenset", "frozenset({'a'})", 0},
		{"[42, None, 'hello']", []any{42, nil, "hello"}, "list", "[42, None, 'hello']", 0},
		{"typed slice", []int{1, 2, 3}, "list", "[1, 2, 3]", 0},
		{"map", map[string]int{"a": 1}, "dict", "{'a': 1}", 0},
		{"struct", point{X: 1, Y: 2}, "dict", "{'x': 1, 'y': 2.0}", 0},
		{"protocol 2", []any{"p2", int64(7)}, "list", "['p2', 7]", 2},
		{"protocol 0", []any{"p0"}, "list", "['p0']", 0 - 1},
		{"protocol 5", pickle.ByteArray("b5"), "bytearray", "bytearray(b'b5')", 5},
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		send, recv, files, args := goPipes(t, true)
		ctx := pyharness.Context(t, 60*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_echo.py",
			Args: append(args, "--mode", "obj"), ExtraFiles: files})
		for _, f := range files {
			f.Close()
		}
		for _, tc := range cases {
			c := send
			if tc.protocol != 0 {
				p := tc.protocol
				if p < 0 {
					p = 0
				}
				// A second Conn on the same socket, with another protocol.
				fd, err := send.File()
				require.NoError(t, err)
				enc, err := pickle.EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
				require.NoError(t, err)
				c, err = connection.Config{EncMode: enc}.FromFile(fd, true, true)
				require.NoError(t, err)
			}
			require.NoError(t, c.Send(ctx, tc.v), tc.name)
			if c != send {
				c.Close()
			}
			var reply []any
			require.NoError(t, recv.Recv(ctx, &reply), tc.name)
			require.Len(t, reply, 3)
			assert.Equal(t, tc.typ, reply[0], tc.name)
			assert.Equal(t, tc.repr, reply[1], tc.name)
		}
		require.NoError(t, send.Close())
		require.NoError(t, proc.Wait())
		out, _ := proc.Stdout()
		assert.True(t, strings.HasPrefix(out, "echoed "), out)
	})
}

func TestSendFailsCleanlyOnUnpicklableValue(t *testing.T) {
	a, b := pipe(t, true)
	err := a.Send(context.Background(), make(chan int))
	require.Error(t, err)
	require.NoError(t, a.Send(context.Background(), "after the failure"))
	var s string
	require.NoError(t, b.Recv(context.Background(), &s))
	assert.Equal(t, "after the failure", s, "a failed Send writes nothing")
}

func TestRecvTypedAndGeneric(t *testing.T) {
	a, b := pipe(t, true)
	require.NoError(t, a.Send(context.Background(), point{X: 3, Y: 4.5, Label: "p"}))
	var p point
	require.NoError(t, b.Recv(context.Background(), &p))
	assert.Equal(t, point{X: 3, Y: 4.5, Label: "p"}, p)
	require.NoError(t, a.Send(context.Background(), []any{int64(42), nil, "hello"}))
	var v any
	require.NoError(t, b.Recv(context.Background(), &v))
	assert.Equal(t, []any{int64(42), nil, "hello"}, v)
	// Python's worked example bytes for None: 00000004 80044e2e.
	c, f := rawPair(t, connection.Config{})
	require.NoError(t, c.Send(context.Background(), nil))
	assert.Equal(t, "0000000480044e2e", hexs(readAllRaw(t, c, f)))
}
