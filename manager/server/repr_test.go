package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// TestServedReprsAreBounded: the repr of a served object holding a shared
// structure of 10^8 strings is cut at pickle.DefaultMaxRepr, for every
// ready-made type that prints values.
func TestServedReprsAreBounded(t *testing.T) {
	var x any = []any{strings.Repeat("x", 10)}
	for range 4 {
		l := make([]any, 100)
		for i := range l {
			l[i] = x
		}
		x = l
	}
	d := server.NewDict()
	if _, err := d.CallMethod(context.Background(), nil, "__setitem__", pickle.Tuple{"k", x}, nil); err != nil {
		t.Fatal(err)
	}
	arr, err := server.NewArray("i", []any{int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	ns := server.NewNamespace(map[string]any{"a": x, "b": x, "c": x})
	for _, r := range []server.Reprer{server.NewList([]any{x, x}), d, server.NewValue("O", x), ns, arr} {
		s := r.Repr()
		if len(s) > pickle.DefaultMaxRepr+100 {
			t.Errorf("%T: repr of %d bytes", r, len(s))
		}
		if _, isArr := r.(*server.Array); !isArr && !strings.HasSuffix(s, pickle.ReprTruncated) {
			t.Errorf("%T: repr not marked as truncated: ...%s", r, s[max(len(s)-40, 0):])
		}
	}
	if got := arr.Repr(); got != "array('i', [1])" {
		t.Errorf("array repr %s", got)
	}
}
