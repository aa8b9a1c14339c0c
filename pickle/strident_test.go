package pickle

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// strListBody returns the protocol-4 pickle of v (a list) without its
// PROTO and FRAME header.
func strListBody(t *testing.T, v any) []byte {
	t.Helper()
	em, err := EncOptions{Protocol: 4}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 11 || b[2] != opFrame {
		t.Fatalf("no frame: %q", b)
	}
	return b[11:]
}

// sstr is s as written with SHORT_BINUNICODE and MEMOIZE.
func sstr(s string) string { return "\x8c" + string([]byte{byte(len(s))}) + s + "\x94" }

// get is BINGET i.
func get(i byte) string { return "h" + string([]byte{i}) }

// TestStrMemoByIdentity checks that the encoder memoizes strings by
// identity (doc.go, "Identity"): one string (pointer and length) is written
// once and fetched after, equal strings at different addresses are written
// each time, the empty string and one-character latin-1 strings are one
// str, as in CPython; generic and typed lists alike.
func TestStrMemoByIdentity(t *testing.T) {
	s := strings.Clone("abcdef")
	t2 := strings.Clone("abcdef")
	base := strings.Clone("héllo wörld")
	cases := []struct {
		name string
		strs []string
		want string // the items, between "]\x94(" and "e."
	}{
		{"shared", []string{s, s, s}, sstr("abcdef") + get(1) + get(1)},
		{"equal distinct", []string{s, t2, s, t2}, sstr("abcdef") + sstr("abcdef") + get(1) + get(2)},
		{"substrings", []string{base[:3], base[:3], base[:6], base[1:6], base, base[:6]},
			sstr("hé") + get(1) + sstr("héllo") + sstr("éllo") + sstr("héllo wörld") + get(2)},
		{"empty", []string{"", strings.Clone("xy")[:0], base[4:4], string([]byte{})}, sstr("") + get(1) + get(1) + get(1)},
		{"latin-1 singles", []string{"a", strings.Clone("xa")[1:], "é", strings.Clone("xé")[1:], "\u0080", "\u00ff", strings.Clone("x\u00ff")[1:]},
			sstr("a") + get(1) + sstr("é") + get(2) + sstr("\u0080") + sstr("\u00ff") + get(4)},
		{"not latin-1", []string{"Ā", strings.Clone("xĀ")[1:], "ab", strings.Clone("xab")[1:]},
			sstr("Ā") + sstr("Ā") + sstr("ab") + sstr("ab")},
	}
	for _, c := range cases {
		want := "]\x94(" + c.want + "e."
		anys := make([]any, len(c.strs))
		for i, x := range c.strs {
			anys[i] = x
		}
		for _, v := range []any{c.strs, anys} {
			if got := strListBody(t, v); string(got) != want {
				t.Errorf("%s (%T):\n got %q\nwant %q", c.name, v, got, want)
			}
		}
	}
}

// TestStrMemoKeysAndValues: a map key that is also the value (the same
// string) is written once; an equal value at another address twice; a
// string memoized in one encode is not fetched in the next.
func TestStrMemoKeysAndValues(t *testing.T) {
	k := strings.Clone("key1")
	em, _ := EncOptions{Protocol: 4}.EncMode()
	b, err := em.Marshal(map[string]string{k: k})
	if err != nil {
		t.Fatal(err)
	}
	if want := "}\x94" + sstr("key1") + get(1) + "s."; !bytes.HasSuffix(b, []byte(want)) {
		t.Errorf("shared key and value: %q, want suffix %q", b, want)
	}
	b, err = em.Marshal(map[string]string{k: strings.Clone(k)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "}\x94" + sstr("key1") + sstr("key1") + "s."; !bytes.HasSuffix(b, []byte(want)) {
		t.Errorf("equal key and value: %q, want suffix %q", b, want)
	}
	// Enough strings to grow the memo, then the same strings again.
	strs := make([]string, 300)
	for i := range strs {
		strs[i] = strings.Repeat("x", i+3)
	}
	b1 := strListBody(t, strs)
	for i := 0; i < 3; i++ {
		if b2 := strListBody(t, strs); !bytes.Equal(b1, b2) {
			t.Fatalf("encode %d of the same strings differs from the first", i+2)
		}
	}
	want := []byte("]\x94(")
	for _, x := range strs {
		if len(x) < 256 {
			want = append(want, sstr(x)...)
		} else {
			want = append(want, opBinunicode, byte(len(x)), byte(len(x)>>8), 0, 0)
			want = append(want, x+"\x94"...)
		}
	}
	if want = append(want, "e."...); !bytes.Equal(b1, want) {
		t.Errorf("distinct strings: %d bytes, want %d; first difference at %d", len(b1), len(want), firstDiff(b1, want))
	}
}

// TestStrMemoInvalid: a string that is not valid UTF-8 is refused however
// it is memoized (shared, short, one byte).
func TestStrMemoInvalid(t *testing.T) {
	for _, bad := range []string{"\xff", "\xc3", "\xc3(", "\xc0\x80", "ab\xed"} {
		for _, v := range []any{bad, []string{bad, bad}, []any{"ok", bad}, map[string]int{bad: 1}} {
			if _, err := Marshal(v); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Errorf("%q in %T: err %v", bad, v, err)
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// TestStrMemoModuleNames: globals' module names are one str per content
// (CPython's are interned), the qualified names one per global.
func TestStrMemoModuleNames(t *testing.T) {
	v := []any{Global{Module: strings.Clone("collections"), Name: "OrderedDict"}, Global{Module: strings.Clone("collections"), Name: "deque"}}
	want := "]\x94(" + sstr("collections") + sstr("OrderedDict") + "\x93\x94" + get(1) + sstr("deque") + "\x93\x94e."
	if got := strListBody(t, v); string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestStrMemoKeysByContent: a dict key equal to an earlier dict key is a
// GET of it, whatever the strings' addresses (doc.go, "Identity"): keys of
// maps encoding/json made (a string per key per object), *Dict,
// map[any]any, map[string]T, struct field names. Other strs stay by
// identity: a value equal to an earlier key, or a key equal to an earlier
// value, is written again unless it is the same string.
func TestStrMemoKeysByContent(t *testing.T) {
	em, _ := EncOptions{Protocol: 4}.EncMode()
	marshal := func(v any) string {
		t.Helper()
		b, err := em.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 11 || b[2] != opFrame {
			t.Fatalf("no frame: %q", b)
		}
		return string(b[11:])
	}
	fresh := func(s string) string { return strings.Clone(s) }
	d := func(kv ...any) *Dict {
		x := NewDict()
		for i := 0; i < len(kv); i += 2 {
			if err := x.Set(kv[i], kv[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	// [{"key": 1}, {"key": 2}]: the second key a GET of the first.
	twoDicts := "]\x94(}\x94" + sstr("key") + "K\x01s}\x94" + get(2) + "K\x02se."
	var fromJSON any
	if err := json.Unmarshal([]byte(`[{"key": 1}, {"key": 2}]`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	// encoding/json makes float64 numbers.
	jsonWant := "]\x94(}\x94" + sstr("key") + "G?\xf0\x00\x00\x00\x00\x00\x00s}\x94" + get(2) + "G@\x00\x00\x00\x00\x00\x00\x00se."
	if got := marshal(fromJSON); got != jsonWant {
		t.Errorf("json-made maps:\n got %q\nwant %q", got, jsonWant)
	}
	type rec struct {
		Key int `pickle:"key"`
	}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"map[string]any", []any{map[string]any{fresh("key"): 1}, map[string]any{fresh("key"): 2}}, twoDicts},
		{"*Dict", []any{d(fresh("key"), 1), d(fresh("key"), 2)}, twoDicts},
		{"map[any]any", []any{map[any]any{fresh("key"): 1}, map[any]any{fresh("key"): 2}}, twoDicts},
		{"map[string]int", []any{map[string]int{fresh("key"): 1}, map[string]int{fresh("key"): 2}}, twoDicts},
		{"[]map[string]int", []map[string]int{{fresh("key"): 1}, {fresh("key"): 2}}, twoDicts},
		{"struct then map", []any{rec{1}, map[string]int{fresh("key"): 2}}, twoDicts},
		{"map then struct", []any{map[string]int{fresh("key"): 1}, rec{2}}, twoDicts},
		// A key longer than the keys' cache takes (32 bytes) and a key
		// evicted from it are found in the memo.
		{"long key", []any{d(fresh(strings.Repeat("k", 40)), 1), d(fresh(strings.Repeat("k", 40)), 2)},
			"]\x94(}\x94\x8c(" + strings.Repeat("k", 40) + "\x94K\x01s}\x94" + get(2) + "K\x02se."},
		{"evicted", []any{d(fresh("axb"), 1), d(fresh("ayb"), 2), d(fresh("axb"), 3)},
			"]\x94(}\x94" + sstr("axb") + "K\x01s}\x94" + sstr("ayb") + "K\x02s}\x94" + get(2) + "K\x03se."},
		// A value equal to an earlier key is written again (json's key
		// objects are shared among keys only) ...
		{"value after key", []any{d(fresh("key"), fresh("key"))}, "]\x94}\x94" + sstr("key") + sstr("key") + "sa."},
		// ... and so is a key equal to an earlier value ...
		{"key after value", []any{fresh("key"), d(fresh("key"), 1)}, "]\x94(" + sstr("key") + "}\x94" + sstr("key") + "K\x01se."},
		// ... unless it is the same string.
		{"same key after value", func() any { k := fresh("key"); return []any{k, d(k, 1), d(fresh("key"), 2)} }(),
			"]\x94(" + sstr("key") + "}\x94" + get(1) + "K\x01s}\x94" + get(1) + "K\x02se."},
		{"same value after key", func() any { k := fresh("key"); return []any{d(k, 1), k} }(),
			"]\x94(}\x94" + sstr("key") + "K\x01s" + get(2) + "e."},
		// Non-str keys are not keyed by content.
		{"bytes keys", []any{d([]byte("key"), 1), d([]byte("key"), 2)},
			"]\x94(}\x94C\x03key\x94K\x01s}\x94C\x03key\x94K\x02se."},
	}
	for _, c := range cases {
		if got := marshal(c.v); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	// The memo of keys is emptied between encodes.
	v := []any{d(fresh("key"), 1), d(fresh("key"), 2)}
	for i := 0; i < 3; i++ {
		if got := marshal(v); got != twoDicts {
			t.Fatalf("encode %d: %q", i+1, got)
		}
	}
	if got := marshal([]any{d(fresh("key"), 2)}); got != "]\x94}\x94"+sstr("key")+"K\x02sa." {
		t.Errorf("after other encodes: %q", got)
	}
}

type keyClassT struct {
	Key map[string]int `pickle:"key"`
}

func init() { RegisterClass("strident_test", "KeyClass", keyClassT{}) }

// TestStrMemoKeysByContentReflect: the encoders by reflection (a
// registered class: its field names and the maps in it) write keys as
// the others do.
func TestStrMemoKeysByContentReflect(t *testing.T) {
	v := []any{map[string]int{strings.Clone("key"): 1}, keyClassT{Key: map[string]int{strings.Clone("key"): 2}}}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(sstr("key"))); n != 1 {
		t.Errorf("%q: \"key\" written %d times, want 1", b, n)
	}
}

// TestStrMemoKeysByContentBigMaps: the keys of maps past bigMapKeys (which
// skip keyCache) are keyed by content as well.
func TestStrMemoKeysByContentBigMaps(t *testing.T) {
	const n = bigMapKeys + 36
	typed := []map[string]int{{}, {}}
	generic := []map[string]any{{}, {}}
	for _, m := range []int{0, 1} {
		for i := 0; i < n; i++ {
			k := strings.Repeat("k", i%7+1) + strings.Repeat("x", i)
			typed[m][strings.Clone(k)] = i
			generic[m][strings.Clone(k)] = i
		}
	}
	for _, v := range []any{typed, generic} {
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for k := range typed[0] {
			if c := bytes.Count(b, []byte("\x8c"+string([]byte{byte(len(k))})+k+"\x94")); c != 1 {
				t.Errorf("%T: key %q written %d times, want 1", v, k, c)
				break
			}
		}
	}
}
