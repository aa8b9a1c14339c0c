// Package reduction holds the reduced (pickled) forms of the
// multiprocessing objects that travel in spawn payloads — _DupFd,
// rebuild_connection, AuthenticationString — in one place, for the packages
// that build or read them (process, queue, sharedmem, manager). The forms
// are the same in CPython 3.8–3.13 (docs/spec.md#spawn, docs/spec.md#pickle).
package reduction

import (
	"errors"
	"fmt"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/pickle"
)

// The classes and functions of multiprocessing that appear in spawn
// payloads.
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

// ErrNotInheritable is returned for an fd wrapper that is not the
// spawn-time popen_spawn_posix._DupFd (e.g. resource_sharer.DupFd, which
// multiprocessing uses outside spawning). process re-exports it.
var ErrNotInheritable = errors.New("value does not name an inherited file descriptor")

// DupFd returns the pickled form of popen_spawn_posix._DupFd(fd): NEWOBJ of
// the class with the state {'fd': fd}. A Python child calls .detach() on it
// and gets fd back, which is valid because the parent passes the fd at that
// number.
func DupFd(fd int) *pickle.Object {
	st := pickle.NewDict()
	_ = st.Set("fd", int64(fd))
	return &pickle.Object{Callable: GlobalDupFd, Args: pickle.Tuple{}, NewObj: true, State: st}
}

// Connection returns the pickled form of a Connection handed to a spawned
// child: REDUCE(multiprocessing.connection.rebuild_connection, (dupfd,
// readable, writable)), where dupfd is a DupFd naming the child's fd.
func Connection(dupfd *pickle.Object, readable, writable bool) *pickle.Object {
	return &pickle.Object{Callable: GlobalRebuildConnection, Args: pickle.Tuple{dupfd, readable, writable}}
}

// AuthenticationString returns the pickled form of
// multiprocessing.process.AuthenticationString(key).
func AuthenticationString(key []byte) *pickle.Object {
	return &pickle.Object{Callable: GlobalAuthenticationString, Args: pickle.Tuple{append([]byte(nil), key...)}}
}

// AuthkeyBytes reads an authkey: AuthenticationString(b'…') or plain bytes.
func AuthkeyBytes(v any) ([]byte, bool) {
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

// InheritedFD returns the fd number held by a spawn-time fd wrapper: a
// decoded popen_spawn_posix._DupFd object (state {'fd': N}), or a bare
// integer. Other wrappers give an error wrapping ErrNotInheritable; a
// malformed _DupFd one wrapping mpwire.ErrProtocol.
func InheritedFD(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		return checkFD(x)
	case int:
		return checkFD(int64(x))
	case *pickle.Object:
		if x.Class() != GlobalDupFd {
			return -1, fmt.Errorf("%w: fd wrapper is %s.%s, not %s.%s",
				ErrNotInheritable, x.Callable.Module, x.Callable.Name, GlobalDupFd.Module, GlobalDupFd.Name)
		}
		st, ok := x.State.(*pickle.Dict)
		if !ok {
			return -1, fmt.Errorf("%w: _DupFd state is %T, want a dict", mpwire.ErrProtocol, x.State)
		}
		fd, ok := st.Get("fd")
		if !ok {
			return -1, fmt.Errorf("%w: _DupFd state has no 'fd'", mpwire.ErrProtocol)
		}
		n, ok := fd.(int64)
		if !ok {
			return -1, fmt.Errorf("%w: _DupFd fd is %T, want an int", mpwire.ErrProtocol, fd)
		}
		return checkFD(n)
	default:
		return -1, fmt.Errorf("%w: %T is not an fd wrapper", ErrNotInheritable, v)
	}
}

func checkFD(n int64) (int, error) {
	if n < 0 || n > 1<<30 {
		return -1, fmt.Errorf("%w: fd %d out of range", mpwire.ErrProtocol, n)
	}
	return int(n), nil
}

// ConnectionArgs decodes a pickled Connection handed to a spawned child
// (see Connection) into its fd number and flags. Any other value is an
// error wrapping mpwire.ErrBadState.
func ConnectionArgs(v any) (fd int, readable, writable bool, err error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.NewObj || o.Class() != GlobalRebuildConnection {
		return -1, false, false, fmt.Errorf("%w: %s is not a pickled multiprocessing Connection", mpwire.ErrBadState, Describe(v))
	}
	if len(o.Args) != 3 {
		return -1, false, false, fmt.Errorf("%w: rebuild_connection with %d arguments", mpwire.ErrBadState, len(o.Args))
	}
	r, ok1 := o.Args[1].(bool)
	w, ok2 := o.Args[2].(bool)
	if !ok1 || !ok2 {
		return -1, false, false, fmt.Errorf("%w: rebuild_connection flags are %T, %T", mpwire.ErrBadState, o.Args[1], o.Args[2])
	}
	fd, err = InheritedFD(o.Args[0])
	if err != nil {
		return -1, false, false, err
	}
	return fd, r, w, nil
}

// Describe names a generic value for error messages without printing it.
func Describe(v any) string {
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
