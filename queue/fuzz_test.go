package queue

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/pickle"
)

var errNoConn = errors.New("fuzz: no connections")

func noConn(any, connection.Config) (*connection.Conn, error) { return nil, errNoConn }

// openAny rebuilds whichever queue kind v is, through conn.
func openAny(v any, conn connFunc) (any, error) {
	switch className(v) {
	case "Queue":
		return openQueueState(v, conn, Config{})
	case "JoinableQueue":
		return openJoinableState(v, conn, Config{})
	case "SimpleQueue":
		return openSimpleState(v, conn, Config{})
	}
	return nil, fmt.Errorf("%w: not a pickled queue", ErrBadState)
}

// FuzzOpenAny feeds arbitrary pickles to the pickled-queue decoder: it
// must return an error (or a queue, for a state naming live semaphores and
// fds, which the fuzz connFunc never hands out), never panic or hang.
func FuzzOpenAny(f *testing.F) {
	for _, s := range seedStates(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := pickle.Unmarshal(data, &v); err != nil {
			return
		}
		q, err := openAny(v, noConn)
		if err == nil {
			t.Fatalf("opened %T without connections", q)
		}
	})
}

// seedStates are pickles of the three queue kinds and of their parts, as
// ReduceForSpawn produces them (with placeholder fds).
func seedStates(f *testing.F) [][]byte {
	q, err := New(3)
	if err != nil {
		f.Fatal(err)
	}
	defer q.Close()
	fake := func(fd int64, r, w bool) *pickle.Object {
		st := pickle.NewDict()
		_ = st.Set("fd", fd)
		return &pickle.Object{Callable: pickle.Global{Module: "multiprocessing.connection", Name: "rebuild_connection"},
			Args: pickle.Tuple{&pickle.Object{Callable: pickle.Global{Module: "multiprocessing.popen_spawn_posix", Name: "_DupFd"},
				Args: pickle.Tuple{}, NewObj: true, State: st}, r, w}}
	}
	qs := pickle.Tuple{false, int64(3), fake(3, true, false), fake(4, false, true), q.rlock.Object(), q.wlock.Object(), q.sem.Object(), int64(1)}
	objs := []any{
		&pickle.Object{Callable: pickle.Global{Module: module, Name: "Queue"}, Args: pickle.Tuple{}, NewObj: true, State: qs},
		&pickle.Object{Callable: pickle.Global{Module: module, Name: "SimpleQueue"}, Args: pickle.Tuple{}, NewObj: true,
			State: pickle.Tuple{fake(3, true, false), fake(4, false, true), q.rlock.Object(), q.wlock.Object()}},
		&pickle.Object{Callable: pickle.Global{Module: module, Name: "JoinableQueue"}, Args: pickle.Tuple{}, NewObj: true,
			State: append(append(pickle.Tuple{}, qs...), q.rlock.Object(), q.sem.Object())},
		q.sem.Object(),
	}
	var out [][]byte
	for _, o := range objs {
		b, err := pickle.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
