package pickle

import (
	"bytes"
	"errors"
	"testing"
)

// Edge cases found by running CPython's test.pickletester through the codec
// (TestCPythonPickleSuite); these tests pin them without a Python peer.

func marshalAt(t *testing.T, v any, proto int) ([]byte, error) {
	t.Helper()
	m, err := EncOptions{Protocol: proto, ProtocolZero: proto == 0}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	return m.Marshal(v)
}

func TestUnregisteredExtensionCodePassesThrough(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		code      int32
		op        string // the EXT opcode and argument Marshal must write
	}{
		{"EXT1", "800282012e", 1, "8201"},
		{"EXT2", "800283cdab2e", 0xabcd, "83cdab"},
		{"EXT4", "80028467452301 2e", 0x01234567, "8467452301"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := Unmarshal(unhexT(t, tc.hex), &v); err != nil {
				t.Fatal(err)
			}
			if v != (Ext{Code: tc.code}) {
				t.Fatalf("decoded %#v, want Ext{%d}", v, tc.code)
			}
			for p := 2; p <= 5; p++ {
				b, err := marshalAt(t, Tuple{v, v}, p)
				if err != nil {
					t.Fatalf("protocol %d: %v", p, err)
				}
				// Not memoized (CPython does not memoize EXT either): the
				// opcode is written for each reference.
				if n := bytes.Count(b, unhexT(t, tc.op)); n != 2 {
					t.Errorf("protocol %d: %x has %d EXT opcodes %s, want 2", p, b, n, tc.op)
				}
			}
			for p := 0; p <= 1; p++ {
				var uv *UnsupportedValueError
				if _, err := marshalAt(t, v, p); !errors.As(err, &uv) {
					t.Errorf("protocol %d: Marshal error %v, want *UnsupportedValueError (no EXT before protocol 2)", p, err)
				}
			}
		})
	}
	t.Run("hashable, also inside a tuple key", func(t *testing.T) {
		d := NewDict()
		if err := d.Set(Ext{Code: 7}, "a"); err != nil {
			t.Fatal(err)
		}
		if err := d.Set(Tuple{Ext{Code: 7}, int64(1)}, "b"); err != nil {
			t.Fatal(err)
		}
		if v, ok := d.Get(Ext{Code: 7}); !ok || v != "a" {
			t.Errorf("d[Ext{7}] = %v, %v", v, ok)
		}
		if v, ok := d.Get(Tuple{Ext{Code: 7}, int64(1)}); !ok || v != "b" {
			t.Errorf("d[(Ext{7}, 1)] = %v, %v", v, ok)
		}
	})
	t.Run("registered codes still decode to their Global", func(t *testing.T) {
		RegisterExtension("pyedge_test", "Registered", 0x7e57)
		var v any
		if err := Unmarshal(unhexT(t, "800283577e2e"), &v); err != nil {
			t.Fatal(err)
		}
		if v != (Global{"pyedge_test", "Registered"}) {
			t.Errorf("decoded %#v", v)
		}
	})
}

func TestClassicInstancesKeepInstOrObj(t *testing.T) {
	for _, tc := range []struct {
		name, pickle string
		args         int
	}{
		{"INST without arguments", "(i__main__\nD\np0\n(dp1\nb.", 0},
		{"OBJ without arguments", "\x80\x02(c__main__\nD\nq\x00oq\x01}q\x02b.", 0},
		{"INST with an argument", "(S'x'\ni__main__\nD\np0\n.", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := Unmarshal([]byte(tc.pickle), &v); err != nil {
				t.Fatal(err)
			}
			o, ok := v.(*Object)
			if !ok || !o.Inst || o.NewObj || o.Callable != (Global{"__main__", "D"}) || len(o.Args) != tc.args {
				t.Fatalf("decoded %#v", v)
			}
			// Protocol 0 writes INST (mark, arguments, class lines), the
			// others OBJ (mark, class, arguments): never REDUCE, which
			// would call D() where Python made D.__new__(D).
			for p := 0; p <= 5; p++ {
				b, err := marshalAt(t, o, p)
				if err != nil {
					t.Fatalf("protocol %d: %v", p, err)
				}
				want := []byte{opObj}
				if p == 0 {
					want = []byte("i__main__\nD\n")
				}
				if !bytes.Contains(b, want) || bytes.IndexByte(b, opReduce) >= 0 {
					t.Errorf("protocol %d: %q does not build the instance with %q", p, b, want)
				}
				var back any
				if err := Unmarshal(b, &back); err != nil {
					t.Fatalf("protocol %d: %v", p, err)
				}
				if bo, ok := back.(*Object); !ok || !bo.Inst || len(bo.Args) != tc.args {
					t.Errorf("protocol %d: decoded back %#v", p, back)
				}
			}
		})
	}
}

func TestByteArraysKeepIdentityEvenEmpty(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		shared    bool
	}{
		{"one empty BYTEARRAY8 twice", "8005 96 0000000000000000 94 6800 86 2e", true},
		{"two empty BYTEARRAY8", "8005 96 0000000000000000 96 0000000000000000 86 2e", false},
		{"two empty bytearray() calls", "8002 63 5f5f6275696c74696e5f5f0a627974656172726179 0a 29 52 63 5f5f6275696c74696e5f5f0a627974656172726179 0a 29 52 86 2e", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := Unmarshal(unhexT(t, tc.hex), &v); err != nil {
				t.Fatal(err)
			}
			for p := 0; p <= 5; p++ {
				b, err := marshalAt(t, v, p)
				if err != nil {
					t.Fatal(err)
				}
				var back any
				if err := Unmarshal(b, &back); err != nil {
					t.Fatal(err)
				}
				pair := back.(Tuple)
				a, c := pair[0].(ByteArray), pair[1].(ByteArray)
				if same := &a[:1][0] == &c[:1][0]; same != tc.shared {
					t.Errorf("protocol %d: the two bytearrays are one object: %v, want %v", p, same, tc.shared)
				}
			}
		})
	}
}

// The inputs CPython's unpickler refuses (test_badly_quoted_string,
// test_bad_reduce, test_load_global, ...) and that the decoder used to
// accept.
func TestRefusesWhatCPythonRefuses(t *testing.T) {
	for _, in := range []string{
		"S'\n.", "S\"\n.", "S' \n.", "S\" \n.", "S'\"\n.", "S\"'\n.", "S' ' \n.", "S\" \" \n.",
		"S ''\n.", "S \"\"\n.", "S \n.", "S\n.", "S.", "S'a'\r\n.",
		"N)R.", "\x80\x02N)\x81.", "\x80\x04N)}\x92.", "(No.",
		"c\nlog\n.", "cmath\n\n.", "(i\nX\n.",
		"V\\u12\n.", "V\\u12zz\n.", "V\\U00110000\n.", "V\\Uffffffff\n.",
	} {
		var v any
		err := Unmarshal([]byte(in), &v)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %#v, %v; want a *SyntaxError", in, v, err)
		}
	}
	for in, want := range map[string]string{
		"S''\n.": "", "S\"\"\n.": "", "S\"\\n\"\n.": "\n", "S'\\n'\n.": "\n",
		"V\\\\u0041\\u00e9\n.": "\\\\u0041é", "V\\x41\n.": "\\x41",
	} {
		var v any
		if err := Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("%q: got %q, %v; want %q", in, v, err, want)
		}
	}
}

// CPython's pickles of recursive structures through list, dict, set and
// frozenset subclasses (test_recursive_*_subclass_and_inst: MyList([o])
// with o.attr the list) re-encode byte for byte: the object reached again
// while its copyreg._reconstructor / __reduce__ arguments are written is
// written again with fresh arguments, as pickle.py does.
func TestRecursiveReduceArgumentsReencodeLikeCPython(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proto int
		hex   string
	}{
		{"list subclass", 1, "63636f70795f7265670a5f7265636f6e7374727563746f720a71002863746573742e7069636b6c657465737465720a4d794c6973740a7101635f5f6275696c74696e5f5f0a6c6973740a71025d710368002863746573742e7069636b6c657465737465720a4f626a6563740a7104635f5f6275696c74696e5f5f0a6f626a6563740a71054e7471065271077d71085804000000617474727109680028680168025d710a68076174710b52710c73626174710d5230680c2e"},
		{"dict subclass", 0, "63636f70795f7265670a5f7265636f6e7374727563746f720a70300a2863746573742e7069636b6c657465737465720a4d79446963740a70310a635f5f6275696c74696e5f5f0a646963740a70320a286470330a67300a2863746573742e7069636b6c657465737465720a4f626a6563740a70340a635f5f6275696c74696e5f5f0a6f626a6563740a70350a4e7470360a5270370a286470380a56617474720a70390a67300a2867310a67320a28647031300a67370a4e73747031310a527031320a73624e73747031330a52306731320a2e"},
		{"set subclass", 2, "800263746573742e7069636b6c657465737465720a4d795365740a71005d710163746573742e7069636b6c657465737465720a4f626a6563740a7102298171037d7104580400000061747472710568005d7106680361857107527108736261857109523068082e"},
		{"frozenset subclass", 4, "80049554000000000000008c11746573742e7069636b6c65746573746572948c0b4d7946726f7a656e5365749493945d9468008c064f626a6563749493942981947d948c04617474729468025d946806618594529473626185945230680b2e"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := unhexT(t, tc.hex)
			var v any
			if err := Unmarshal(in, &v); err != nil {
				t.Fatal(err)
			}
			out, err := marshalAt(t, v, tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("re-encoded at protocol %d:\n got %x\nwant %x", tc.proto, out, in)
			}
		})
	}
	t.Run("K(s) with s a set holding K(s)", func(t *testing.T) {
		// CPython's protocol-4 pickle of y where y = K(s), s = {y}.
		in := unhexT(t, "8004952d000000000000008c11746573742e7069636b6c65746573746572948c014b9493948f94286802680385945294908594523068052e")
		var v any
		if err := Unmarshal(in, &v); err != nil {
			t.Fatal(err)
		}
		out, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back any
		if err := Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		k, ok := back.(*Object)
		if !ok || len(k.Args) != 1 {
			t.Fatalf("decoded %#v", back)
		}
		s, ok := k.Args[0].(*Set)
		if !ok || s.Len() != 1 || s.Items()[0] != k {
			t.Errorf("K's set does not hold K itself: %#v", k.Args[0])
		}
	})
	t.Run("recursive through a list in the arguments", func(t *testing.T) {
		// l = []; o = f(l); l.append(o): fine when f keeps a reference to
		// l (as K(s) above), and Python gets o with o.args[0][0] is o.
		l := make([]any, 1)
		o := &Object{Callable: Global{"m", "f"}, Args: Tuple{l}}
		l[0] = o
		b, err := Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var back any
		if err := Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		bo, ok := back.(*Object)
		if !ok || len(bo.Args) != 1 {
			t.Fatalf("decoded %#v", back)
		}
		if bl, ok := bo.Args[0].([]any); !ok || len(bl) != 1 || bl[0] != bo {
			t.Errorf("o.args[0] is not [o]: %#v", bo.Args[0])
		}
	})
	t.Run("recursive through a tuple in the arguments", func(t *testing.T) {
		// o = f((o,)): no memoized (mutable) object breaks the cycle, so
		// no pickle can express it.
		tup := Tuple{nil}
		o := &Object{Callable: Global{"m", "f"}, Args: Tuple{tup}}
		tup[0] = o
		var uv *UnsupportedValueError
		if _, err := Marshal(o); !errors.As(err, &uv) {
			t.Errorf("Marshal: %v, want *UnsupportedValueError", err)
		}
	})
}

func TestDottedGlobalsBeforeProtocol4(t *testing.T) {
	g := Global{"test.pickletester", "Nested.A.B"}
	for p := 0; p <= 3; p++ {
		b, err := marshalAt(t, Tuple{g, g}, p)
		if err != nil {
			t.Fatal(err)
		}
		// getattr(getattr(Nested, 'A'), 'B'), memoized once.
		if bytes.Count(b, []byte("getattr")) != 1 || !bytes.Contains(b, []byte("test.pickletester\nNested\n")) || bytes.Contains(b, []byte("Nested.A")) {
			t.Errorf("protocol %d: %q", p, b)
		}
		var back any
		if err := Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		pair := back.(Tuple)
		if pair[0] != pair[1] {
			t.Errorf("protocol %d: the second reference is not the memoized first: %#v", p, pair)
		}
	}
	for _, g := range []Global{{"", "log"}, {"math", ""}} {
		var uv *UnsupportedValueError
		if _, err := marshalAt(t, g, 2); !errors.As(err, &uv) {
			t.Errorf("%#v at protocol 2: %v, want *UnsupportedValueError (GLOBAL cannot name it)", g, err)
		}
	}
	var uv *UnsupportedValueError
	if _, err := Marshal(&Object{}); !errors.As(err, &uv) {
		t.Errorf("Marshal(&Object{}): %v, want *UnsupportedValueError", err)
	}
}
