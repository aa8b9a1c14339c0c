package sharedmem_test

import (
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/sharedmem"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"psm_0123abcd", "psm_0123abcd", true},
		{"/psm_0123abcd", "psm_0123abcd", true},
		{"my-segment.v2", "my-segment.v2", true},
		{"", "", false},
		{"/", "", false},
		{"//psm_x", "", false},
		{"a/b", "", false},
		{"../etc/passwd", "", false},
		{"..", "", false},
		{".", "", false},
		{"/..", "", false},
		{"nul\x00byte", "", false},
		{strings.Repeat("x", 256), "", false},
		{strings.Repeat("x", 255), strings.Repeat("x", 255), true},
	}
	for _, tt := range tests {
		got, err := sharedmem.CheckName(tt.in)
		if tt.ok {
			assert.NoError(t, err, "%q", tt.in)
			assert.Equal(t, tt.want, got)
		} else {
			assert.ErrorIs(t, err, sharedmem.ErrInvalidName, "%q", tt.in)
		}
	}
}

func TestCreateOpenCloseUnlink(t *testing.T) {
	m, err := sharedmem.Create("", 10000)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sharedmem.Unlink(m.Name()) })
	assert.True(t, strings.HasPrefix(m.Name(), "psm_") && len(m.Name()) == 12, m.Name())
	assert.Equal(t, "/"+m.Name(), m.TrackerName())
	assert.Equal(t, 10000, m.Size())
	assert.True(t, m.Created())
	copy(m.Bytes(), "hello")

	_, err = sharedmem.Create(m.Name(), 10)
	assert.ErrorIs(t, err, fs.ErrExist, "creating a taken name")

	o, err := sharedmem.Open("/" + m.Name())
	require.NoError(t, err)
	assert.Equal(t, 10000, o.Size())
	assert.False(t, o.Created())
	assert.Equal(t, "hello", string(o.Bytes()[:5]))
	o.Bytes()[5] = '!'
	assert.Equal(t, byte('!'), m.Bytes()[5], "a write through one mapping is seen through the other")
	require.NoError(t, o.Close())
	require.NoError(t, o.Close(), "Close is idempotent")
	assert.Nil(t, o.Bytes())
	assert.True(t, shmExists(m.Name()), "Close does not unlink")

	require.NoError(t, m.Unlink())
	assert.ErrorIs(t, m.Unlink(), fs.ErrNotExist)
	assert.Equal(t, byte('!'), m.Bytes()[5], "the mapping outlives the name")
	require.NoError(t, m.Close())

	_, err = sharedmem.Open(m.Name())
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = sharedmem.Create("x", 0)
	assert.ErrorIs(t, err, sharedmem.ErrInvalidSize)
	_, err = sharedmem.Open("../../etc/passwd")
	assert.ErrorIs(t, err, sharedmem.ErrInvalidName)
}

func TestPickledSharedMemory(t *testing.T) {
	m, err := sharedmem.Create("", 64)
	require.NoError(t, err)
	defer m.Unlink()
	defer m.Close()
	b, err := pickle.Marshal(m)
	require.NoError(t, err)

	var v any
	require.NoError(t, pickle.Unmarshal(b, &v))
	o, ok := v.(*pickle.Object)
	require.True(t, ok, "%T", v)
	assert.Equal(t, sharedmem.GlobalSharedMemory, o.Callable)
	assert.Equal(t, pickle.Tuple{m.Name(), false, int64(64)}, o.Args)

	var m2 sharedmem.SharedMemory
	require.NoError(t, pickle.Unmarshal(b, &m2))
	defer m2.Close()
	m.Bytes()[0] = 42
	assert.Equal(t, byte(42), m2.Bytes()[0])

	bad := []any{
		&pickle.Object{Callable: sharedmem.GlobalSharedMemory, Args: pickle.Tuple{"../x", false, int64(1)}},
		&pickle.Object{Callable: sharedmem.GlobalSharedMemory, Args: pickle.Tuple{m.Name(), true, int64(1)}},
		&pickle.Object{Callable: sharedmem.GlobalSharedMemory, Args: pickle.Tuple{int64(3)}},
		&pickle.Object{Callable: pickle.Global{Module: "os", Name: "system"}, Args: pickle.Tuple{"x"}},
		"psm_x",
	}
	for _, v := range bad {
		_, err := sharedmem.Attach(v)
		assert.Error(t, err, "%v", v)
	}
}

// TestSharedMemoryPython exchanges SharedMemory segments with every Python
// version, both ways, and checks who unlinks what.
func TestSharedMemoryPython(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		shared := startPeer(t, py) // for the subtests that do not need it to exit
		t.Run("Go attaches to a Python segment, both write, Go never unlinks it", func(t *testing.T) {
			p := shared.on(t)
			var name string
			p.do(&name, "shm_create", "size", 5000)
			p.do(nil, "shm_write", "name", name, "offset", 4990, "data", untag([]byte("from python")[:10]))
			m, err := sharedmem.Open(name)
			require.NoError(t, err)
			assert.Equal(t, 5000, m.Size())
			assert.Equal(t, "from pytho", string(m.Bytes()[4990:]))
			copy(m.Bytes()[100:], "from go")
			var got any
			p.do(&got, "shm_read", "name", name, "offset", 100, "length", 7)
			assert.Equal(t, []byte("from go"), tagged(t, got))
			require.NoError(t, m.Close())
			assert.True(t, shmExists(name))
			p.do(nil, "shm_unlink", "name", name) // would raise FileNotFoundError had Go unlinked
		})

		t.Run("pickles travel both ways", func(t *testing.T) {
			p := shared.on(t)
			var name, hexPickle string
			p.do(&name, "shm_create", "size", 256)
			p.do(nil, "shm_write", "name", name, "offset", 0, "data", untag([]byte{1, 2, 3}))
			p.do(&hexPickle, "shm_pickle", "name", name)
			raw, err := hex.DecodeString(hexPickle)
			require.NoError(t, err)
			var v any
			require.NoError(t, pickle.Unmarshal(raw, &v))
			m, err := sharedmem.Attach(v)
			require.NoError(t, err)
			assert.Equal(t, name, m.Name())
			assert.Equal(t, []byte{1, 2, 3}, m.Bytes()[:3])
			require.NoError(t, m.Close())

			g, err := sharedmem.Create("", 512)
			require.NoError(t, err)
			defer g.Close()
			defer sharedmem.Unlink(g.Name())
			copy(g.Bytes(), "0123456789abcdef")
			b, err := pickle.Marshal(g)
			require.NoError(t, err)
			var res []any
			p.do(&res, "shm_unpickle", "pickle", hex.EncodeToString(b))
			assert.Equal(t, g.Name(), res[0])
			assert.Equal(t, 512.0, res[1])
			assert.Equal(t, []byte("0123456789abcdef"), tagged(t, res[2]))
		})
		t.Run("Python attaches to a Go segment", func(t *testing.T) {
			p := shared.on(t)
			m, err := sharedmem.Create("", 3000)
			require.NoError(t, err)
			defer m.Close()
			defer sharedmem.Unlink(m.Name())
			copy(m.Bytes(), "go data")
			var size int
			if py.AtLeast(3, 13) {
				p.do(&size, "shm_attach", "name", m.Name(), "track", false)
			} else {
				p.do(&size, "shm_attach", "name", m.Name())
			}
			assert.Equal(t, 3000, size)
			var got any
			p.do(&got, "shm_read", "name", m.Name(), "offset", 0, "length", 7)
			assert.Equal(t, []byte("go data"), tagged(t, got))
			p.do(nil, "shm_write", "name", m.Name(), "offset", 2990, "data", untag([]byte("py")))
			assert.Equal(t, "py", string(m.Bytes()[2990:2992]))
			if py.AtLeast(3, 13) {
				p.exit()
				time.Sleep(200 * time.Millisecond)
				assert.True(t, shmExists(m.Name()), "3.13 with track=False leaves the Go segment alone after the attacher exits")
			}
		})

		if !py.AtLeast(3, 13) {
			shared.exit() // 3.13 exited above
		}

		t.Run("a tracking Python attacher unlinks the Go segment when it exits", func(t *testing.T) {
			// docs/spec.md#sharedmemory: every SharedMemory() call registers with the
			// attacher's resource tracker (3.13: unless track=False), which
			// unlinks at exit.
			m, err := sharedmem.Create("", 100)
			require.NoError(t, err)
			defer m.Close()
			p := startPeer(t, py)
			p.do(nil, "shm_attach", "name", m.Name())
			p.do(nil, "shm_close", "name", m.Name())
			p.exit()
			assert.True(t, waitGone(m.Name(), 10*time.Second), "Python %s's tracker should unlink %s", py.Version(), m.Name())
			assert.ErrorIs(t, m.Unlink(), fs.ErrNotExist)
			copy(m.Bytes(), "still mapped")
			assert.Equal(t, "still mapped", string(m.Bytes()[:12]))
		})

	})
}
