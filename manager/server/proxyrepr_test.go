package server_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// rebuildProxy is what a Python client sends for a proxy it stores in a
// shared container: RebuildProxy(func, token, serializer, kwds).
func rebuildProxy(class, typeid string) *pickle.Object {
	tok, _ := manager.Token{TypeID: typeid, Address: pickle.Tuple{"127.0.0.1", int64(1)}, ID: "7f00"}.MarshalPickle()
	return &pickle.Object{
		Callable: pickle.Global{Module: "multiprocessing.managers", Name: "RebuildProxy"},
		Args:     pickle.Tuple{pickle.Global{Module: "multiprocessing.managers", Name: class}, tok, "pickle", pickle.NewDict()},
	}
}

// TestNestedProxyRepr: a proxy stored in a Go-hosted list or dict prints as
// CPython's server prints it (BaseProxy.__repr__), also inside a plain list
// inside the shared one; other values print as before.
func TestNestedProxyRepr(t *testing.T) {
	ctx := context.Background()
	l := server.NewList(nil)
	inner := []any{int64(1), rebuildProxy("DictProxy", "dict")}
	for _, v := range []any{rebuildProxy("ListProxy", "list"), inner, pickle.Tuple{rebuildProxy("AutoProxy", "Queue")}, "s"} {
		if _, err := l.CallMethod(ctx, nil, "append", pickle.Tuple{v}, nil); err != nil {
			t.Fatal(err)
		}
	}
	addr := `0x[0-9a-f]+`
	want := regexp.MustCompile(`^\[<ListProxy object, typeid 'list' at ` + addr + `>, \[1, <DictProxy object, typeid 'dict' at ` + addr +
		`>\], \(<AutoProxy\[Queue\] object, typeid 'Queue' at ` + addr + `>,\), 's'\]$`)
	if got := l.Repr(); !want.MatchString(got) {
		t.Errorf("list repr:\n got %s\nwant %s", got, want)
	}
	d := server.NewDict()
	if _, err := d.CallMethod(ctx, nil, "__setitem__", pickle.Tuple{"k", rebuildProxy("ListProxy", "list")}, nil); err != nil {
		t.Fatal(err)
	}
	if got := d.Repr(); !regexp.MustCompile(`^\{'k': <ListProxy object, typeid 'list' at ` + addr + `>\}$`).MatchString(got) {
		t.Errorf("dict repr: %s", got)
	}
	// A list that holds itself and a proxy prints [...] for itself.
	self := []any{rebuildProxy("ListProxy", "list"), nil}
	self[1] = self
	l2 := server.NewList([]any{self})
	if got := l2.Repr(); !regexp.MustCompile(`^\[\[<ListProxy object, typeid 'list' at ` + addr + `>, \[\.\.\.\]\]\]$`).MatchString(got) {
		t.Errorf("self-referencing list repr: %s", got)
	}
	if got := server.NewList([]any{int64(1), "a"}).Repr(); got != "[1, 'a']" {
		t.Errorf("plain list repr: %s", got)
	}
}
