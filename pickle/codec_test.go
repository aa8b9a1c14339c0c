package pickle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docs/spec.md#frames: what Python 3.8–3.13 send() writes for these objects.
var wireExamples = []struct {
	name string
	v    any
	hex  string
}{
	{"None", nil, "80044e2e"},
	{"1", int64(1), "80044b012e"},
	{"'hi'", "hi", "8004 95 0600000000000000 8c026869 94 2e"},
	{"b'\\x00\\x01'", []byte{0, 1}, "8004 95 0600000000000000 43020001 94 2e"},
	{"[1, 2.5, 'x']", []any{int64(1), 2.5, "x"}, "8004 95 1400000000000000 5d 94 28 4b01 47 4004000000000000 8c0178 94 65 2e"},
	{"{'k': (1, True)}", mustDict(map[string]any{"k": Tuple{int64(1), true}}), "8004 95 0d00000000000000 7d 94 8c016b 94 4b01 88 86 94 73 2e"},
}

func mustDict(m map[string]any) *Dict {
	d := NewDict()
	for k, v := range m {
		if err := d.Set(k, v); err != nil {
			panic(err)
		}
	}
	return d
}

func TestMarshalMatchesWireExamples(t *testing.T) {
	for _, tc := range wireExamples {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			want := unhexT(t, tc.hex)
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%s)\n got %x\nwant %x", tc.name, got, want)
			}
			var back any
			if err := Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			again, err := Marshal(back)
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("decode→encode gave %x, %v", again, err)
			}
		})
	}
}

func TestUnmarshalGenericValues(t *testing.T) {
	// protocol 0: (I00\nI10\nL12345678901234567890L\nt.
	var v any
	if err := Unmarshal([]byte("(I00\nI10\nL12345678901234567890L\nF1.5\nS'a\\n\\x41\\101'\nVx\\u00e9\\U0001f600\nt."), &v); err != nil {
		t.Fatal(err)
	}
	big1, _ := new(big.Int).SetString("12345678901234567890", 10)
	want := Tuple{false, int64(10), big1, 1.5, "a\nAA", "x\u00e9\U0001f600"}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got %#v\nwant %#v", v, want)
	}
	// BINFLOAT bits are preserved: -0.0 and a NaN with a payload.
	for _, bits := range []uint64{0x8000000000000000, 0x7ff8000000000001, 0x7ff0000000000000} {
		p := append([]byte{0x80, 4, 'G'}, byte(bits>>56), byte(bits>>48), byte(bits>>40), byte(bits>>32), byte(bits>>24), byte(bits>>16), byte(bits>>8), byte(bits), '.')
		var f any
		if err := Unmarshal(p, &f); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(f.(float64)) != bits {
			t.Fatalf("BINFLOAT %016x decoded to %016x", bits, math.Float64bits(f.(float64)))
		}
		out, _ := Marshal(f)
		if !bytes.Equal(out[11:], p[2:]) {
			t.Fatalf("BINFLOAT %016x re-encoded as %x", bits, out)
		}
	}
}

func TestSelfReferentialListKeepsIdentity(t *testing.T) {
	// l = []; l.append(l); pickle.dumps(l, 4)
	data := unhexT(t, "80049506000000000000005d946800612e")
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	inner := l[0].([]any)
	if len(l) != 1 || &inner[0] != &l[0] {
		t.Fatalf("the list does not contain itself")
	}
	out, err := Marshal(v)
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("re-encoded as %x, %v; want %x", out, err, data)
	}
}

func TestSharedReferencesKeepIdentity(t *testing.T) {
	// a = [1]; (a, a) as CPython writes it; d = {}; d["self"] = d.
	a := []any{int64(1)}
	data, err := Marshal(Tuple{a, a})
	if err != nil {
		t.Fatal(err)
	}
	if want := unhexT(t, "8004 95 0a00000000000000 5d 94 4b01 61 68 00 86 94 2e"); !bytes.Equal(data, want) {
		t.Fatalf("got %x want %x", data, want)
	}
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	tup := v.(Tuple)
	if &tup[0].([]any)[0] != &tup[1].([]any)[0] {
		t.Fatal("(a, a) decoded to two lists")
	}
	d := NewDict()
	_ = d.Set("self", d)
	data, err = Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	dd := v.(*Dict)
	if self, _ := dd.Get("self"); self != dd {
		t.Fatal("dict does not contain itself")
	}
}

func TestDictKeysComparePythonStyle(t *testing.T) {
	d := NewDict()
	for _, kv := range [][2]any{{int64(1), "a"}, {true, "b"}, {1.0, "c"}, {Tuple{int64(1), "x"}, "t"}, {[]byte("k"), "bytes"}, {"k", "str"}} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if d.Len() != 4 {
		t.Fatalf("1, True and 1.0 must be one key: %v", d)
	}
	if v, _ := d.Get(int64(1)); v != "c" {
		t.Fatalf("d[1] = %v", v)
	}
	if v, _ := d.Get(Tuple{true, "x"}); v != "t" {
		t.Fatalf("d[(True, 'x')] = %v", v)
	}
	if err := d.Set([]any{}, 1); !errors.Is(err, ErrUnhashable) {
		t.Fatalf("list key: %v", err)
	}
	for i := 0; i < 20; i++ {
		_ = d.Set(int64(100+i), i)
	}
	if !d.Delete(int64(105)) || d.Len() != 23 {
		t.Fatalf("delete: len %d", d.Len())
	}
	if v, ok := d.Get(int64(119)); !ok || v != 19 {
		t.Fatalf("indexed lookup after delete: %v %v", v, ok)
	}
}

func TestHostileInputFailsFastAndSmall(t *testing.T) {
	tests := []struct {
		name string
		data string
		is   error
	}{
		{"BINUNICODE8 claiming 2^40 bytes", "80048d000000000001000000", ErrTruncated},
		{"BINBYTES8 claiming 4 GiB", "80048e0000000001000000", ErrTruncated},
		{"FRAME longer than the input", "800495ff00000000000000284e2e", ErrTruncated},
		{"LONG4 negative length", "80028bffffffff", nil},
		{"text INT with 5000 digits", "I" + strings.Repeat("31", 5000) + "0a2e", ErrLimit},
		{"PERSID", "50310a2e", ErrUnsupported},
		{"NEXT_BUFFER", "8005972e", ErrUnsupported},
		{"unknown opcode", "ff", nil},
		{"empty input", "", ErrTruncated},
		{"STOP on empty stack", "2e", nil},
		{"APPEND across a MARK", "5d284b01612e", nil},
		{"missing memo index", "800468052e", nil},
		{"EXT1 code 0", "800282002e", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			if strings.HasPrefix(tc.data, "I") {
				data = append([]byte("I"), unhexT(t, tc.data[1:])...)
			} else {
				data = unhexT(t, tc.data)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var v any
			err := Unmarshal(data, &v)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("accepted: %#v", v)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Fatalf("allocated %d bytes for a %d-byte input", n, len(data))
			}
		})
	}
}

func TestSyntaxErrorSaysWhere(t *testing.T) {
	var v any
	err := Unmarshal(unhexT(t, "80045d4b01682a2e"), &v) // BINGET 42 at offset 5
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 5 || se.Op != opBinget || !strings.Contains(se.Error(), "Memo value not found at index 42") {
		t.Fatalf("got %#v (%v)", se, err)
	}
}

func TestDecoderStreamsInBoundedChunks(t *testing.T) {
	// A 13-byte stream claiming a 1 GiB bytes object.
	r := bytes.NewReader(unhexT(t, "80048e00000040000000004142"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var v any
	err := NewDecoder(r).Decode(&v)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("allocated %d bytes", n)
	}
	// MaxInput stops a stream that keeps sending.
	m, _ := DecOptions{MaxInput: 1000}.DecMode()
	big := append(unhexT(t, "80048e0000000001000000"), make([]byte, 5000)...)
	if err := m.NewDecoder(bytes.NewReader(big)).Decode(&v); !errors.Is(err, ErrLimit) {
		t.Fatalf("MaxInput: %v", err)
	}
}

func TestDecoderReadsConsecutivePickles(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	vals := []any{nil, int64(7), "hi", []any{int64(1), "x"}, strings.Repeat("y", 100000)}
	for _, v := range vals {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	dec := NewDecoder(iotestOneByte{&buf})
	for i, want := range vals {
		var got any
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("pickle %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pickle %d: got %#v", i, got)
		}
	}
	var v any
	if err := dec.Decode(&v); err != io.EOF {
		t.Fatalf("at end: %v", err)
	}
}

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestLimits(t *testing.T) {
	// Depth with a constant-size stack: l0 = []; then repeatedly
	// l(i+1) = [l(i)] through the memo.
	var p bytes.Buffer
	p.WriteString("\x80\x02]q\x00")
	for i := 0; i < 200; i++ {
		p.WriteString("0]h\x00aq\x00")
	}
	p.WriteString(".")
	m, _ := DecOptions{MaxDepth: 100}.DecMode()
	var v any
	if err := m.Unmarshal(p.Bytes(), &v); !errors.Is(err, ErrLimit) {
		t.Fatalf("depth: %v", err)
	}
	if err := Unmarshal(p.Bytes(), &v); err != nil {
		t.Fatalf("depth 201 with defaults: %v", err)
	}
	m, _ = DecOptions{MaxContainerLen: 3}.DecMode()
	if err := m.Unmarshal([]byte("(K\x01K\x02K\x03K\x04l."), &v); !errors.Is(err, ErrLimit) {
		t.Fatalf("container: %v", err)
	}
	m, _ = DecOptions{MaxMemo: 2}.DecMode()
	if err := m.Unmarshal([]byte("Nq\x00q\x01q\x02."), &v); !errors.Is(err, ErrLimit) {
		t.Fatalf("memo: %v", err)
	}
	// Billion laughs: t(i+1) = (t(i), t(i)) 40 times is 100 bytes of
	// pickle and 2^40 leaves when copied into typed values.
	p.Reset()
	p.WriteString("\x80\x02]q\x00")
	for i := 0; i < 40; i++ {
		p.WriteString("h\x00h\x00\x86q\x00")
	}
	p.WriteString(".")
	if err := Unmarshal(p.Bytes(), &v); err != nil {
		t.Fatalf("generic decode of a shared DAG: %v", err)
	}
	var typed rec
	m, _ = DecOptions{MaxObjects: 100000}.DecMode()
	if err := m.Unmarshal(p.Bytes(), &typed); !errors.Is(err, ErrLimit) {
		t.Fatalf("typed expansion: %v", err)
	}
	if out, err := Marshal(v); err != nil || len(out) > 400 {
		t.Fatalf("re-encoding the DAG: %d bytes, %v", len(out), err)
	}
}

type rec []rec

type point struct {
	X, Y int
	Tag  string `pickle:"tag,omitempty"`
	skip int
}

type record struct {
	ID      int8              `pickle:"id"`
	Name    string            `pickle:"name"`
	Scores  []float32         `pickle:"scores"`
	Attrs   map[string]uint16 `pickle:"attrs"`
	When    time.Time         `pickle:"when"`
	Took    time.Duration     `pickle:"took"`
	Big     big.Int           `pickle:"big"`
	Raw     []byte            `pickle:"raw"`
	Pair    [2]int            `pickle:"pair"`
	Inner   *point            `pickle:"inner"`
	Ignored int               `pickle:"-"`
	Any     any               `pickle:"any"`
}

func TestTypedRoundTrip(t *testing.T) {
	b, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	in := record{ID: -5, Name: "n", Scores: []float32{1.5, 2}, Attrs: map[string]uint16{"a": 65535},
		When: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", -5*3600)), Took: -90*time.Second + 7*time.Microsecond,
		Big: *b, Raw: []byte{0, 1}, Pair: [2]int{3, 4}, Inner: &point{X: 1, Y: 2}, Ignored: 9, Any: []any{"x"}}
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out record
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	in.Ignored = 0
	if !out.When.Equal(in.When) {
		t.Fatalf("when %v != %v", out.When, in.When)
	}
	_, off := out.When.Zone()
	if off != -5*3600 {
		t.Fatalf("offset %d", off)
	}
	out.When, in.When = time.Time{}, time.Time{}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got  %+v\nwant %+v", out, in)
	}
	// Overflow names the field.
	bad, _ := Marshal(map[string]any{"id": 300})
	err = Unmarshal(bad, &out)
	var te *UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "id" || te.Type.Kind() != reflect.Int8 {
		t.Fatalf("got %v", err)
	}
	bad, _ = Marshal(map[string]any{"inner": map[string]any{"X": "str"}})
	if err := Unmarshal(bad, &out); !errors.As(err, &te) || te.Field != "inner.X" {
		t.Fatalf("got %v", err)
	}
}

func TestNaiveAndAwareDatetimes(t *testing.T) {
	// datetime.datetime(2024, 1, 2, 3, 4, 5, 6): naive.
	naive := unhexT(t, "8004952a000000000000008c086461746574696d65948c086461746574696d65949394430a07e8010203040500000694859452942e")
	var tm time.Time
	if err := Unmarshal(naive, &tm); err != nil {
		t.Fatal(err)
	}
	if tm.Location() != Naive || !tm.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)) {
		t.Fatalf("naive: %v", tm)
	}
	if out, err := Marshal(tm); err != nil || !bytes.Equal(out, naive) {
		t.Fatalf("naive re-encoded as %x %v", out, err)
	}
	// ... with tzinfo=datetime.timezone.utc: aware, time.UTC.
	aware := unhexT(t, "80049557000000000000008c086461746574696d65948c086461746574696d65949394430a07e801020304050000069468008c0874696d657a6f6e6594939468008c0974696d6564656c74619493944b004b004b008794529485945294869452942e")
	if err := Unmarshal(aware, &tm); err != nil {
		t.Fatal(err)
	}
	if tm.Location() != time.UTC {
		t.Fatalf("aware: %v", tm)
	}
	if out, err := Marshal(tm); err != nil || !bytes.Equal(out, aware) {
		t.Fatalf("aware re-encoded as %x %v", out, err)
	}
}

type Vec struct {
	X, Y float64
}

type celsius float64

func (c celsius) MarshalPickle() (any, error) {
	return &Object{Callable: Global{"units", "Celsius"}, Args: Tuple{float64(c)}}, nil
}

func (c *celsius) UnmarshalPickle(v any) error {
	o, ok := v.(*Object)
	if !ok || len(o.Args) != 1 {
		return errors.New("not a Celsius")
	}
	f, _ := o.Args[0].(float64)
	*c = celsius(f)
	return nil
}

type loop struct{}

func (loop) MarshalPickle() (any, error) { return loop{}, nil }

func TestRegisterClassAndMarshalers(t *testing.T) {
	RegisterClass("geometry", "Vec", Vec{})
	data, err := Marshal([]any{Vec{1, 2}, celsius(21.5)})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if l[0] != (Vec{1, 2}) {
		t.Fatalf("registered class decoded as %#v", l[0])
	}
	var c celsius
	if err := Unmarshal(mustMarshal(t, l[1]), &c); err != nil || c != 21.5 {
		t.Fatalf("Unmarshaler: %v %v", c, err)
	}
	if _, err := Marshal(loop{}); err == nil {
		t.Fatal("endless Marshaler accepted")
	}
	m := map[string]any{}
	m["me"] = m
	data, err = Marshal(m)
	if err != nil {
		t.Fatalf("self-referential map: %v", err)
	}
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if me, _ := v.(*Dict).Get("me"); me != v {
		t.Fatal("map cycle lost")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProtocolsEncodeAndDecode(t *testing.T) {
	s, _ := NewSet(int64(1), "a")
	fs, _ := NewFrozenSet(Tuple{int64(1)})
	v := []any{nil, true, int64(-3), int64(1 << 40), 1.25, "é\\\n", []byte{0xff}, ByteArray("ab"), Tuple{}, Tuple{int64(1), int64(2), int64(3), int64(4)},
		mustDict(map[string]any{"a": int64(1)}), s, fs, Global{"collections", "OrderedDict"},
		&Object{Callable: Global{"m", "C"}, NewObj: true, Args: Tuple{int64(1)}, State: mustDict(map[string]any{"x": int64(1)})},
		&PythonError{Type: Global{"builtins", "ValueError"}, Args: Tuple{"bad"}}}
	for p := 0; p <= 5; p++ {
		m, err := EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
		if err != nil {
			t.Fatal(err)
		}
		data, err := m.Marshal(v)
		if err != nil {
			t.Fatalf("protocol %d: %v", p, err)
		}
		var back any
		if err := Unmarshal(data, &back); err != nil {
			t.Fatalf("protocol %d: %v\n%q", p, err, data)
		}
		again, err := m.Marshal(back)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("protocol %d: decode→encode not stable:\n%q\n%q", p, data, again)
		}
	}
	if _, err := (EncOptions{Protocol: 6}).EncMode(); err == nil {
		t.Fatal("protocol 6 accepted")
	}
}

func TestPythonErrorIsAnError(t *testing.T) {
	data := unhexT(t, "80049525000000000000008c086275696c74696e73948c0a56616c75654572726f729493948c0362616494859452942e")
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var pe *PythonError
	if err, ok := v.(error); !ok || !errors.As(err, &pe) || pe.Error() != "ValueError: bad" {
		t.Fatalf("got %#v", v)
	}
}

func TestGenericTypesInsideTypedValues(t *testing.T) {
	type holder struct {
		T  Tuple     `pickle:"t"`
		G  Global    `pickle:"g"`
		D  *Dict     `pickle:"d"`
		BA ByteArray `pickle:"ba"`
		O  *Object   `pickle:"o"`
		E  error     `pickle:"e"`
	}
	h := holder{T: Tuple{int64(1)}, G: Global{"m", "n"}, D: mustDict(map[string]any{"a": int64(1)}), BA: ByteArray("x"),
		O: &Object{Callable: Global{"m", "C"}, Args: Tuple{}}, E: &PythonError{Type: Global{"builtins", "KeyError"}, Args: Tuple{"k"}}}
	data, err := Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	for k, want := range map[string]string{"t": "tuple", "g": "global m.n", "d": "dict", "ba": "bytearray", "o": "m.C object", "e": "builtins.KeyError"} {
		got, _ := d.Get(k)
		if pyTypeName(got) != want {
			t.Errorf("%s encoded as %s, want %s", k, pyTypeName(got), want)
		}
	}
	var back holder
	if err := Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.G != h.G || back.E.Error() != "KeyError: k" || len(back.T) != 1 || string(back.BA) != "x" {
		t.Fatalf("typed decode: %+v", back)
	}
}

func TestTypedDecodeRefusesWhatGoCannotHold(t *testing.T) {
	// {(1, 2): 'b'} into map[any]any: a Tuple is not a comparable Go key.
	d := NewDict()
	_ = d.Set(Tuple{int64(1), int64(2)}, "b")
	data := mustMarshal(t, d)
	var m map[any]any
	var te *UnmarshalTypeError
	if err := Unmarshal(data, &m); !errors.As(err, &te) {
		t.Fatalf("got %v", err)
	}
	// l = []; l.append(l) into a recursive Go type.
	var r rec
	if err := Unmarshal(unhexT(t, "80049506000000000000005d946800612e"), &r); !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v", err)
	}
}

func TestUnmarshalTargets(t *testing.T) {
	data := mustMarshal(t, int64(1))
	var i int
	for _, target := range []any{nil, i, (*int)(nil)} {
		var ie *InvalidUnmarshalError
		if err := Unmarshal(data, target); !errors.As(err, &ie) {
			t.Errorf("Unmarshal(%T): %v", target, err)
		}
	}
	s, _ := NewSet("a", "b")
	var set map[string]struct{}
	var flags map[string]bool
	if err := Unmarshal(mustMarshal(t, s), &set); err != nil || len(set) != 2 {
		t.Fatalf("set into map[string]struct{}: %v %v", set, err)
	}
	if err := Unmarshal(mustMarshal(t, s), &flags); err != nil || !flags["a"] || !flags["b"] {
		t.Fatalf("set into map[string]bool: %v %v", flags, err)
	}
}

func TestMapKeysPythonCanHash(t *testing.T) {
	// NaN keys iterate (they cannot be looked up), arrays become tuples.
	data, err := Marshal(map[float64]int{math.NaN(): 1, 2: 3})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := Unmarshal(data, &v); err != nil || v.(*Dict).Len() != 2 {
		t.Fatalf("NaN key: %v %v", v, err)
	}
	data, err = Marshal(map[[2]int]string{{1, 2}: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if got, ok := v.(*Dict).Get(Tuple{int64(1), int64(2)}); !ok || got != "a" {
		t.Fatalf("array key: %v", v)
	}
}

func TestRegisteredClassAtProtocolsZeroAndOne(t *testing.T) {
	RegisterClass("geometry", "Vec", Vec{})
	for _, p := range []int{0, 1} {
		m, _ := EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
		data, err := m.Marshal(Vec{3, 4})
		if err != nil {
			t.Fatalf("protocol %d: %v", p, err)
		}
		if !bytes.Contains(data, []byte("copy_reg\n_reconstructor")) {
			t.Fatalf("protocol %d: %q", p, data)
		}
		var v any
		if err := Unmarshal(data, &v); err != nil || v != (Vec{3, 4}) {
			t.Fatalf("protocol %d: %#v %v", p, v, err)
		}
	}
}
