package process

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
)

// captured is a spawn payload recorded from a real CPython parent by
// pyfixtures/proc_capture.py (mpwire.GoProcess with a stub worker), with the
// worker's command line.
type captured struct {
	Python    string   `json:"python"`
	Argv      []string `json:"argv"`
	FirstLen  int      `json:"first_len"`
	TotalLen  int      `json:"total_len"`
	payload   []byte
	fileStem  string
	kindNames []string
}

func loadCaptures(t testing.TB) []captured {
	t.Helper()
	files, err := filepath.Glob("testdata/spawn/py3.*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no captured payloads in testdata/spawn")
	var out []captured
	for _, f := range files {
		var c captured
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &c))
		c.fileStem = f[:len(f)-len(".json")]
		c.payload, err = os.ReadFile(c.fileStem + ".bin")
		require.NoError(t, err)
		require.Len(t, c.payload, c.TotalLen)
		out = append(out, c)
	}
	return out
}

// The classes proc_capture.py passes, in order.
var capturedKinds = []string{
	"dict",
	"multiprocessing.connection.rebuild_connection", // duplex Pipe end
	"multiprocessing.connection.rebuild_connection", // reader
	"multiprocessing.connection.rebuild_connection", // writer
	"multiprocessing.synchronize.Lock",
	"multiprocessing.synchronize.RLock",
	"multiprocessing.synchronize.Semaphore",
	"multiprocessing.synchronize.BoundedSemaphore",
	"multiprocessing.synchronize.Event",
	"multiprocessing.synchronize.Condition",
	"multiprocessing.sharedctypes.synchronized",
	"multiprocessing.sharedctypes.synchronized",
	"multiprocessing.queues.Queue",
	"multiprocessing.queues.SimpleQueue",
	"multiprocessing.queues.JoinableQueue",
}

func kindOf(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Class().String()
	case *pickle.Dict:
		return "dict"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func TestCapturedPayloadsDecode(t *testing.T) {
	for _, c := range loadCaptures(t) {
		t.Run("payload of Python "+c.Python, func(t *testing.T) {
			sa, err := parseArgv(c.Argv)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, sa.PipeHandle, 3)
			assert.GreaterOrEqual(t, sa.TrackerFD, 3)

			ch, err := decodePayload(bytes.NewReader(c.payload), nil)
			require.NoError(t, err)
			assert.Equal(t, "CaptureProcess", ch.Name())
			assert.Equal(t, "MainProcess", ch.ParentName())
			assert.Greater(t, ch.ParentPid(), 0)
			assert.Equal(t, []int{1}, ch.Identity())
			assert.Len(t, ch.Authkey(), 32)
			assert.False(t, ch.Daemon())
			assert.Nil(t, ch.Target())
			assert.Equal(t, reduction.GlobalSpawnProcess, ch.Object().Class())
			assert.True(t, ch.Object().NewObj)

			sm, _ := ch.Preparation().Get("start_method")
			assert.Equal(t, "fork", sm, "prep data carries the global default start method, not the context's")
			pk, _ := ch.Preparation().Get("authkey")
			pb, ok := reduction.AuthkeyBytes(pk)
			require.True(t, ok)
			assert.Equal(t, ch.Authkey(), pb)

			require.Equal(t, len(capturedKinds), ch.NumArgs())
			for i, want := range capturedKinds {
				assert.Equal(t, want, kindOf(ch.Arg(i)), "argument %d", i)
			}
			flags := [][2]bool{{true, true}, {true, false}, {false, true}}
			seen := map[int]bool{}
			for i, f := range flags {
				fd, r, w, err := reduction.ConnectionArgs(ch.Arg(i + 1))
				require.NoError(t, err)
				assert.Equal(t, f, [2]bool{r, w}, "argument %d", i+1)
				assert.False(t, seen[fd])
				seen[fd] = true
			}
			_, _, _, err = reduction.ConnectionArgs(ch.Arg(4))
			assert.ErrorIs(t, err, ErrBadState)
			_, err = ch.Conn(4)
			assert.ErrorIs(t, err, ErrBadState)
			_, err = ch.Conn(99)
			assert.ErrorIs(t, err, ErrNoArg)

			var plain struct {
				N    int     `pickle:"n"`
				S    string  `pickle:"s"`
				B    []byte  `pickle:"b"`
				F    float64 `pickle:"f"`
				None any     `pickle:"none"`
			}
			require.NoError(t, ch.UnmarshalArg(0, &plain))
			assert.Equal(t, 3, plain.N)
			assert.Equal(t, "text", plain.S)
			assert.Equal(t, []byte("bytes"), plain.B)
			assert.Equal(t, 1.5, plain.F)

			var names []string
			require.NoError(t, ch.UnmarshalKwarg("names", &names))
			assert.Len(t, names, len(capturedKinds))
			flag, ok := ch.Kwarg("flag")
			assert.True(t, ok)
			assert.Equal(t, true, flag)

			// The Value's arena is an inherited fd too (rebuild_arena(size, _DupFd)).
			arena := findGlobal(ch.Arg(10), glob("multiprocessing.heap", "rebuild_arena"))
			require.NotNil(t, arena, "no rebuild_arena in the Value")
			afd, err := reduction.InheritedFD(arena.Args[1])
			require.NoError(t, err)
			assert.False(t, seen[afd])
		})
	}
}

// glob is a test shorthand.
func glob(mod, name string) pickle.Global { return pickle.Global{Module: mod, Name: name} }

// findGlobal finds the first *pickle.Object calling g inside v.
func findGlobal(v any, g pickle.Global) *pickle.Object {
	switch x := v.(type) {
	case *pickle.Object:
		if x.Class() == g {
			return x
		}
		for _, a := range x.Args {
			if o := findGlobal(a, g); o != nil {
				return o
			}
		}
		return findGlobal(x.State, g)
	case pickle.Tuple:
		for _, a := range x {
			if o := findGlobal(a, g); o != nil {
				return o
			}
		}
	case []any:
		for _, a := range x {
			if o := findGlobal(a, g); o != nil {
				return o
			}
		}
	case *pickle.Dict:
		for _, kv := range x.Items() {
			if o := findGlobal(kv[1], g); o != nil {
				return o
			}
		}
	}
	return nil
}

func TestPayloadRoundTrip(t *testing.T) {
	spec := Spec{Target: "mod:fn", Name: "N", Daemon: true}
	args := pickle.Tuple{reduction.Connection(reduction.DupFd(5), true, false), "x", []byte{1, 2}}
	kw := pickle.NewDict()
	require.NoError(t, kw.Set("k", int64(1)))
	b, err := encodePayload(spec, "N", []byte("key"), "/tmp", 9, args, kw, -1)
	require.NoError(t, err)
	ch, err := decodePayload(bytes.NewReader(b), nil)
	require.NoError(t, err)
	assert.Equal(t, "N", ch.Name())
	assert.Equal(t, []int{9}, ch.Identity())
	assert.Equal(t, []byte("key"), ch.Authkey())
	assert.True(t, ch.Daemon())
	assert.Equal(t, pickle.Global{Module: "mod", Name: "fn"}, ch.Target())
	assert.Equal(t, os.Getpid(), ch.ParentPid())
	fd, r, w, err := reduction.ConnectionArgs(ch.Arg(0))
	require.NoError(t, err)
	assert.Equal(t, []any{5, true, false}, []any{fd, r, w})
	assert.Equal(t, "x", ch.Arg(1))
	v, _ := ch.Kwarg("k")
	assert.Equal(t, int64(1), v)
	d, _ := ch.Preparation().Get("dir")
	assert.Equal(t, "/tmp", d)
}

func TestBadPayloads(t *testing.T) {
	dictPickle, err := pickle.Marshal(pickle.NewDict())
	require.NoError(t, err)
	intPickle, err := pickle.Marshal(int64(1))
	require.NoError(t, err)
	objNoState, err := pickle.Marshal(&pickle.Object{Callable: reduction.GlobalSpawnProcess, NewObj: true, Args: pickle.Tuple{}})
	require.NoError(t, err)
	st := pickle.NewDict()
	require.NoError(t, st.Set("_name", int64(3)))
	objBadName, err := pickle.Marshal(&pickle.Object{Callable: reduction.GlobalSpawnProcess, NewObj: true, Args: pickle.Tuple{}, State: st})
	require.NoError(t, err)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty input", nil},
		{"only the preparation data", dictPickle},
		{"preparation data that is not a dict", cat(intPickle, dictPickle)},
		{"a process object that is not an instance", cat(dictPickle, intPickle)},
		{"a process object without state", cat(dictPickle, objNoState)},
		{"a process name that is not a str", cat(dictPickle, objBadName)},
		{"garbage", []byte("\x80\x04garbage")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodePayload(bytes.NewReader(tc.data), nil)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrProtocol), "%v", err)
		})
	}
	t.Run("a payload over MaxPayload", func(t *testing.T) {
		c := loadCaptures(t)[0]
		_, err := decodePayload(&limitedReader{r: bytes.NewReader(c.payload), n: 100}, nil)
		assert.ErrorIs(t, err, ErrProtocol)
	})
}

func TestParseArgv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		argv     []string
		pipe, tr int
		err      bool
	}{
		{"the Python -c form", []string{"py", "-B", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6, pipe_handle=13)", forkMarker}, 13, 6, false},
		{"the -c form with tracker_fd=None", []string{"py", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=None, pipe_handle=4)", forkMarker}, 4, -1, false},
		{"the frozen form", []string{"w", forkMarker, "tracker_fd=8", "pipe_handle=19"}, 19, 8, false},
		{"the frozen form behind a prefix", []string{"env", "X=1", "w", forkMarker, "pipe_handle=5", "tracker_fd=None"}, 5, -1, false},
		{"no marker", []string{"w", "pipe_handle=5"}, 0, 0, true},
		{"the marker as argv[0] only", []string{forkMarker}, 0, 0, true},
		{"no pipe_handle", []string{"w", forkMarker, "tracker_fd=3"}, 0, 0, true},
		{"an unknown keyword", []string{"w", forkMarker, "pipe_handle=3", "evil=1"}, 0, 0, true},
		{"a repeated keyword", []string{"w", forkMarker, "pipe_handle=3", "pipe_handle=4"}, 0, 0, true},
		{"a non-numeric fd", []string{"w", forkMarker, "pipe_handle=x"}, 0, 0, true},
		{"a huge fd", []string{"w", forkMarker, "pipe_handle=99999999999"}, 0, 0, true},
		{"a -c program that is not spawn_main", []string{"py", "-c", "import os", forkMarker}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sa, err := parseArgv(tc.argv)
			if tc.err {
				assert.ErrorIs(t, err, ErrNotChild)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pipe, sa.PipeHandle)
			assert.Equal(t, tc.tr, sa.TrackerFD)
			assert.True(t, IsChild(tc.argv))
		})
	}
	assert.Equal(t, []string{"py", "-B", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=None, pipe_handle=4)", forkMarker},
		pythonArgv("py", []string{"-B"}, -1, 4))
	assert.Equal(t, []string{"w", forkMarker, "tracker_fd=3", "pipe_handle=4"}, workerArgv([]string{"w"}, 3, 4))
}

func FuzzDecodePayload(f *testing.F) {
	for _, c := range loadCaptures(f) {
		f.Add(c.payload)
	}
	b, err := encodePayload(Spec{Target: "m:f"}, "N", []byte("k"), "/", 1, pickle.Tuple{reduction.Connection(reduction.DupFd(3), true, true)}, pickle.NewDict(), -1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	// Tight decoder limits keep each run short; the pickle package fuzzes
	// its own limits.
	lim, err := pickle.DecOptions{MaxObjects: 100000, MaxContainerLen: 10000, MaxMemo: 10000, MaxInput: 1 << 20}.DecMode()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ch, err := decodePayload(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		// Whatever decoded must be safe to inspect.
		_ = ch.Name()
		_ = ch.Authkey()
		_ = ch.Daemon()
		for i := 0; i < ch.NumArgs(); i++ {
			_, _, _, _ = reduction.ConnectionArgs(ch.Arg(i))
			_, _ = reduction.InheritedFD(ch.Arg(i))
		}
	})
}

func FuzzParseArgv(f *testing.F) {
	f.Add("-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6, pipe_handle=13)", forkMarker)
	f.Add(forkMarker, "tracker_fd=None", "pipe_handle=4")
	f.Add(forkMarker, "pipe_handle=4", "parent_pid=1")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		argv := []string{"w", a, b, c}
		sa, err := parseArgv(argv)
		if err != nil {
			return
		}
		if !IsChild(argv) || sa.PipeHandle < 0 || sa.TrackerFD < -1 {
			t.Fatalf("parseArgv(%q) = %+v without error", argv, sa)
		}
	})
}

// TestGoPayloadMatchesPythonsShape compares the Process object Start
// pickles with the ones CPython pickled: same class, same __dict__ keys in
// the same order, same _config keys, same kinds of values.
func TestGoPayloadMatchesPythonsShape(t *testing.T) {
	b, err := encodePayload(Spec{}, "N", make([]byte, 32), "/", 1, pickle.Tuple{}, pickle.NewDict(), -1)
	require.NoError(t, err)
	ours, err := decodePayload(bytes.NewReader(b), nil)
	require.NoError(t, err)
	keys := func(d *pickle.Dict) []any { return d.Keys() }
	for _, c := range loadCaptures(t) {
		theirs, err := decodePayload(bytes.NewReader(c.payload), nil)
		require.NoError(t, err)
		assert.Equal(t, theirs.Object().Class(), ours.Object().Class(), c.Python)
		assert.Equal(t, keys(theirs.state), keys(ours.state), "Process __dict__ keys, Python %s", c.Python)
		assert.Equal(t, keys(theirs.config), keys(ours.config), "_config keys, Python %s", c.Python)
		for _, k := range keys(theirs.state) {
			tv, _ := theirs.state.Get(k)
			ov, _ := ours.state.Get(k)
			if k == "_args" || k == "_kwargs" {
				continue // different on purpose
			}
			assert.Equal(t, kindOf(tv), kindOf(ov), "type of %v, Python %s", k, c.Python)
		}
		ta, _ := theirs.config.Get("authkey")
		oa, _ := ours.config.Get("authkey")
		assert.Equal(t, kindOf(ta), kindOf(oa))
	}
}
