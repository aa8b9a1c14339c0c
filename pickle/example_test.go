package pickle_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/mpwire/mpwire/pickle"
)

func ExampleMarshal() {
	b, err := pickle.Marshal([]any{1, 2.5, "x"})
	if err != nil {
		panic(err)
	}
	// The same bytes as Python's pickle.dumps([1, 2.5, 'x'], 4).
	fmt.Printf("%x\n", b)
	// Output: 80049514000000000000005d94284b014740040000000000008c017894652e
}

func ExampleUnmarshal() {
	// pickle.dumps({'k': (1, True)}, 4)
	data := []byte("\x80\x04\x95\r\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01k\x94K\x01\x88\x86\x94s.")
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	d := v.(*pickle.Dict)
	k, _ := d.Get("k")
	fmt.Printf("%d item, k = %#v\n", d.Len(), k)
	// Output: 1 item, k = pickle.Tuple{1, true}
}

func ExampleUnmarshal_struct() {
	type Job struct {
		ID      int           `pickle:"id"`
		Args    []string      `pickle:"args"`
		Timeout time.Duration `pickle:"timeout"`
	}
	// What Python sends for {'id': 7, 'args': ['a', 'b'], 'timeout': timedelta(seconds=1.5)}.
	data, _ := pickle.Marshal(map[string]any{"id": 7, "args": []any{"a", "b"}, "timeout": 1500 * time.Millisecond})
	var j Job
	if err := pickle.Unmarshal(data, &j); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", j)
	// Output: {ID:7 Args:[a b] Timeout:1.5s}
}

func ExampleUnmarshal_overflow() {
	data, _ := pickle.Marshal(map[string]any{"n": 300})
	var v struct{ N int8 }
	err := pickle.Unmarshal(data, &v)
	var te *pickle.UnmarshalTypeError
	fmt.Println(errors.As(err, &te), te.Field)
	fmt.Println(err)
	// Output:
	// true N
	// pickle: cannot unmarshal int 300 into Go value N of type int8: overflows int8
}

func ExampleObject() {
	// collections.OrderedDict([('a', 1)]) as Python pickles it:
	// REDUCE(OrderedDict, ()) followed by SETITEMS.
	items := pickle.NewDict()
	_ = items.Set("a", 1)
	od := &pickle.Object{Callable: pickle.Global{Module: "collections", Name: "OrderedDict"}, DictItems: items}
	b, _ := pickle.Marshal(od)
	var back any
	_ = pickle.Unmarshal(b, &back)
	o := back.(*pickle.Object)
	a, _ := o.DictItems.Get("a")
	fmt.Println(o.Callable, a)
	// Output: collections.OrderedDict 1
}

type Point struct {
	X, Y int
}

func ExampleRegisterClass() {
	// Python side: class Point: pass  (in module geometry)
	pickle.RegisterClass("geometry", "Point", Point{})
	b, _ := pickle.Marshal(Point{1, 2})
	var v any
	_ = pickle.Unmarshal(b, &v)
	fmt.Printf("%#v\n", v)
	// Output: pickle_test.Point{X:1, Y:2}
}

func ExampleDecOptions() {
	mode, _ := pickle.DecOptions{MaxDepth: 2}.DecMode()
	b, _ := pickle.Marshal([]any{[]any{[]any{"deep"}}})
	var v any
	err := mode.Unmarshal(b, &v)
	fmt.Println(errors.Is(err, pickle.ErrLimit))
	// Output: true
}

func ExampleNewDecoder() {
	var stream bytes.Buffer
	enc := pickle.NewEncoder(&stream)
	_ = enc.Encode("first")
	_ = enc.Encode(2)
	dec := pickle.NewDecoder(&stream)
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			break // io.EOF at the end
		}
		fmt.Println(v)
	}
	// Output:
	// first
	// 2
}

func ExampleEncOptions() {
	mode, _ := pickle.EncOptions{Protocol: 2}.EncMode()
	b, _ := mode.Marshal(pickle.Tuple{"a", true})
	fmt.Printf("%q\n", b)
	// Output: "\x80\x02X\x01\x00\x00\x00aq\x00\x88\x86q\x01."
}

func ExampleExt() {
	// copyreg.add_extension('geometry', 'Point', 200) in Python, then
	// pickle.dumps([geometry.Point], 2): the class travels as code 200.
	data := []byte("\x80\x02]q\x00\x82\xc8a.")
	var v any
	if err := pickle.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	fmt.Printf("%#v\n", v)
	// Go has no name for code 200; Marshal writes it back unchanged.
	b, err := pickle.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(bytes.Contains(b, []byte{0x82, 0xc8}))
	// Output:
	// []interface {}{pickle.Ext{Code:200}}
	// true
}

// A buffer handed to one decode (here, a received message that is not
// reused) can lend its memory to the bytes values instead of being copied.
func ExampleDecOptions_aliasBytes() {
	msg, _ := pickle.Marshal([]any{"blob", []byte("a large payload")})
	dm, err := pickle.DecOptions{AliasBytes: true}.DecMode()
	if err != nil {
		panic(err)
	}
	var v any
	if err := dm.Unmarshal(msg, &v); err != nil {
		panic(err)
	}
	// msg must now stay unchanged while v is in use.
	fmt.Printf("%s\n", v.([]any)[1])
	// Output: a large payload
}
