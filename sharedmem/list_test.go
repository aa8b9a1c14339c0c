package sharedmem_test

import (
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/sharedmem"
)

// sample is the list used throughout: every kind, a multi-byte string, a
// string whose length is a multiple of 8 (Python gives it 8 spare bytes)
// and trailing-NUL bytes (lost on read, as in Python).
var sample = []any{int64(7), 2.5, "hi", []byte{1, 2}, nil, true, int64(-3), "ünï", "12345678", false, []byte{}, ""}

func newList(t *testing.T, items []any, layout sharedmem.Layout) *sharedmem.ShareableList {
	t.Helper()
	l, err := sharedmem.CreateShareableList("", items, layout)
	require.NoError(t, err)
	t.Cleanup(func() {
		l.Close()
		_ = sharedmem.Unlink(l.Name())
	})
	return l
}

func TestShareableListLayouts(t *testing.T) {
	// The docs/spec.md#shareablelist example: 166 bytes in 3.9+, 158 in 3.8.
	items := []any{int64(7), 2.5, "hi", []byte{1, 2}, nil, true}
	for _, tt := range []struct {
		layout sharedmem.Layout
		size   int
		header []int64
	}{
		{sharedmem.Layout39, 166, []int64{6, 0, 8, 16, 24, 32, 40, 48}},
		{sharedmem.Layout38, 158, []int64{6, 8, 8, 8, 8, 8, 8}},
	} {
		t.Run(tt.layout.String(), func(t *testing.T) {
			l := newList(t, items, tt.layout)
			buf := l.SharedMemory().Bytes()
			require.Len(t, buf, tt.size)
			for i, want := range tt.header {
				assert.Equal(t, want, int64(binary.LittleEndian.Uint64(buf[8*i:])), "header word %d", i)
			}
			f, err := l.Format()
			require.NoError(t, err)
			assert.Equal(t, "qd8s8sxxxxxx?xxxxxxxx?", f)
			assert.Equal(t, []byte{0, 0, 1, 2, 3, 0}, buf[len(buf)-6:])

			o, err := sharedmem.OpenShareableList(l.Name())
			require.NoError(t, err)
			defer o.Close()
			assert.Equal(t, tt.layout, o.Layout(), "recognised from the header")
			got, err := o.Items()
			require.NoError(t, err)
			assert.Equal(t, items, got)
		})
	}
}

func TestShareableListGetSet(t *testing.T) {
	for _, layout := range []sharedmem.Layout{sharedmem.Layout38, sharedmem.Layout39} {
		t.Run(layout.String(), func(t *testing.T) {
			l := newList(t, sample, layout)
			require.Equal(t, len(sample), l.Len())
			got, err := l.Items()
			require.NoError(t, err)
			assert.Equal(t, sample, got)

			v, err := l.Get(-1)
			require.NoError(t, err)
			assert.Equal(t, "", v)
			_, err = l.Get(len(sample))
			assert.ErrorIs(t, err, sharedmem.ErrIndex)
			_, err = l.Get(-len(sample) - 1)
			assert.ErrorIs(t, err, sharedmem.ErrIndex)

			// Any kind replaces any other where it fits.
			require.NoError(t, l.Set(0, "int->s"))
			require.NoError(t, l.Set(2, 42))
			require.NoError(t, l.Set(3, uint8(9)))
			require.NoError(t, l.Set(4, float32(0.5)))
			require.NoError(t, l.Set(-1, []byte("abcdefg")))
			require.NoError(t, l.Set(7, "ünïcø"), "8 UTF-8 bytes fill the slot of \"ünï\"")
			cap7, err := l.Capacity(7)
			require.NoError(t, err)
			assert.Equal(t, 8, cap7)
			assert.ErrorIs(t, l.Set(8, "123456789012345678"), sharedmem.ErrCapacity)
			require.NoError(t, l.Set(8, "1234567890123456"), "'12345678' got a 16-byte slot")
			assert.ErrorIs(t, l.Set(1, "too long for 8"), sharedmem.ErrCapacity)
			assert.ErrorIs(t, l.Set(1, uint64(1<<63)), sharedmem.ErrRange)
			assert.ErrorIs(t, l.Set(1, struct{}{}), sharedmem.ErrType)
			assert.ErrorIs(t, l.Set(99, 1), sharedmem.ErrIndex)
			got, err = l.Items()
			require.NoError(t, err)
			assert.Equal(t, []any{"int->s", 2.5, int64(42), int64(9), 0.5, true, int64(-3), "ünïcø",
				"1234567890123456", false, []byte{}, []byte("abcdefg")}, got)

			n, err := l.Count(int64(1))
			require.NoError(t, err)
			assert.Equal(t, 1, n, "True == 1")
			i, err := l.Index(42.0)
			require.NoError(t, err)
			assert.Equal(t, 2, i)
			_, err = l.Index("absent")
			assert.ErrorIs(t, err, sharedmem.ErrIndex)

			require.NoError(t, l.Close())
			_, err = l.Get(0)
			assert.ErrorIs(t, err, sharedmem.ErrClosed)
		})
	}
}

func TestShareableListEmpty(t *testing.T) {
	for _, layout := range []sharedmem.Layout{sharedmem.Layout38, sharedmem.Layout39} {
		l := newList(t, nil, layout)
		assert.Equal(t, 0, l.Len())
		o, err := sharedmem.OpenShareableList(l.Name())
		require.NoError(t, err)
		assert.Equal(t, layout, o.Layout())
		o.Close()
	}
}

func TestShareableListPickle(t *testing.T) {
	l := newList(t, []any{int64(1)}, sharedmem.LayoutAuto)
	b, err := pickle.Marshal(l)
	require.NoError(t, err)
	var v any
	require.NoError(t, pickle.Unmarshal(b, &v))
	name, err := sharedmem.ListName(v)
	require.NoError(t, err)
	assert.Equal(t, l.Name(), name)
	_, err = sharedmem.ListName(&pickle.Object{Callable: sharedmem.GlobalShareableList})
	assert.ErrorIs(t, err, sharedmem.ErrBadState)
}

// TestShareableListPython exchanges ShareableLists with every Python
// version in the layout that version uses.
func TestShareableListPython(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		want := sharedmem.LayoutFor(py.Major, py.Minor)
		// Python sizes str slots by character count: keep these ASCII so
		// Python does not truncate them itself.
		pyItems := []any{int64(7), 2.5, "hi", []byte{1, 2}, nil, true, int64(-3), "12345678", false, []byte{}, ""}

		shared := startPeer(t, py)
		t.Run("Go reads and writes a Python list", func(t *testing.T) {
			p := shared.on(t)
			var name string
			p.do(&name, "sl_create", "items", untag(pyItems))
			l, err := sharedmem.OpenShareableList(name)
			require.NoError(t, err)
			defer l.Close()
			assert.Equal(t, want, l.Layout(), "layout recognised from the header")
			got, err := l.Items()
			require.NoError(t, err)
			assert.Equal(t, pyItems, got)

			require.NoError(t, l.Set(0, "go!"))
			require.NoError(t, l.Set(2, 1.25))
			require.NoError(t, l.Set(7, "ünïcødé"), "12 bytes fit the 16-byte slot")
			require.NoError(t, l.Set(4, []byte("bytes")))
			assert.ErrorIs(t, l.Set(3, "more than 8 bytes"), sharedmem.ErrCapacity)
			var res []any
			p.do(&res, "sl_read", "name", name)
			assert.Equal(t, []any{"go!", 2.5, 1.25, map[string]any{"bytes": "0102"}, map[string]any{"bytes": hex.EncodeToString([]byte("bytes"))},
				true, -3.0, "ünïcødé", false, map[string]any{"bytes": ""}, ""}, res[0])
			f, err := l.Format()
			require.NoError(t, err)
			assert.Equal(t, res[1], f, "Go and Python agree on .format")

			// Python's own capacity error on the slot Go sized.
			r := p.call("sl_set", "name", name, "index", 3, "value", "more than 8 bytes")
			assert.Equal(t, "ValueError", r.Error)
			assert.Equal(t, sharedmem.ErrCapacity.Error(), r.Message)
		})

		t.Run("Python reads and writes a Go list", func(t *testing.T) {
			l := newList(t, sample, want)
			p := shared.on(t)
			var n int
			p.do(&n, "sl_attach", "name", l.Name())
			assert.Equal(t, len(sample), n)
			var res []any
			p.do(&res, "sl_read", "name", l.Name())
			assert.Equal(t, sample, tagged(t, untagJSON(res[0])))
			p.do(nil, "sl_set", "name", l.Name(), "index", 1, "value", "py")
			p.do(nil, "sl_set", "name", l.Name(), "index", 5, "value", nil)
			p.do(nil, "sl_set", "name", l.Name(), "index", -2, "value", 12345678901)
			p.do(nil, "sl_set", "name", l.Name(), "index", 8, "value", "sixteen_bytes_ok")
			r := p.call("sl_set", "name", l.Name(), "index", 2, "value", "123456789")
			assert.Equal(t, "ValueError", r.Error, "a str longer than its slot")
			got, err := l.Items()
			require.NoError(t, err)
			assert.Equal(t, []any{int64(7), "py", "hi", []byte{1, 2}, nil, nil, int64(-3), "ünï", "sixteen_bytes_ok", false, int64(12345678901), ""}, got)

			var pk string
			p.do(&pk, "sl_pickle", "name", l.Name())
			raw, err := hex.DecodeString(pk)
			require.NoError(t, err)
			var v any
			require.NoError(t, pickle.Unmarshal(raw, &v))
			o, err := sharedmem.AttachList(v)
			require.NoError(t, err)
			assert.Equal(t, l.Name(), o.Name())
			o.Close()

			b, err := pickle.Marshal(l)
			require.NoError(t, err)
			var items []any
			p.do(&items, "sl_unpickle", "pickle", hex.EncodeToString(b))
			assert.Len(t, items, len(sample))
		})
		shared.exit()
	})
}

// untagJSON maps JSON numbers of whole value back to the int64 the list holds.
func untagJSON(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = untagJSON(e)
		}
		return out
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

// TestShareableListTruncated: another process shrinking the segment under
// an open list makes accesses fault; the list reports an error instead of
// crashing.
func TestShareableListTruncated(t *testing.T) {
	items := make([]any, 600) // 600 str slots of 8 bytes: the data spans pages
	for i := range items {
		items[i] = "x"
	}
	l := newList(t, items, sharedmem.Layout39)
	require.NoError(t, os.Truncate("/dev/shm/"+l.Name(), 100))
	_, err := l.Get(599)
	assert.ErrorIs(t, err, sharedmem.ErrCorrupt)
	assert.ErrorIs(t, l.Set(599, "y"), sharedmem.ErrCorrupt)
	_, err = sharedmem.OpenShareableList(l.Name())
	assert.ErrorIs(t, err, sharedmem.ErrCorrupt, "the shrunken segment no longer holds its header")
}
