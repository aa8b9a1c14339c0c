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

// TestUnread: bytes given back with Unread come before what is still in
// the descriptor, with or without a read-ahead buffer, and Poll and
// Buffered see them; a closed Conn refuses them.
func TestUnread(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, ra := range []int{-1, 0, 8, 4096} {
		a, b := pipeCfg(t, true, connection.Config{ReadAhead: ra})
		require.NoError(t, b.SendBytes(ctx, []byte("second")))
		require.NoError(t, b.SendBytes(ctx, []byte("third")))
		// "first" as a whole frame, before the two in the descriptor.
		first := append(connection.AppendHeader(nil, 5), "first"...)
		require.NoError(t, a.Unread(first))
		require.Equal(t, len(first), a.Buffered())
		ready, err := a.PollTimeout(ctx, 0)
		require.NoError(t, err)
		require.True(t, ready)
		got, err := a.RecvBytes(ctx)
		require.NoError(t, err)
		require.Equal(t, "first", string(got))
		got, err = a.RecvBytes(ctx)
		require.NoError(t, err)
		require.Equal(t, "second", string(got))
		require.NoError(t, a.Unread(nil))
		got, err = a.RecvBytes(ctx)
		require.NoError(t, err)
		require.Equal(t, "third", string(got))
		// The unread header and first byte of a frame, then the rest from
		// the descriptor (written raw by a second frame's bytes).
		a2, b2 := pipeCfg(t, true, connection.Config{ReadAhead: ra})
		whole := append(connection.AppendHeader(nil, 6), "fourth"...)
		require.NoError(t, a2.Unread(whole[:5]))
		f, err := b2.File()
		require.NoError(t, err)
		_, err = f.Write(whole[5:])
		require.NoError(t, err)
		f.Close()
		got, err = a2.RecvBytes(ctx)
		require.NoError(t, err)
		require.Equal(t, "fourth", string(got))
		require.Equal(t, 0, a2.Buffered())
		require.NoError(t, a.Close())
		require.ErrorIs(t, a.Unread([]byte("x")), connection.ErrClosed)
	}
}

// TestContextReusedAcrossCalls: a Conn used with the same context call
// after call (which it keeps watching) is still interrupted when that
// context ends, its deadline comes back, and contexts per call keep
// working.
func TestContextReusedAcrossCalls(t *testing.T) {
	a, b := pipeCfg(t, true, connection.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; i < 5; i++ {
		require.NoError(t, b.SendBytes(ctx, []byte("x")))
		_, err := a.RecvBytes(ctx)
		require.NoError(t, err)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		cancel()
	}()
	_, err := a.RecvBytes(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, b.SendBytes(ctx, []byte("y")), context.Canceled)
	// A context per call, one of which runs out.
	for i := 0; i < 5; i++ {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		require.NoError(t, b.SendBytes(c, []byte("z")))
		got, err := a.RecvBytes(c)
		cancel()
		require.NoError(t, err)
		require.Equal(t, "z", string(got))
	}
	c, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err = a.RecvBytes(c)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// No deadline left behind: a plain receive waits for the frame.
	go func() {
		time.Sleep(40 * time.Millisecond)
		_ = b.SendBytes(context.Background(), []byte("ok"))
	}()
	got, err := a.RecvBytes(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ok", string(got))
	require.NoError(t, a.Close())
	_, err = a.RecvBytes(ctx)
	require.Error(t, err)
}
