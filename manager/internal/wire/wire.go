// Package wire holds the manager protocol's message forms
// (docs/spec.md#manager), shared by the client (package manager) and the
// Go-hosted server (package manager/server): reply kinds, the Python names
// in manager pickles, and framing of one request or reply.
package wire

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/mgrreply"
	"github.com/mpwire/mpwire/pickle"
)

// Reply kinds (internal/mgrreply). A reply is the 2-tuple (kind, payload).
const (
	KindReturn         = mgrreply.Return
	KindError          = mgrreply.Error
	KindTraceback      = mgrreply.Traceback
	KindUnserializable = mgrreply.Unserializable
	KindProxy          = mgrreply.Proxy
)

// Python names that appear in manager pickles.
var (
	GlobalToken        = pickle.Global{Module: "multiprocessing.managers", Name: "Token"}
	GlobalRebuildProxy = pickle.Global{Module: "multiprocessing.managers", Name: "RebuildProxy"}
	GlobalAutoProxy    = pickle.Global{Module: "multiprocessing.managers", Name: "AutoProxy"}
)

var defaultDec, _ = pickle.DecOptions{}.DecMode()

// ReadAhead is the connection.Config.ReadAhead of manager connections
// (client and server) unless configured: requests and replies are small,
// and a message's header and body then arrive in one read. Manager
// connections are never handed to another process.
const ReadAhead = 4 << 10

// Send pickles v and sends it as one frame.
func Send(ctx context.Context, c *connection.Conn, v any) error {
	b, err := pickle.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendBytes(ctx, b)
}

// Recv receives one frame (within the Conn's MaxFrame) and unpickles it
// with dec (nil: pickle's defaults). A frame that does not unpickle is an
// error wrapping mpwire.ErrProtocol; I/O errors are returned as they are.
func Recv(ctx context.Context, c *connection.Conn, dec pickle.DecMode) (any, error) {
	b, err := c.RecvBytes(ctx)
	if err != nil {
		return nil, err
	}
	if dec == nil {
		dec = defaultDec
	}
	var v any
	if err := dec.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("manager: %w: %w", mpwire.ErrProtocol, err)
	}
	return v, nil
}

// keepBuf is the largest receive buffer RecvBuf keeps for the next
// message.
const keepBuf = 1 << 20

// RecvBuf is Recv receiving into *buf, which it grows as needed and keeps
// (up to 1 MiB) for the next message: a served connection or a client
// makes one buffer, not one per message. Decoded values never alias it.
func RecvBuf(ctx context.Context, c *connection.Conn, dec pickle.DecMode, buf *[]byte) (any, error) {
	b := (*buf)[:cap(*buf)]
	n, err := c.RecvBytesInto(ctx, b)
	msg := b[:n]
	if err != nil {
		var short *connection.BufferTooShortError
		if !errors.As(err, &short) {
			return nil, err
		}
		msg = short.Message
		if cap(msg) <= keepBuf {
			*buf = msg[:0]
		}
	}
	if dec == nil {
		dec = defaultDec
	}
	var v any
	if err := dec.Unmarshal(msg, &v); err != nil {
		return nil, fmt.Errorf("manager: %w: %w", mpwire.ErrProtocol, err)
	}
	return v, nil
}

// RoundTripBuf sends req and receives its reply into *buf as RecvBuf does
// (connection.Conn.SendRecvBytesInto: the receive waits for the reply
// before reading). sent reports whether req went out whole (an error with
// sent false is the send's).
func RoundTripBuf(ctx context.Context, c *connection.Conn, req any, dec pickle.DecMode, buf *[]byte) (v any, sent bool, err error) {
	b := (*buf)[:cap(*buf)]
	n, sent, err := c.SendRecvBytesInto(ctx, req, b)
	msg := b[:n]
	if err != nil {
		var short *connection.BufferTooShortError
		if !sent || !errors.As(err, &short) {
			return nil, sent, err
		}
		msg = short.Message
		if cap(msg) <= keepBuf {
			*buf = msg[:0]
		}
	}
	if dec == nil {
		dec = defaultDec
	}
	if err := dec.Unmarshal(msg, &v); err != nil {
		return nil, true, fmt.Errorf("manager: %w: %w", mpwire.ErrProtocol, err)
	}
	return v, true, nil
}

// noKwargs is the kwds of a request without keyword arguments (read only).
var noKwargs = pickle.NewDict()

// Request builds the 4-tuple (ident, methodname, args, kwds); kwargs are
// sent in key order.
func Request(ident any, method string, args []any, kwargs map[string]any) pickle.Tuple {
	a := pickle.Tuple(args)
	if a == nil {
		a = pickle.Tuple{}
	}
	if len(kwargs) == 0 {
		return pickle.Tuple{ident, method, a, noKwargs}
	}
	kw := pickle.NewDict()
	keys := make([]string, 0, len(kwargs))
	for k := range kwargs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = kw.Set(k, kwargs[k])
	}
	return pickle.Tuple{ident, method, a, kw}
}

// Reply splits a (kind, payload) reply.
func Reply(v any) (string, any, error) {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return "", nil, fmt.Errorf("manager: %w: reply is %T, not a 2-tuple", mpwire.ErrProtocol, v)
	}
	kind, ok := t[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("manager: %w: reply kind is %T", mpwire.ErrProtocol, t[0])
	}
	return kind, t[1], nil
}

// PyErr builds a builtins exception (to send as #ERROR, or to format as a
// #TRACEBACK).
func PyErr(name string, args ...any) *pickle.PythonError {
	return &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: name}, Args: pickle.Tuple(args)}
}

// ArraySizes are the item sizes of array.array typecodes on Linux x86-64
// (array.array pickles as REDUCE(array.array, (typecode, bytes))).
var ArraySizes = map[string]int{"b": 1, "B": 1, "u": 4, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8, "q": 8, "Q": 8, "f": 4, "d": 8}
