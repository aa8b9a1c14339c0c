package server

import (
	"context"
	"testing"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// FuzzRequest feeds arbitrary frames to the server's request path (decode,
// parse, dispatch to the SyncManager objects, encode the reply): it must
// never panic or hang, and every reply must pickle.
func FuzzRequest(f *testing.F) {
	for _, req := range []pickle.Tuple{
		{nil, "create", pickle.Tuple{"dict"}, pickle.NewDict()},
		{nil, "create", pickle.Tuple{"list", []any{int64(1), "a"}}, pickle.NewDict()},
		{nil, "create", pickle.Tuple{"Queue", int64(1)}, pickle.NewDict()},
		{nil, "incref", pickle.Tuple{"7f0000001000"}, pickle.NewDict()},
		{nil, "decref", pickle.Tuple{"7f0000001000"}, pickle.NewDict()},
		{nil, "debug_info", pickle.Tuple{}, pickle.NewDict()},
		{"7f0000001000", "__setitem__", pickle.Tuple{"k", []byte("v")}, pickle.NewDict()},
		{"7f0000001010", "__getitem__", pickle.Tuple{manager.Slice(int64(1), nil, int64(-1))}, pickle.NewDict()},
		{"7f0000001010", "sort", pickle.Tuple{}, pickle.NewDict()},
		{"7f0000001020", "get", pickle.Tuple{true, 0.001}, pickle.NewDict()},
		{"7f0000001030", "wait", pickle.Tuple{0.001}, pickle.NewDict()},
		{"7f0000001000", "#GETVALUE", pickle.Tuple{}, pickle.NewDict()},
	} {
		b, err := pickle.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(nil)
		s.pyAddr = pickle.Tuple{"127.0.0.1", int64(1)}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		s.ctx = ctx
		for _, typeid := range []string{"dict", "list", "Queue", "Barrier"} {
			args := pickle.Tuple{}
			if typeid == "Barrier" {
				args = pickle.Tuple{int64(2)}
			}
			if _, err := s.control("create", append(pickle.Tuple{typeid}, args...), nil); err != nil {
				t.Fatal(err)
			}
		}
		var v any
		if err := s.dec.Unmarshal(data, &v); err != nil {
			return
		}
		var reply pickle.Tuple
		ident, method, args, kwargs, err := parseRequest(v)
		switch {
		case err != nil:
			reply = pickle.Tuple{wire.KindTraceback, traceback(err)}
		case ident == nil && publicRequests[method] && method != "shutdown" && method != "accept_connection":
			res, err := s.control(method, args, kwargs)
			if err != nil {
				reply = pickle.Tuple{wire.KindTraceback, traceback(err)}
			} else {
				reply = pickle.Tuple{wire.KindReturn, res}
			}
		default:
			reply = s.call(callerID(1), v, &request{})
		}
		if _, err := pickle.Marshal(reply); err != nil {
			if _, err := pickle.Marshal(pickle.Tuple{wire.KindUnserializable, traceback(err)}); err != nil {
				t.Fatalf("unserializable reply: %v", err)
			}
		}
	})
}
