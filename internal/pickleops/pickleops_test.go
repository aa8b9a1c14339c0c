package pickleops_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pickleops"
	"github.com/mpwire/mpwire/internal/pyharness"
)

// dumpOpcodes prints pickletools.opcodes as one JSON list.
const dumpOpcodes = `
import json, pickletools
print(json.dumps([{
    "code": ord(o.code), "name": o.name, "proto": o.proto,
    "arg": o.arg.name if o.arg else "",
    "before": [s.name for s in o.stack_before],
    "after": [s.name for s in o.stack_after],
} for o in pickletools.opcodes]))
`

type pyOp struct {
	Code   int      `json:"code"`
	Name   string   `json:"name"`
	Proto  int      `json:"proto"`
	Arg    string   `json:"arg"`
	Before []string `json:"before"`
	After  []string `json:"after"`
}

// want converts pickletools' description to an Op the way pickletools.dis
// reads it: with a markobject in stack_before, everything from it up is
// popped at once and the items below it one by one.
func (o pyOp) want(t *testing.T) pickleops.Op {
	op := pickleops.Op{Code: byte(o.Code), Name: o.Name, Proto: o.Proto, Pop: len(o.Before), Arg: arg(t, o.Arg)}
	if i := slices.Index(o.Before, "mark"); i >= 0 {
		op.Mark, op.Pop = true, i
	}
	for _, s := range o.After {
		if s == "mark" {
			op.PushMark = true
		} else {
			op.Push++
		}
	}
	return op
}

// arg returns the encoding pickletools names name.
func arg(t *testing.T, name string) pickleops.Arg {
	for a := pickleops.ArgNone; a.String() != "?"; a++ {
		if a.String() == name {
			return a
		}
	}
	t.Fatalf("pickletools argument %q is not in the table", name)
	return 0
}

// TestTableIsPickletools compares the table, opcode by opcode and in
// order, with pickletools.opcodes of every installed CPython.
func TestTableIsPickletools(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 30*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", dumpOpcodes}})
		var pyOps []pyOp
		if err := json.Unmarshal([]byte(out), &pyOps); err != nil {
			t.Fatalf("pickletools dump %q: %v", out, err)
		}
		all := pickleops.All()
		if len(all) != len(pyOps) {
			t.Errorf("%d opcodes, pickletools has %d", len(all), len(pyOps))
		}
		for i, p := range pyOps {
			want := p.want(t)
			if i < len(all) && all[i] != want {
				t.Errorf("opcode %d: %+v, pickletools: %+v", i, all[i], want)
			}
			got := pickleops.Lookup(byte(p.Code))
			if got == nil {
				t.Errorf("Lookup(%#x) = nil, pickletools has %s", p.Code, p.Name)
				continue
			}
			if *got != want {
				t.Errorf("Lookup(%#x) = %+v, pickletools: %+v", p.Code, *got, want)
			}
		}
	})
}

func TestLookupUnknown(t *testing.T) {
	n := 0
	for c := range 256 {
		if op := pickleops.Lookup(byte(c)); op != nil {
			n++
			if op.Code != byte(c) {
				t.Errorf("Lookup(%#x) is %s with code %#x", c, op.Name, op.Code)
			}
		}
	}
	if n != len(pickleops.All()) {
		t.Errorf("%d bytes are opcodes, the table lists %d", n, len(pickleops.All()))
	}
	for _, c := range []byte{0, 0xff, 0x99, 'A', 'z'} {
		if op := pickleops.Lookup(c); op != nil {
			t.Errorf("Lookup(%#x) = %s, want nil", c, op.Name)
		}
	}
}
