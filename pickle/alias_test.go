package pickle

import (
	"bytes"
	"strings"
	"testing"
)

func TestAliasBytes(t *testing.T) {
	alias, err := DecOptions{AliasBytes: true}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	src := []any{[]byte("payload"), ByteArray("mutable"), []byte{}, bytes.Repeat([]byte{7}, 300)}
	data, err := Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	// within reports whether b's first byte is one of data's.
	within := func(b []byte) bool {
		if len(b) == 0 {
			return false
		}
		for i := range data {
			if &data[i] == &b[0] {
				return true
			}
		}
		return false
	}
	t.Run("Unmarshal returns bytes values that are slices of its input", func(t *testing.T) {
		var v any
		if err := alias.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		got := v.([]any)
		for _, i := range []int{0, 3} {
			b := got[i].([]byte)
			if !bytes.Equal(b, src[i].([]byte)) {
				t.Fatalf("item %d: %q", i, b)
			}
			if !within(b) {
				t.Errorf("item %d is a copy, not a slice of the input", i)
			}
			if cap(b) != len(b) {
				t.Errorf("item %d: cap %d, len %d: appending would overwrite the input", i, cap(b), len(b))
			}
		}
		if ba := got[1].(ByteArray); string(ba) != "mutable" || within(ba) {
			t.Errorf("bytearray %q aliases the input", ba)
		}
		if b := got[2].([]byte); b == nil || len(b) != 0 {
			t.Errorf("empty bytes decoded as %#v", b)
		}
	})
	t.Run("the default mode copies", func(t *testing.T) {
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if b := v.([]any)[0].([]byte); within(b) {
			t.Error("default Unmarshal aliases its input")
		}
	})
	t.Run("a Decoder copies", func(t *testing.T) {
		var v any
		if err := alias.NewDecoder(strings.NewReader(string(data))).Decode(&v); err != nil {
			t.Fatal(err)
		}
		if b := v.([]any)[0].([]byte); string(b) != "payload" {
			t.Errorf("got %q", b)
		}
	})
}
