//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// createTemp creates a /dev/shm semaphore for one test and removes it after.
func createTemp(t testing.TB, value uint32) *Sem {
	t.Helper()
	s, err := CreateRandom("/mp", value)
	require.NoError(t, err)
	t.Cleanup(func() {
		s.Close()
		Unlink(s.Name())
	})
	return s
}

func semFile(dir string, value uint32, private uint32, size int) []byte {
	b := make([]byte, size)
	if size >= 12 {
		binary.LittleEndian.PutUint64(b, uint64(value))
		binary.LittleEndian.PutUint32(b[8:], private)
	}
	return b
}

func TestCreateMatchesGlibc(t *testing.T) {
	s := createTemp(t, 3)
	assert.Regexp(t, `^/mp-[a-z0-9_]{8}$`, s.Name())
	path := "/dev/shm/sem." + s.Name()[1:]
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, semFile("", 3, FutexShared, SemSize), b)
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular())
	assert.Zero(t, fi.Mode().Perm()&^0o600, "mode %v", fi.Mode())
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	assert.Contains(t, string(maps), path+"\n", "the mapping is made through the final name")

	_, err = Create(s.Name(), 1)
	assert.ErrorIs(t, err, fs.ErrExist)
	b2, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, b, b2, "a failed create must not touch the existing semaphore")

	require.NoError(t, Unlink(s.Name()))
	assert.ErrorIs(t, Unlink(s.Name()), fs.ErrNotExist)
	_, err = Open(s.Name())
	assert.ErrorIs(t, err, fs.ErrNotExist)
	ok, err := s.TryAcquire()
	require.NoError(t, err)
	assert.True(t, ok, "the mapping outlives the name")
}

func TestCreateInPrivateDirectory(t *testing.T) {
	t.Run("with O_TMPFILE", func(t *testing.T) { testCreateIn(t) })
	t.Run("with a named temporary file, as glibc", func(t *testing.T) {
		testNamedTemp = true
		defer func() { testNamedTemp = false }()
		testCreateIn(t)
	})
}

// testCreateIn checks that creation leaves exactly the final file behind,
// also when the name is taken.
func testCreateIn(t *testing.T) {
	dir := t.TempDir()
	s, err := createIn(dir, "/mp-xyz", 2)
	require.NoError(t, err)
	defer s.Close()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "sem.mp-xyz", ents[0].Name())
	o, err := openIn(dir, "mp-xyz")
	require.NoError(t, err)
	defer o.Close()
	v, err := o.Value()
	require.NoError(t, err)
	assert.Equal(t, 2, v)
	_, err = createIn(dir, "/mp-xyz", 2)
	assert.ErrorIs(t, err, fs.ErrExist)
	ents, _ = os.ReadDir(dir)
	assert.Len(t, ents, 1, "no temporary file left behind")
	require.NoError(t, unlinkIn(dir, "/mp-xyz"))
}

func TestCreateRandomRetriesLikePython(t *testing.T) {
	dir := t.TempDir()
	taken, err := createIn(dir, "/mp-taken", 0)
	require.NoError(t, err)
	defer taken.Close()
	calls := 0
	_, err = createRandomIn(dir, "/mp", 1, func(string) string { calls++; return "/mp-taken" })
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), "cannot find name for semaphore")
	assert.Equal(t, 100, calls, "SemLock.__init__ tries 100 names")

	calls = 0
	s, err := createRandomIn(dir, "/mp", 1, func(p string) string {
		calls++
		if calls < 3 {
			return "/mp-taken"
		}
		return p + "-fresh"
	})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "/mp-fresh", s.Name())

	for i := 0; i < 200; i++ {
		require.Regexp(t, `^/mp-[a-z0-9_]{8}$`, RandomName("/mp"))
	}
}

func TestNames(t *testing.T) {
	long := strings.Repeat("a", nameMax-len(semFilePrefix))
	cases := []struct {
		name string
		file string
		err  error
	}{
		{"/mp-abc", "sem.mp-abc", nil},
		{"mp-abc", "sem.mp-abc", nil},
		{"///mp-abc", "sem.mp-abc", nil},
		{"/" + long, "sem." + long, nil},
		{"/" + long + "a", "", unix.ENAMETOOLONG},
		{"", "", unix.EINVAL},
		{"/", "", unix.EINVAL},
		{"/.", "", unix.EINVAL},
		{"/..", "", unix.EINVAL},
		{"/a/b", "", unix.EINVAL},
		{"/a\x00b", "", unix.EINVAL},
	}
	for _, c := range cases {
		got, err := fileName(c.name)
		if c.err != nil {
			assert.ErrorIs(t, err, c.err, "%q", c.name)
			assert.ErrorIs(t, err, ErrInvalidName, "%q", c.name)
			continue
		}
		require.NoError(t, err, "%q", c.name)
		assert.Equal(t, c.file, got)
	}
	_, err := Create("/a/b", 0)
	assert.ErrorIs(t, err, ErrInvalidName)
	assert.ErrorIs(t, Unlink(""), ErrInvalidName)
}

func TestOpenRejectsWhatIsNotASemaphore(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "sem."+name), b, 0o600))
	}
	write("ok", semFile(dir, 5, FutexShared, SemSize))
	write("long", semFile(dir, 5, FutexShared, 64))
	write("short", semFile(dir, 5, FutexShared, SemSize-1))
	write("empty", nil)
	write("private", semFile(dir, 1, 0, SemSize))
	write("toobig", semFile(dir, SemValueMax+1, FutexShared, SemSize))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sem.dir"), 0o700))
	require.NoError(t, os.Symlink(filepath.Join(dir, "sem.ok"), filepath.Join(dir, "sem.link")))
	require.NoError(t, unix.Mkfifo(filepath.Join(dir, "sem.fifo"), 0o600))

	for _, name := range []string{"ok", "long"} {
		s, err := openIn(dir, "/"+name)
		require.NoError(t, err, name)
		v, err := s.Value()
		require.NoError(t, err)
		assert.Equal(t, 5, v)
		require.NoError(t, s.Close())
	}
	for _, c := range []struct {
		name string
		want error
	}{
		{"short", ErrInvalid}, {"empty", ErrInvalid}, {"private", ErrInvalid},
		{"toobig", ErrInvalid}, {"fifo", ErrInvalid},
		{"dir", unix.EISDIR}, {"link", unix.ELOOP}, {"missing", fs.ErrNotExist},
	} {
		_, err := openIn(dir, "/"+c.name)
		assert.ErrorIs(t, err, c.want, c.name)
	}
}

func TestReleaseOverflow(t *testing.T) {
	s := createTemp(t, SemValueMax-1)
	require.NoError(t, s.Release())
	err := s.Release()
	assert.ErrorIs(t, err, ErrOverflow)
	assert.ErrorIs(t, err, unix.EOVERFLOW)
	v, err := s.Value()
	require.NoError(t, err)
	assert.Equal(t, SemValueMax, v)
	_, err = Create("/mp-mpwtoobig", SemValueMax+1)
	assert.ErrorIs(t, err, ErrInvalidValue)
}

func TestTimeoutsAndCancellation(t *testing.T) {
	s := createTemp(t, 0)
	ok, err := s.TryAcquire()
	require.NoError(t, err)
	assert.False(t, ok)

	start := time.Now()
	ok, err = s.AcquireTimeout(60 * time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "the deadline is honoured, not cut short")

	ok, err = s.AcquireTimeout(-time.Second)
	require.NoError(t, err)
	assert.False(t, ok, "a negative timeout only tries")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	assert.ErrorIs(t, s.Acquire(ctx), context.Canceled)
	assert.ErrorIs(t, s.Acquire(ctx), context.Canceled, "an already-cancelled context")

	// start is taken before the context: its deadline is 70ms from its
	// creation, so timing from after it could read a few µs short.
	start = time.Now()
	dctx, dcancel := context.WithTimeout(context.Background(), 70*time.Millisecond)
	defer dcancel()
	assert.ErrorIs(t, s.Acquire(dctx), context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 70*time.Millisecond)

	w, err := s.Waiters()
	require.NoError(t, err)
	assert.Zero(t, w, "waiters that gave up deregistered")

	// A unit that is available wins over an already-cancelled context's
	// slow path: the fast path never looks at the context.
	require.NoError(t, s.Release())
	assert.NoError(t, s.Acquire(ctx))
}

func TestWakeAcrossMappings(t *testing.T) {
	a := createTemp(t, 0)
	b, err := Open(a.Name())
	require.NoError(t, err)
	defer b.Close()
	const waiters = 3
	res := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			ok, err := a.AcquireTimeout(30 * time.Second)
			if err == nil && !ok {
				err = errors.New("timed out")
			}
			res <- err
		}()
	}
	require.Eventually(t, func() bool { w, _ := b.Waiters(); return w == waiters }, 10*time.Second, time.Millisecond)
	for i := 0; i < waiters; i++ {
		require.NoError(t, b.Release())
		require.NoError(t, <-res)
	}
	w, err := b.Waiters()
	require.NoError(t, err)
	assert.Zero(t, w)
}

func TestCloseUnblocksWaiters(t *testing.T) {
	s := createTemp(t, 0)
	other, err := Open(s.Name())
	require.NoError(t, err)
	defer other.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); errs <- s.Acquire(context.Background()) }()
	go func() { defer wg.Done(); _, err := s.AcquireTimeout(time.Hour); errs <- err }()
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		errs <- s.Acquire(ctx)
	}()
	require.Eventually(t, func() bool { w, _ := other.Waiters(); return w == 3 }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, ErrClosed)
	}
	w, err := other.Waiters()
	require.NoError(t, err)
	assert.Zero(t, w)
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.TryAcquire()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, s.Release(), ErrClosed)
	_, err = s.Value()
	assert.ErrorIs(t, err, ErrClosed)
	assert.Zero(t, s.Handle())
}

func TestSemLockArguments(t *testing.T) {
	_, err := NewSemLockRandom(Kind(2), 1, 1)
	assert.ErrorIs(t, err, ErrKind)
	_, err = NewSemLockRandom(Semaphore, -1, 1)
	assert.ErrorIs(t, err, ErrInvalidValue)
	_, err = NewSemLockRandom(Semaphore, 1, 1<<40)
	assert.Error(t, err)
	_, err = Rebuild(State{Kind: Semaphore, MaxValue: 1})
	assert.ErrorIs(t, err, ErrNoName)
	_, err = Rebuild(State{Kind: Semaphore, MaxValue: 1, Name: "/mp-mpwnone00"})
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, "RECURSIVE_MUTEX", RecursiveMutex.String())
	assert.Equal(t, "SEMAPHORE", Semaphore.String())
}

func TestSemLockLocal(t *testing.T) {
	l, err := NewRLock()
	require.NoError(t, err)
	defer l.Unlink()
	defer l.Close()
	assert.ErrorIs(t, l.Release(), ErrNotOwner)
	for i := 0; i < 3; i++ {
		require.NoError(t, l.Acquire(context.Background()))
	}
	assert.Equal(t, 3, l.Count())
	zero, err := l.IsZero()
	require.NoError(t, err)
	assert.True(t, zero)

	c, err := l.Clone()
	require.NoError(t, err)
	res := make(chan error, 1)
	go func() { res <- c.Acquire(context.Background()) }()
	for i := 0; i < 3; i++ {
		require.NoError(t, l.Release())
	}
	require.NoError(t, <-res)
	assert.True(t, c.IsMine())
	assert.False(t, l.IsMine())
	require.NoError(t, c.Release())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err = c.TryAcquire()
	assert.ErrorIs(t, err, ErrClosed)
	ok, err := l.TryAcquire()
	require.NoError(t, err)
	assert.True(t, ok, "closing a clone keeps the mapping")
	require.NoError(t, l.Release())

	st := l.State()
	assert.Equal(t, State{Handle: st.Handle, Kind: RecursiveMutex, MaxValue: 1, Name: l.Name()}, st)
	r, err := Rebuild(st)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, RecursiveMutex, r.Kind())
	assert.Equal(t, 1, r.MaxValue())
}

func TestParseState(t *testing.T) {
	big1 := new(big.Int).SetUint64(0x7f8f7afc3000)
	st, err := ParseState([]any{big1, int64(1), int32(1), "/mp-u4jerdd2"})
	require.NoError(t, err)
	assert.Equal(t, State{Handle: 0x7f8f7afc3000, Kind: Semaphore, MaxValue: 1, Name: "/mp-u4jerdd2"}, st)
	assert.Equal(t, "Lock", st.PythonClass())
	back, err := ParseState(st.Tuple())
	require.NoError(t, err)
	assert.Equal(t, st, back)

	st, err = ParseState([]any{uint64(1), 0, 1, nil})
	require.NoError(t, err)
	assert.Equal(t, "", st.Name)
	assert.Equal(t, "RLock", st.PythonClass())
	assert.Nil(t, st.Tuple()[3])
	assert.Equal(t, "Semaphore", State{Kind: Semaphore, MaxValue: SemValueMax}.PythonClass())
	assert.Equal(t, "BoundedSemaphore", State{Kind: Semaphore, MaxValue: 3}.PythonClass())

	for _, bad := range [][]any{
		nil,
		{1, 1, 1},
		{-1, 1, 1, "/x"},
		{1, 2, 1, "/x"},
		{1, 1, int64(1) << 40, "/x"},
		{1, 1.0, 1, "/x"},
		{1, 1, 1, []byte("/x")},
		{(*big.Int)(nil), 1, 1, "/x"},
	} {
		_, err := ParseState(bad)
		assert.Error(t, err, "%v", bad)
	}
}

func TestHugeTimeoutStillWakes(t *testing.T) {
	s := createTemp(t, 0)
	res := make(chan error, 1)
	go func() {
		ok, err := s.AcquireTimeout(time.Duration(1<<63 - 1))
		if err == nil && !ok {
			err = errors.New("timed out")
		}
		res <- err
	}()
	require.Eventually(t, func() bool { w, _ := s.Waiters(); return w == 1 }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Release())
	require.NoError(t, <-res)
}
