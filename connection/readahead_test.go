package connection_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
)

// TestReadAhead: with Config.ReadAhead a receive reads beyond its frame
// and keeps the rest: frames of every size around the buffer's (and the
// large header form's cut) arrive whole and in order, whichever receive
// method reads them; Poll and Wait see frames already read ahead; the end
// of the stream comes after the last buffered frame.
func TestReadAhead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, ra := range []int{1, 7, 64, 4096} {
		a, b := pipeCfg(t, true, connection.Config{ReadAhead: ra})
		sizes := []int{0, 1, 3, 4, 5, 60, 63, 64, 65, 100, 4091, 4092, 4096, 4097, 70000, 0, 2}
		go func() {
			for i, n := range sizes {
				msg := bytes.Repeat([]byte{byte(i + 1)}, n)
				if err := b.SendBytes(ctx, msg); err != nil {
					t.Error(err)
					return
				}
			}
			b.Close()
		}()
		// Let everything arrive, so the first receive reads ahead.
		time.Sleep(50 * time.Millisecond)
		buf := make([]byte, 100000)
		for i, n := range sizes {
			ready, err := a.PollTimeout(ctx, 0)
			require.NoError(t, err)
			require.True(t, ready, "ReadAhead %d: frame %d (%d bytes) is pending", ra, i, n)
			ready2, err := connection.WaitTimeout(ctx, 0, []*connection.Conn{a})
			require.NoError(t, err)
			require.Len(t, ready2, 1)
			want := bytes.Repeat([]byte{byte(i + 1)}, n)
			var got []byte
			switch i % 3 {
			case 0:
				got, err = a.RecvBytes(ctx)
			case 1:
				var k int
				k, err = a.RecvBytesInto(ctx, buf)
				got = buf[:k]
			default:
				var v []byte
				v, err = a.RecvBytesMax(ctx, 1<<20)
				got = v
			}
			require.NoError(t, err, "ReadAhead %d, frame %d", ra, i)
			require.True(t, bytes.Equal(want, got), "ReadAhead %d, frame %d: %d bytes, want %d", ra, i, len(got), len(want))
		}
		_, err := a.RecvBytes(ctx)
		require.ErrorIs(t, err, io.EOF)
	}
}

// TestReadAheadRequestReply: the manager's pattern, one small message each
// way at a time, with read-ahead on both ends.
func TestReadAheadRequestReply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := pipeCfg(t, true, connection.Config{ReadAhead: 4096})
	go func() {
		for {
			m, err := b.RecvBytes(ctx)
			if err != nil {
				return
			}
			if err := b.SendBytes(ctx, append(m, '!')); err != nil {
				return
			}
		}
	}()
	for i := 0; i < 1000; i++ {
		msg := bytes.Repeat([]byte("x"), i)
		require.NoError(t, a.SendBytes(ctx, msg))
		got, err := a.RecvBytes(ctx)
		require.NoError(t, err)
		require.Equal(t, append(msg, '!'), got)
	}
}
