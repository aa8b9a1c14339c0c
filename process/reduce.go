package process

import (
	"fmt"

	"github.com/mpwire/mpwire/pickle"
)

// The classes and functions of multiprocessing that appear in spawn
// payloads (docs/spec.md#spawn, docs/spec.md#pickle). They are the same in CPython 3.8–3.13.
var (
	// GlobalSpawnProcess is the class of the process object a spawn parent
	// pickles (multiprocessing.context.SpawnProcess).
	GlobalSpawnProcess = pickle.Global{Module: "multiprocessing.context", Name: "SpawnProcess"}
	// GlobalAuthenticationString wraps authkeys (a bytes subclass).
	GlobalAuthenticationString = pickle.Global{Module: "multiprocessing.process", Name: "AuthenticationString"}
	// GlobalDupFd is the spawn-time fd wrapper: its state {'fd': N} names an
	// fd the child inherits at the same number.
	GlobalDupFd = pickle.Global{Module: "multiprocessing.popen_spawn_posix", Name: "_DupFd"}
	// GlobalRebuildConnection rebuilds a Connection from (DupFd, readable, writable).
	GlobalRebuildConnection = pickle.Global{Module: "multiprocessing.connection", Name: "rebuild_connection"}
)

// DupFd returns the pickled form of popen_spawn_posix._DupFd(fd): NEWOBJ of
// the class with the state {'fd': fd}. A Python child calls .detach() on it
// and gets fd back, which is valid because the parent passes the fd at that
// number.
func DupFd(fd int) *pickle.Object {
	st := pickle.NewDict()
	_ = st.Set("fd", int64(fd))
	return &pickle.Object{Callable: GlobalDupFd, Args: pickle.Tuple{}, NewObj: true, State: st}
}

// ConnectionReduction returns the pickled form of a Connection handed to a
// spawned child: REDUCE(multiprocessing.connection.rebuild_connection,
// (DupFd(fd), readable, writable)), where fd is the child's fd number.
func ConnectionReduction(fd int, readable, writable bool) *pickle.Object {
	return &pickle.Object{Callable: GlobalRebuildConnection, Args: pickle.Tuple{DupFd(fd), readable, writable}}
}

// AuthenticationString returns the pickled form of
// multiprocessing.process.AuthenticationString(key).
func AuthenticationString(key []byte) *pickle.Object {
	return &pickle.Object{Callable: GlobalAuthenticationString, Args: pickle.Tuple{append([]byte(nil), key...)}}
}

// InheritedFD returns the fd number held by a spawn-time fd wrapper: a
// decoded popen_spawn_posix._DupFd object (state {'fd': N}), or a bare
// integer. Other forms (resource_sharer.DupFd, used outside spawning) give
// an error wrapping ErrNotInheritable.
func InheritedFD(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		return checkFD(x)
	case int:
		return checkFD(int64(x))
	case *pickle.Object:
		if x.Class() != GlobalDupFd {
			return -1, fmt.Errorf("process: %w: fd wrapper is %s.%s, not %s.%s",
				ErrNotInheritable, x.Callable.Module, x.Callable.Name, GlobalDupFd.Module, GlobalDupFd.Name)
		}
		st, ok := x.State.(*pickle.Dict)
		if !ok {
			return -1, fmt.Errorf("process: %w: _DupFd state is %T, want a dict", ErrBadPayload, x.State)
		}
		fd, ok := st.Get("fd")
		if !ok {
			return -1, fmt.Errorf("process: %w: _DupFd state has no 'fd'", ErrBadPayload)
		}
		n, ok := fd.(int64)
		if !ok {
			return -1, fmt.Errorf("process: %w: _DupFd fd is %T, want an int", ErrBadPayload, fd)
		}
		return checkFD(n)
	default:
		return -1, fmt.Errorf("process: %w: %T is not an fd wrapper", ErrNotInheritable, v)
	}
}

func checkFD(n int64) (int, error) {
	if n < 0 || n > 1<<30 {
		return -1, fmt.Errorf("process: %w: fd %d out of range", ErrBadPayload, n)
	}
	return int(n), nil
}

// ConnectionArgs decodes a pickled Connection handed to a spawned child
// (see ConnectionReduction) into its fd number and flags. It fails with an
// error wrapping ErrNotConnection for any other value.
func ConnectionArgs(v any) (fd int, readable, writable bool, err error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.NewObj || o.Class() != GlobalRebuildConnection {
		return -1, false, false, fmt.Errorf("process: %w: got %s", ErrNotConnection, describe(v))
	}
	if len(o.Args) != 3 {
		return -1, false, false, fmt.Errorf("process: %w: rebuild_connection with %d arguments", ErrBadPayload, len(o.Args))
	}
	r, ok1 := o.Args[1].(bool)
	w, ok2 := o.Args[2].(bool)
	if !ok1 || !ok2 {
		return -1, false, false, fmt.Errorf("process: %w: rebuild_connection flags are %T, %T", ErrBadPayload, o.Args[1], o.Args[2])
	}
	fd, err = InheritedFD(o.Args[0])
	if err != nil {
		return -1, false, false, err
	}
	return fd, r, w, nil
}

// authkeyBytes accepts AuthenticationString(b'…') or plain bytes.
func authkeyBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case *pickle.Object:
		if x.Class() == GlobalAuthenticationString && len(x.Args) == 1 {
			b, ok := x.Args[0].([]byte)
			return b, ok
		}
	}
	return nil, false
}

// describe names a generic value for error messages without printing it.
func describe(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		kind := "REDUCE"
		if x.NewObj {
			kind = "NEWOBJ"
		}
		return fmt.Sprintf("%s %s.%s", kind, x.Callable.Module, x.Callable.Name)
	case nil:
		return "None"
	default:
		return fmt.Sprintf("%T", v)
	}
}
