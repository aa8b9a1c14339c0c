package manager

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// Token identifies a shared object on a manager server, like Python's
// multiprocessing.managers.Token.
type Token struct {
	// TypeID is the registered type name ("dict", "Queue", ...).
	TypeID string
	// Address is the server's address as Python holds it: a pickle.Tuple
	// (host, port) for TCP, a string path for a unix socket, or []byte
	// starting with NUL for a Linux abstract socket.
	Address any
	// ID is the object's identifier on the server (Python: '%x' % id(obj)).
	ID string
}

// pickled returns the Token as Python pickles it: NEWOBJ of the class and
// BUILD with the state tuple (typeid, address, id).
func (t Token) pickled() *pickle.Object {
	return &pickle.Object{Callable: wire.GlobalToken, NewObj: true, Args: pickle.Tuple{}, State: pickle.Tuple{t.TypeID, t.Address, t.ID}}
}

// MarshalPickle implements pickle.Marshaler: a Token pickles as Python's.
func (t Token) MarshalPickle() (any, error) { return t.pickled(), nil }

// UnmarshalPickle implements pickle.Unmarshaler: it decodes a pickled
// multiprocessing.managers.Token (an error wrapping ErrProtocol otherwise).
func (t *Token) UnmarshalPickle(v any) error {
	tok, err := tokenFrom(v)
	if err != nil {
		return err
	}
	*t = tok
	return nil
}

// tokenFrom decodes a pickled Token.
func tokenFrom(v any) (Token, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != wire.GlobalToken {
		return Token{}, fmt.Errorf("manager: %w: expected a multiprocessing.managers.Token, got %T", ErrProtocol, v)
	}
	st, ok := o.State.(pickle.Tuple)
	if !ok || len(st) != 3 {
		// A BUILD of the slots as (None, {'typeid':…}) is also legal pickle.
		if t, ok2 := o.State.(pickle.Tuple); ok2 && len(t) == 2 {
			if d, ok3 := t[1].(*pickle.Dict); ok3 {
				ty, _ := d.Get("typeid")
				ad, _ := d.Get("address")
				id, _ := d.Get("id")
				st, ok = pickle.Tuple{ty, ad, id}, true
			}
		}
		if !ok {
			return Token{}, fmt.Errorf("manager: %w: bad Token state %T", ErrProtocol, o.State)
		}
	}
	typeid, ok1 := st[0].(string)
	id, ok2 := st[2].(string)
	if !ok1 || !ok2 {
		return Token{}, fmt.Errorf("manager: %w: bad Token state (%T, %T)", ErrProtocol, st[0], st[2])
	}
	return Token{TypeID: typeid, Address: st[1], ID: id}, nil
}

// NetAddr converts a Python manager address (as in Token.Address) to a Go
// network and address for Dial: ("tcp", "host:port"), ("unix", path) or
// ("unix", "@name") for an abstract socket.
func NetAddr(addr any) (network, address string, err error) {
	switch a := addr.(type) {
	case pickle.Tuple:
		if len(a) == 2 {
			host, ok := a[0].(string)
			port, ok2 := a[1].(int64)
			if ok && ok2 {
				return "tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10)), nil
			}
		}
	case []any:
		return NetAddr(pickle.Tuple(a))
	case string:
		if strings.HasPrefix(a, "\x00") {
			return "unix", "@" + a[1:], nil
		}
		return "unix", a, nil
	case []byte:
		return NetAddr(string(a))
	}
	return "", "", fmt.Errorf("manager: %w: unsupported manager address %v (%T)", ErrProtocol, addr, addr)
}

// PyAddr converts a Go network and address to the value Python uses as a
// manager address: a (host, port) tuple for TCP, a str path for a unix
// socket, bytes b'\x00name' for an abstract one ("@name").
func PyAddr(network, address string) (any, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		p, err := strconv.ParseInt(port, 10, 32)
		if err != nil {
			return nil, err
		}
		return pickle.Tuple{host, p}, nil
	case "unix":
		if strings.HasPrefix(address, "@") {
			return []byte("\x00" + address[1:]), nil
		}
		return address, nil
	}
	return nil, fmt.Errorf("manager: unsupported network %q", network)
}

// replyError turns a non-#RETURN, non-#PROXY reply into a Go error, like
// Python's convert_to_error.
func replyError(kind string, payload any) error {
	switch kind {
	case wire.KindError:
		return exceptionFrom(payload)
	case wire.KindTraceback, wire.KindUnserializable:
		s, ok := payload.(string)
		if !ok {
			return fmt.Errorf("manager: %w: %s payload is %T, not str", ErrProtocol, kind, payload)
		}
		return &RemoteError{Kind: kind, Text: s}
	}
	return fmt.Errorf("manager: %w: unrecognized message type %q", ErrProtocol, kind)
}

// exceptionFrom converts the payload of #ERROR to an error: builtins
// exceptions already decode to *pickle.PythonError; others (queue.Full,
// _queue.Empty, threading.BrokenBarrierError, user classes) arrive as
// *pickle.Object and are converted to *pickle.PythonError too.
func exceptionFrom(v any) error {
	var pe *pickle.PythonError
	switch x := v.(type) {
	case *pickle.PythonError:
		pe = x
	case *pickle.Object:
		pe = &pickle.PythonError{Type: x.Class(), Args: x.Args, State: x.State}
		if x.NewObj && x.Kwargs != nil {
			// NEWOBJ_EX: keep kwargs visible in State if nothing else is there.
			if pe.State == nil {
				pe.State = x.Kwargs
			}
		}
	default:
		return fmt.Errorf("manager: %w: #ERROR payload is %T, not an exception", ErrProtocol, v)
	}
	switch {
	case isType(pe, "_queue", "Empty"), isType(pe, "queue", "Empty"):
		return &Exception{PythonError: pe, sentinel: ErrEmpty}
	case isType(pe, "queue", "Full"):
		return &Exception{PythonError: pe, sentinel: ErrFull}
	case isType(pe, "threading", "BrokenBarrierError"):
		return &Exception{PythonError: pe, sentinel: ErrBrokenBarrier}
	case isType(pe, "builtins", "StopIteration"):
		return &Exception{PythonError: pe, sentinel: ErrStopIteration}
	}
	return &Exception{PythonError: pe}
}

func isType(pe *pickle.PythonError, module, name string) bool {
	return pe.Type.Module == module && pe.Type.Name == name
}

// Errors callers branch on (errors.Is).
var (
	// ErrProtocol means the peer sent something that is not the manager
	// protocol (a malformed request or reply). It is mpwire.ErrProtocol.
	ErrProtocol = mpwire.ErrProtocol
	// ErrClosed is returned by calls on a closed Client or Proxy. It is
	// mpwire.ErrClosed.
	ErrClosed = mpwire.ErrClosed
	// ErrEmpty matches Python's queue.Empty raised by a remote Queue.get
	// (and a GetTimeout whose time passed). It is mpwire.ErrEmpty, the
	// sentinel package queue returns too.
	ErrEmpty = mpwire.ErrEmpty
	// ErrFull matches Python's queue.Full raised by a remote Queue.put. It
	// is mpwire.ErrFull.
	ErrFull = mpwire.ErrFull
	// ErrBrokenBarrier matches threading.BrokenBarrierError.
	ErrBrokenBarrier = errors.New("manager: barrier is broken")
	// ErrStopIteration matches StopIteration from a remote iterator.
	ErrStopIteration = errors.New("manager: iteration stopped")
	// ErrBadState is returned by Rebuild and FromChild for a value that is
	// not a pickled proxy. It is mpwire.ErrBadState.
	ErrBadState = mpwire.ErrBadState
)

// Exception is a Python exception raised by a method of a shared object
// (reply kind #ERROR). It wraps the *pickle.PythonError (type, args, state),
// so errors.As(err, &pe) with pe *pickle.PythonError works, and matches
// ErrEmpty, ErrFull, ErrBrokenBarrier and ErrStopIteration for the
// corresponding Python exceptions. Use IsPythonError to test the type name.
type Exception struct {
	*pickle.PythonError
	sentinel error
}

// Unwrap returns the Python exception and the matching sentinel, if any.
func (e *Exception) Unwrap() []error {
	if e.sentinel != nil {
		return []error{e.PythonError, e.sentinel}
	}
	return []error{e.PythonError}
}

// Error returns "TypeName: args" as Python prints the last traceback line.
func (e *Exception) Error() string { return e.PythonError.Error() }

// IsPythonError reports whether err carries a Python exception whose class
// name is name ("KeyError") or module-qualified name ("queue.Full").
func IsPythonError(err error, name string) bool {
	var pe *pickle.PythonError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Type.Name == name || pe.Type.String() == name
}

// RemoteError is a server-side failure reported as text (reply kinds
// #TRACEBACK — unknown object or method, bad request — and #UNSERIALIZABLE
// — the result could not be pickled), Python's
// multiprocessing.managers.RemoteError.
type RemoteError struct {
	Kind string // "#TRACEBACK" or "#UNSERIALIZABLE"
	Text string // the formatted Python traceback
}

func (e *RemoteError) Error() string {
	if e.Kind == wire.KindUnserializable {
		return "manager: remote error: Unserializable message: " + strings.TrimSpace(e.Text)
	}
	return "manager: remote error: " + strings.TrimSpace(lastLine(e.Text))
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
