package connection_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

func pipe(t testing.TB, duplex bool) (*connection.Conn, *connection.Conn) {
	t.Helper()
	return pipeCfg(t, duplex, connection.Config{})
}

func pipeCfg(t testing.TB, duplex bool, cfg connection.Config) (*connection.Conn, *connection.Conn) {
	t.Helper()
	a, b, err := cfg.Pipe(duplex)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// rawPair returns a Conn and the raw socket of its peer, for writing
// arbitrary bytes at it.
func rawPair(t testing.TB, cfg connection.Config) (*connection.Conn, *os.File) {
	t.Helper()
	a, b := pipeCfg(t, true, cfg)
	f, err := b.File()
	require.NoError(t, err)
	require.NoError(t, b.Close())
	t.Cleanup(func() { f.Close() })
	return a, f
}

func readAllRaw(t *testing.T, c *connection.Conn, f *os.File) []byte {
	t.Helper()
	require.NoError(t, c.Close())
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return b
}

func TestWireBytesMatchPython(t *testing.T) {
	// The worked examples of docs/spec.md#frames, written by Python 3.8–3.13.
	c, f := rawPair(t, connection.Config{})
	require.NoError(t, c.SendBytesRange(context.Background(), []byte("abcdefgh"), 2, 3))
	require.NoError(t, c.SendBytes(context.Background(), nil))
	require.NoError(t, c.SendBytes(context.Background(), []byte("hi")))
	assert.Equal(t, "00000003636465"+"00000000"+"000000026869", hexs(readAllRaw(t, c, f)))
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

func TestSendBytesRangeChecksLikePython(t *testing.T) {
	c, _ := pipe(t, true)
	buf := []byte("abcdefgh")
	for _, tc := range []struct {
		offset, size int
		msg          string
	}{
		{-1, 1, "offset is negative"},
		{9, 0, "buffer length < offset"},
		{2, -1, "size is negative"},
		{2, 7, "buffer length < offset + size"},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			err := c.SendBytesRange(context.Background(), buf, tc.offset, tc.size)
			require.ErrorIs(t, err, connection.ErrBadArgument)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	require.NoError(t, c.SendBytesRange(context.Background(), buf, 8, 0), "offset == len with size 0 is allowed")
}

func TestReceiverReadsLargeHeaderForm(t *testing.T) {
	c, f := rawPair(t, connection.Config{})
	_, err := f.Write([]byte("\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x05HELLO\x00\x00\x00\x01!"))
	require.NoError(t, err)
	got, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "HELLO", string(got))
	got, err = c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "!", string(got))
}

func TestEOFAtBoundaryAndInsideFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes string
		clean bool
	}{
		{"EOF before any header byte is a clean io.EOF", "", true},
		{"EOF inside the 4-byte header is unexpected", "\x00\x00", false},
		{"EOF inside the 8-byte large length is unexpected", "\xff\xff\xff\xff\x00\x00", false},
		{"EOF inside the body is unexpected", "\x00\x00\x00\x05abc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := rawPair(t, connection.Config{})
			_, err := f.Write([]byte(tc.bytes))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			_, err = c.RecvBytes(context.Background())
			if tc.clean {
				assert.Equal(t, io.EOF, err, "exactly io.EOF, unwrapped")
				return
			}
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.ErrorIs(t, err, connection.ErrBroken)
			assert.NotErrorIs(t, err, io.EOF)
		})
	}
}

func TestNegativeLengthIsRefused(t *testing.T) {
	c, f := rawPair(t, connection.Config{})
	_, err := f.Write([]byte("\xff\xff\xff\xfb"))
	require.NoError(t, err)
	_, err = c.RecvBytes(context.Background())
	require.ErrorIs(t, err, connection.ErrBadHeader)
	assert.False(t, c.Readable(), "a duplex conn becomes unreadable, as in Python")
	_, err = c.RecvBytes(context.Background())
	assert.ErrorIs(t, err, connection.ErrWriteOnly)
	assert.NoError(t, c.SendBytes(context.Background(), []byte("still writable")))
}

func TestRecvBytesMaxLikePython(t *testing.T) {
	t.Run("a negative maxlength is an argument error", func(t *testing.T) {
		c, _ := pipe(t, true)
		_, err := c.RecvBytesMax(context.Background(), -1)
		require.ErrorIs(t, err, connection.ErrBadArgument)
		assert.Contains(t, err.Error(), "negative maxlength")
	})
	t.Run("a duplex conn becomes unreadable", func(t *testing.T) {
		a, b := pipe(t, true)
		require.NoError(t, b.SendBytes(context.Background(), []byte("0123456789")))
		_, err := a.RecvBytesMax(context.Background(), 9)
		require.ErrorIs(t, err, connection.ErrFrameTooLarge)
		assert.False(t, a.Readable())
		assert.False(t, a.Closed())
		_, err = a.RecvBytes(context.Background())
		assert.ErrorIs(t, err, connection.ErrWriteOnly)
	})
	t.Run("a read-only conn is closed", func(t *testing.T) {
		r, w := pipe(t, false)
		require.NoError(t, w.SendBytes(context.Background(), []byte("0123456789")))
		_, err := r.RecvBytesMax(context.Background(), 9)
		require.ErrorIs(t, err, connection.ErrFrameTooLarge)
		assert.True(t, r.Closed())
	})
	t.Run("a message of exactly maxlength is accepted", func(t *testing.T) {
		a, b := pipe(t, true)
		require.NoError(t, b.SendBytes(context.Background(), []byte("0123456789")))
		got, err := a.RecvBytesMax(context.Background(), 10)
		require.NoError(t, err)
		assert.Equal(t, "0123456789", string(got))
	})
}

func TestMaxFrameOption(t *testing.T) {
	a, b := pipeCfg(t, true, connection.Config{MaxFrame: 100})
	require.NoError(t, b.SendBytes(context.Background(), make([]byte, 100)))
	require.NoError(t, b.SendBytes(context.Background(), make([]byte, 101)))
	_, err := a.RecvBytes(context.Background())
	require.NoError(t, err)
	_, err = a.RecvBytes(context.Background())
	require.ErrorIs(t, err, connection.ErrFrameTooLarge)

	c, f := rawPair(t, connection.Config{}) // the default limit
	hdr := binary.BigEndian.AppendUint32(nil, connection.DefaultMaxFrame+1)
	_, err = f.Write(hdr)
	require.NoError(t, err)
	_, err = c.RecvBytes(context.Background())
	require.ErrorIs(t, err, connection.ErrFrameTooLarge)
}

// TestClaimedHugeFrameDoesNotAllocate: with no limit, a header claiming
// 8 GiB followed by 10 bytes and the end of the stream must not allocate
// 8 GiB (buffers grow only as bytes arrive).
func TestClaimedHugeFrameDoesNotAllocate(t *testing.T) {
	c, f := rawPair(t, connection.Config{MaxFrame: -1})
	_, err := f.Write([]byte("\xff\xff\xff\xff\x00\x00\x00\x02\x00\x00\x00\x00" + "0123456789"))
	require.NoError(t, err)
	go func() {
		time.Sleep(100 * time.Millisecond) // let the reader block on the missing bytes first
		f.Close()
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = c.RecvBytes(context.Background())
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, connection.ErrBroken)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20))
}

// TestDeadlineInsideFrameBreaksStream: a read deadline that expires after
// part of a frame arrived leaves the stream unusable (ErrBroken).
func TestDeadlineInsideFrameBreaksStream(t *testing.T) {
	c, f := rawPair(t, connection.Config{})
	_, err := f.Write([]byte("\x00\x00\x00\x10abc"))
	require.NoError(t, err)
	ok, err := c.PollTimeout(context.Background(), 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	// The header and 3 bytes are already there, so the receive gets them
	// long before the deadline, then waits for the other 13.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
	_, err = c.RecvBytes(context.Background())
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.ErrorIs(t, err, connection.ErrBroken)
	_, err = c.RecvBytes(context.Background())
	assert.ErrorIs(t, err, connection.ErrBroken)
}

func TestRecvBytesInto(t *testing.T) {
	a, b := pipe(t, true)
	require.NoError(t, b.SendBytes(context.Background(), []byte("hello")))
	require.NoError(t, b.SendBytes(context.Background(), []byte("hello world")))
	require.NoError(t, b.SendBytes(context.Background(), []byte("xy")))
	buf := make([]byte, 8)
	n, err := a.RecvBytesInto(context.Background(), buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))
	_, err = a.RecvBytesInto(context.Background(), buf)
	var bts *connection.BufferTooShortError
	require.ErrorAs(t, err, &bts)
	assert.Equal(t, "hello world", string(bts.Message), "the whole message, consumed")
	n, err = a.RecvBytesIntoAt(context.Background(), buf, 6)
	require.NoError(t, err)
	assert.Equal(t, "xy", string(buf[6:6+n]))
	_, err = a.RecvBytesIntoAt(context.Background(), buf, 9)
	assert.ErrorIs(t, err, connection.ErrBadArgument)
}

func TestReadOnlyWriteOnlyEnforced(t *testing.T) {
	r, w := pipe(t, false)
	assert.True(t, r.Readable())
	assert.False(t, r.Writable())
	assert.False(t, w.Readable())
	assert.True(t, w.Writable())
	err := r.SendBytes(context.Background(), []byte("x"))
	assert.ErrorIs(t, err, connection.ErrReadOnly)
	assert.Contains(t, err.Error(), "connection is read-only")
	_, err = w.RecvBytes(context.Background())
	assert.ErrorIs(t, err, connection.ErrWriteOnly)
	_, err = w.PollTimeout(context.Background(), 0)
	assert.ErrorIs(t, err, connection.ErrWriteOnly)
}

func TestDeadlines(t *testing.T) {
	a, b := pipe(t, true)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := a.RecvBytes(context.Background())
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.NotErrorIs(t, err, connection.ErrBroken, "no byte arrived: the conn stays usable")
	require.NoError(t, a.SetReadDeadline(time.Time{}))
	require.NoError(t, b.SendBytes(context.Background(), []byte("later")))
	got, err := a.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "later", string(got))

	// A write deadline that expires while a frame too big for the socket
	// buffers is half sent.
	errc := make(chan error, 1)
	go func() { errc <- b.SendBytes(context.Background(), make([]byte, 64<<20)) }()
	ok, err := a.PollTimeout(context.Background(), 10*time.Second) // the first bytes have arrived
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, b.SetWriteDeadline(time.Now()))
	err = <-errc
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.ErrorIs(t, err, connection.ErrBroken, "half a frame went out")
	assert.ErrorIs(t, b.SendBytes(context.Background(), []byte("x")), connection.ErrBroken, "the send side stays broken")
}

func TestCloseUnblocks(t *testing.T) {
	t.Run("a blocked receive", func(t *testing.T) {
		a, _ := pipe(t, true)
		errc := make(chan error)
		go func() { _, err := a.RecvBytes(context.Background()); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, a.Close())
		select {
		case err := <-errc:
			assert.ErrorIs(t, err, connection.ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock RecvBytes")
		}
		_, err := a.RecvBytes(context.Background())
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.NoError(t, a.Close(), "Close is idempotent")
	})
	t.Run("a blocked send", func(t *testing.T) {
		_, w := pipe(t, false)
		errc := make(chan error)
		go func() { errc <- w.SendBytes(context.Background(), make([]byte, 8<<20)) }()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, w.Close())
		select {
		case err := <-errc:
			assert.ErrorIs(t, err, connection.ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock SendBytes")
		}
	})
	t.Run("a blocked poll", func(t *testing.T) {
		a, _ := pipe(t, true)
		errc := make(chan error)
		go func() { _, err := a.Poll(context.Background()); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, a.Close())
		select {
		case err := <-errc:
			assert.ErrorIs(t, err, connection.ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock Poll")
		}
	})
}

func TestContextCancelsAndRestoresDeadline(t *testing.T) {
	a, b := pipe(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := a.RecvBytes(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The context's deadline must not stick: a later plain receive waits.
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = b.SendBytes(context.Background(), []byte("ok"))
	}()
	got, err := a.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got))

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	assert.ErrorIs(t, a.SendBytes(ctx2, []byte("x")), context.Canceled)
	ok, err := a.PollTimeout(ctx2, time.Second)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestPollAndWaitTimeoutRules: the ctx-first methods report a context's end
// as an error matching ctx.Err(); the …Timeout helpers report their own
// time limit as Python does (False, or no ready Conns) with a nil error.
func TestPollAndWaitTimeoutRules(t *testing.T) {
	a, _ := pipe(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ok, err := a.Poll(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var ne net.Error
	if assert.ErrorAs(t, err, &ne) {
		assert.True(t, ne.Timeout(), "a context deadline is a net.Error with Timeout() true")
	}

	ok, err = a.PollTimeout(context.Background(), 20*time.Millisecond)
	assert.False(t, ok)
	assert.NoError(t, err, "PollTimeout's own limit is Python's False, not an error")

	ctx3, cancel3 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel3()
	ready, err := connection.Wait(ctx3, []*connection.Conn{a})
	assert.Empty(t, ready)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ready, err = connection.WaitTimeout(context.Background(), 20*time.Millisecond, []*connection.Conn{a})
	assert.NoError(t, err)
	assert.Empty(t, ready)
	assert.NotNil(t, ready, "WaitTimeout returns an empty list, as Python's wait does")
}

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		size    uint64
		n       int
		wantErr error
	}{
		{"a small frame", []byte{0, 0, 1, 0, 'x'}, 256, 4, nil},
		{"an empty frame", []byte{0, 0, 0, 0}, 0, 4, nil},
		{"the large form", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0}, 1 << 32, 12, nil},
		{"a truncated small header", []byte{0, 0, 1}, 0, 0, io.ErrUnexpectedEOF},
		{"a truncated large header", []byte{0xff, 0xff, 0xff, 0xff, 0, 0}, 0, 0, io.ErrUnexpectedEOF},
		{"a negative length", []byte{0xff, 0xff, 0xff, 0xfe}, 0, 0, connection.ErrBadHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, n, err := connection.ParseHeader(tc.in)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.size, size)
			assert.Equal(t, tc.n, n)
			// AppendHeader writes what ParseHeader reads.
			assert.Equal(t, tc.in[:n], connection.AppendHeader(nil, int(size)))
		})
	}
}

func TestConfigMaxFrameDefaultsAndUnlimited(t *testing.T) {
	t.Run("zero means DefaultMaxFrame", func(t *testing.T) {
		c, f := rawPair(t, connection.Config{})
		_, err := f.Write(connection.AppendHeader(nil, connection.DefaultMaxFrame+1))
		require.NoError(t, err)
		_, err = c.RecvBytes(context.Background())
		assert.ErrorIs(t, err, connection.ErrFrameTooLarge)
	})
	t.Run("negative means no limit", func(t *testing.T) {
		c, f := rawPair(t, connection.Config{MaxFrame: -1})
		hdr := connection.AppendHeader(nil, connection.DefaultMaxFrame+1)
		_, err := f.Write(hdr)
		require.NoError(t, err)
		f.Close() // the body never comes: the receive fails on EOF, not on the limit
		_, err = c.RecvBytes(context.Background())
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.NotErrorIs(t, err, connection.ErrFrameTooLarge)
	})
}

// TestConcurrentSendersDoNotInterleave: many goroutines send at once while
// one receives; every frame arrives whole (run with -race).
func TestConcurrentSendersDoNotInterleave(t *testing.T) {
	a, b := pipe(t, true)
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + s)}, 10000+s)
			for i := 0; i < each; i++ {
				if err := a.SendBytes(context.Background(), msg); err != nil {
					t.Error(err)
					return
				}
			}
		}(s)
	}
	counts := map[byte]int{}
	for i := 0; i < senders*each; i++ {
		m, err := b.RecvBytes(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, m)
		require.Equal(t, 10000+int(m[0]-'a'), len(m))
		require.Equal(t, bytes.Repeat(m[:1], len(m)), m)
		counts[m[0]]++
	}
	wg.Wait()
	assert.Len(t, counts, senders)
}

func TestFdAndFile(t *testing.T) {
	a, b := pipe(t, true)
	fd := a.Fd()
	assert.Greater(t, fd, 2)
	f, err := b.File()
	require.NoError(t, err)
	defer f.Close()
	c, err := connection.FromFile(f, true, true)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, a.SendBytes(context.Background(), []byte("via a new description")))
	got, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "via a new description", string(got))

	_, err = connection.FromFD(1<<20, true, true)
	assert.Error(t, err)
	_, err = connection.FromFD(fd, false, false)
	assert.ErrorIs(t, err, connection.ErrBadArgument)
}

func TestNewConnOverNetPipe(t *testing.T) {
	x, y := net.Pipe()
	a, b := connection.NewConn(x), connection.NewConn(y)
	defer a.Close()
	defer b.Close()
	go func() { _ = a.SendBytes(context.Background(), []byte("over net.Pipe")) }()
	got, err := b.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "over net.Pipe", string(got))
	_, err = b.PollTimeout(context.Background(), 0)
	assert.ErrorIs(t, err, connection.ErrNoFD)
	assert.Equal(t, -1, b.Fd())
}

// TestFrameLargerThan2GiB sends and receives one frame of 2^31+16 bytes,
// which uses the 12-byte header both ways. It needs ~5 GiB of memory and
// runs only with MPWIRE_BIG=1.
func TestFrameLargerThan2GiB(t *testing.T) {
	if os.Getenv("MPWIRE_BIG") != "1" || testing.Short() {
		t.Skip("set MPWIRE_BIG=1 (and no -short) to move a > 2 GiB frame; needs ~5 GiB of RAM")
	}
	n := 1<<31 + 16
	a, b := pipeCfg(t, true, connection.Config{MaxFrame: -1})
	payload := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		payload[i] = byte(i >> 12)
	}
	payload[n-1] = 0xEE
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- a.SendBytes(context.Background(), payload) }()
	got, err := b.RecvBytes(context.Background())
	require.NoError(t, err)
	require.NoError(t, <-errc)
	t.Logf("moved %d bytes in one frame in %v", n, time.Since(start))
	require.Equal(t, n, len(got))
	assert.Equal(t, byte(0xEE), got[n-1])
	for i := 0; i < n; i += 4096 {
		if got[i] != byte(i>>12) {
			t.Fatalf("byte %d differs", i)
		}
	}
}

// TestFromFDKeepsSharedDescriptionBlocking: a descriptor inherited from
// Python shares its open file description with Python processes, which
// need blocking mode; FromFD must not leave it non-blocking.
func TestFromFDKeepsSharedDescriptionBlocking(t *testing.T) {
	check := func(t *testing.T, shared, ours int, readable, writable bool) {
		c, err := connection.FromFD(ours, readable, writable)
		require.NoError(t, err)
		defer c.Close()
		flags, err := unix.FcntlInt(uintptr(shared), unix.F_GETFL, 0)
		require.NoError(t, err)
		assert.Zero(t, flags&unix.O_NONBLOCK, "the shared description became non-blocking")
		assert.Equal(t, ours, c.Fd(), "FromFD keeps the fd number")
	}
	t.Run("pipe", func(t *testing.T) {
		var p [2]int
		var perr error
		p[0], p[1], perr = sysfd.Pipe(false)
		require.NoError(t, perr)
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		dupR, err := unix.FcntlInt(uintptr(p[0]), unix.F_DUPFD_CLOEXEC, 0)
		require.NoError(t, err)
		check(t, p[0], dupR, true, false)
		dupW, err := unix.FcntlInt(uintptr(p[1]), unix.F_DUPFD_CLOEXEC, 0)
		require.NoError(t, err)
		check(t, p[1], dupW, false, true)
	})
	t.Run("socket", func(t *testing.T) {
		fds, err := sysfd.Socketpair()
		require.NoError(t, err)
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		dup, err := unix.FcntlInt(uintptr(fds[0]), unix.F_DUPFD_CLOEXEC, 0)
		require.NoError(t, err)
		check(t, fds[0], dup, true, true)
	})
}

// TestRecvLargeBytesIsNotCopiedTwice: a bytes value in a message larger than
// the reused receive buffer is a slice of that message's own buffer (one
// copy of the data, not two), and later messages leave it unchanged.
func TestRecvLargeBytesIsNotCopiedTwice(t *testing.T) {
	a, b, err := connection.Pipe(true)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	const size = 3 << 20
	x, err := pickle.Marshal(bytes.Repeat([]byte{'x'}, size))
	require.NoError(t, err)
	y, err := pickle.Marshal(bytes.Repeat([]byte{'y'}, size))
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		err := a.SendBytes(ctx, x)
		if err == nil {
			err = a.SendBytes(ctx, y)
		}
		errc <- err
	}()
	recv := func() []byte {
		var v any
		require.NoError(t, b.Recv(ctx, &v))
		got, ok := v.([]byte)
		require.True(t, ok, "%T", v)
		require.Len(t, got, size)
		return got
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	first := recv()
	runtime.ReadMemStats(&after)
	// The frame buffer grows 1, 2, 3 MiB as the bytes arrive (6 MiB in
	// all); a copy of the value would add another 3 MiB.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2*size+size/2), "bytes allocated by one Recv of a %d-byte value", size)

	second := recv()
	require.NoError(t, <-errc)
	assert.Equal(t, bytes.Repeat([]byte{'x'}, size), first)
	assert.Equal(t, bytes.Repeat([]byte{'y'}, size), second)

	// A small message still decodes into a copy of the reused buffer.
	go func() { _ = a.Send(ctx, []byte("small")) }()
	var v any
	require.NoError(t, b.Recv(ctx, &v))
	assert.Equal(t, []byte("small"), v)
}
