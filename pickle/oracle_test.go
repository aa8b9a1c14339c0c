package pickle_test

// Second opinions: two independent Go unpicklers, gopickle v0.2.0 and og-rek
// v1.3.0, decode the same CPython-written corpus. Where an oracle produces a
// value made only of plain types (None, bool, int, float, str, bytes,
// bytearray, list, tuple, dict, set, frozenset) and does not fail, our decoded
// value, normalised the same way, must agree with it. (stalecucumber, a
// third candidate, is not available from the Go module proxy: 403.)

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"

	ogórek "github.com/kisielk/og-rek"
	gopickle "github.com/nlpodyssey/gopickle/pickle"
	gptypes "github.com/nlpodyssey/gopickle/types"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// errNotPlain marks an oracle value that has no plain-data normal form (an
// instance, a class, a cycle): the oracle has no opinion on that case.
type errNotPlain struct{ what string }

func (e errNotPlain) Error() string { return "not plain data: " + e.what }

type oracle struct {
	name   string
	decode func(data []byte) (any, error)
	norm   func(v any, depth int) (any, error)
	// unordered: the oracle's dicts do not keep insertion order.
	unordered bool
}

var oracles = []oracle{
	{
		name: "gopickle",
		decode: func(data []byte) (any, error) {
			u := gopickle.NewUnpickler(bytes.NewReader(data))
			u.FindClass = gopickleBuiltins
			return u.Load()
		},
		norm: normGopickle,
	},
	{
		name: "og-rek",
		decode: func(data []byte) (any, error) {
			d := ogórek.NewDecoderWithConfig(bytes.NewReader(data), &ogórek.DecoderConfig{PyDict: true, StrictUnicode: true})
			return d.Decode()
		},
		norm:      normOgrek,
		unordered: true,
	},
}

// knownOracleDiffs lists cases where an oracle disagrees with CPython itself
// (so with us), by "oracle case-name" or "oracle case-name@protocol"; the
// reason says what the oracle gets wrong. CPython's own load of each case is
// checked by TestInteropCorpus, so in these cases mpwire is the one that
// agrees with CPython.
var knownOracleDiffs = func() map[string]string {
	m := map[string]string{}
	const gpText = "gopickle does not decode raw-unicode-escape in protocol-0 UNICODE (\\uXXXX, \\UXXXXXXXX, latin-1 bytes)"
	for _, n := range []string{"str_latin1", "str_cyrillic", "str_cjk", "str_astral", "str_nul", "str_newlines",
		"str_backslash", "str_backslash_u", "str_ctrl", "str_bom", "str_multibyte255", "str_multibyte_over255",
		"str_long_nonascii", "str_whitespace", "str_lone_surrogate",
		"bytes_nul255", "bytes_newline", "message_like"} { // protocol-0 bytes are _codecs.encode(UNICODE, 'latin1')
		m["gopickle "+n+"@0"] = gpText
	}
	m["gopickle op_unicode_escapes"] = gpText
	m["gopickle op_string_double"] = "gopickle does not unescape protocol-0 STRING (Python's codecs.escape_decode)"
	m["gopickle op_string_escapes"] = m["gopickle op_string_double"]
	const ogMemo = "og-rek memoizes a list's Go slice header at PUT time, so a later GET of a list that was appended to afterwards returns the stale (shorter) slice"
	m["og-rek shared_list"] = ogMemo
	m["og-rek memo_300_lists"] = ogMemo
	for _, n := range []string{"op_dict_dup_numeric_keys", "op_dict_signed_zero_keys", "op_dict_bigint_float_key",
		"op_dict_tuple_key_equiv", "op_set_dup_numeric", "op_frozenset_key_order"} {
		m["gopickle "+n] = "gopickle compares dict keys and set items with Go equality, not Python's (1 == 1.0 == True, 0.0 == -0.0, frozensets by value), so equal keys stay separate"
	}
	for _, n := range []string{"op_dict_dup_numeric_keys", "op_dict_signed_zero_keys", "op_dict_bigint_float_key", "op_dict_tuple_key_equiv"} {
		m["og-rek "+n] = "og-rek's Dict keeps the last of several equal key objects; Python keeps the first (and replaces only the value)"
	}
	m["og-rek op_pop_mark"] = "og-rek's POP_MARK leaves the stack wrong: K1 ( K2 K3 POP_MARK STOP gives 3, CPython gives 1"
	return m
}()

func oracleDiff(o string, cc *corpusCase) (string, bool) {
	if cc.Proto != nil {
		if r, ok := knownOracleDiffs[fmt.Sprintf("%s %s@%d", o, cc.Name, *cc.Proto)]; ok {
			return r, true
		}
	}
	r, ok := knownOracleDiffs[o+" "+cc.Name]
	return r, ok
}

// oracleMaxBytes bounds the pickles given to the oracles.
const oracleMaxBytes = 4096

func safeOracle(o oracle, data []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("oracle panicked: %v", r)
		}
	}()
	v, err = o.decode(data)
	if err != nil {
		return nil, err
	}
	return o.norm(v, 0)
}

func TestOracleCorpus(t *testing.T) {
	py := pyharness.DefaultT(t)
	c := loadCorpus(t, py)
	for _, o := range oracles {
		t.Run(o.name, func(t *testing.T) {
			var agree, failed, notPlain, knownDiff, cyclic, large int
			oracleErrs := map[string]int{}
			for _, cc := range c.Cases {
				if cc.Kind == "error" {
					continue
				}
				if len(cc.Data) > oracleMaxBytes {
					large++ // big pickles repeat what small ones cover; the oracles are slow under -race
					continue
				}
				gw := workFor(cc.Data)
				if gw.err != nil {
					continue // decode failures are TestInteropCorpus's business
				}
				got, _ := json.Marshal(canonDesc(goDescLoose(gw.v, 0), o.unordered))
				if bytes.Contains(got, []byte(`["cycle"]`)) {
					cyclic++ // oracles cannot express cycles in plain Go values
					continue
				}
				if bytes.Contains(got, []byte(`["go:`)) {
					notPlain++ // an instance, class, ...: no plain value to compare
					continue
				}
				ov, err := safeOracle(o, cc.Data)
				if err != nil {
					if _, ok := err.(errNotPlain); ok {
						notPlain++
					} else {
						failed++
						msg := err.Error()
						if len(msg) > 80 {
							msg = msg[:80]
						}
						oracleErrs[msg]++
					}
					continue
				}
				want, err := json.Marshal(canonDesc(ov, o.unordered))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(got, want) {
					agree++
					continue
				}
				if reason, ok := oracleDiff(o.name, cc); ok {
					knownDiff++
					t.Logf("%s: %s differs (known: %s)", cc.ID(), o.name, reason)
					continue
				}
				t.Errorf("%s: mpwire and %s disagree\nmpwire %s\n%-6s %s\ninput %s", cc.ID(), o.name, clip(string(got), 300), o.name, clip(string(want), 300), clip(hex.EncodeToString(cc.Data), 200))
			}
			t.Logf("%s agrees on %d pickles; no opinion on %d (non-plain value, ours or the oracle's), %d (oracle error) and %d (cyclic); %d known differences; %d pickles over %d bytes not tried",
				o.name, agree, notPlain, failed, cyclic, knownDiff, large, oracleMaxBytes)
			msgs := make([]string, 0, len(oracleErrs))
			for m := range oracleErrs {
				msgs = append(msgs, m)
			}
			sort.Slice(msgs, func(i, j int) bool { return oracleErrs[msgs[i]] > oracleErrs[msgs[j]] })
			for i, m := range msgs {
				if i == 5 {
					break
				}
				t.Logf("%s error on %d pickles: %s", o.name, oracleErrs[m], m)
			}
			if agree < 300 {
				t.Errorf("%s agreed on only %d pickles: the comparison is not exercising the corpus", o.name, agree)
			}
		})
	}
}

// goDescLoose is goDesc without the contract's int64/*big.Int distinction
// (oracles choose their own int types).
func goDescLoose(v any, depth int) any {
	d := goDesc(v, depth)
	return loosenInts(d)
}

func loosenInts(d any) any {
	a, ok := d.([]any)
	if !ok || len(a) == 0 {
		return d
	}
	tag, _ := a[0].(string)
	switch tag {
	case "go:*big.Int within int64":
		return []any{"int", a[1]}
	case "list", "tuple", "set", "frozenset", "dict":
		items, _ := a[1].([]any)
		out := make([]any, len(items))
		for i, it := range items {
			if kv, ok := it.([]any); ok && tag == "dict" {
				out[i] = []any{loosenInts(kv[0]), loosenInts(kv[1])}
			} else {
				out[i] = loosenInts(it)
			}
		}
		return []any{tag, out}
	}
	return d
}

// canonDesc sorts set elements (and, for oracles whose dicts are unordered,
// dict items) by their JSON text.
func canonDesc(d any, unorderedDicts bool) any {
	a, ok := d.([]any)
	if !ok || len(a) < 2 {
		return d
	}
	tag, _ := a[0].(string)
	items, ok := a[1].([]any)
	if !ok {
		return d
	}
	out := make([]any, len(items))
	for i, it := range items {
		if kv, ok := it.([]any); ok && tag == "dict" && len(kv) == 2 {
			out[i] = []any{canonDesc(kv[0], unorderedDicts), canonDesc(kv[1], unorderedDicts)}
		} else {
			out[i] = canonDesc(it, unorderedDicts)
		}
	}
	if tag == "set" || tag == "frozenset" || (tag == "dict" && unorderedDicts) {
		out = sortedDescs(out)
	}
	return []any{tag, out}
}

func floatDesc(f float64) any {
	if math.IsNaN(f) {
		return []any{"float", "nan"}
	}
	return []any{"float", fmt.Sprintf("%016x", math.Float64bits(f))}
}

func normGopickle(v any, depth int) (any, error) {
	if depth > 500 {
		return nil, errNotPlain{"too deep (a cycle?)"}
	}
	list := func(xs []any) ([]any, error) {
		out := make([]any, len(xs))
		for i, x := range xs {
			n, err := normGopickle(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	switch x := v.(type) {
	case nil:
		return []any{"none"}, nil
	case bool:
		return []any{"bool", x}, nil
	case int:
		return []any{"int", strconv.Itoa(x)}, nil
	case *big.Int:
		return []any{"int", x.String()}, nil
	case float64:
		return floatDesc(x), nil
	case string:
		return []any{"str", x}, nil
	case []byte:
		return []any{"bytes", hex.EncodeToString(x)}, nil
	case *gptypes.ByteArray:
		return []any{"bytearray", hex.EncodeToString(*x)}, nil
	case *gptypes.List:
		items, err := list(*x)
		return []any{"list", items}, err
	case *gptypes.Tuple:
		items, err := list(*x)
		return []any{"tuple", items}, err
	case *gptypes.Dict:
		items := []any{}
		for _, e := range *x {
			k, err := normGopickle(e.Key, depth+1)
			if err != nil {
				return nil, err
			}
			val, err := normGopickle(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			items = append(items, []any{k, val})
		}
		return []any{"dict", items}, nil
	case *gptypes.Set:
		var xs []any
		for k := range *x {
			xs = append(xs, k)
		}
		items, err := list(xs)
		return []any{"set", items}, err
	case *gptypes.FrozenSet:
		var xs []any
		for k := range *x {
			xs = append(xs, k)
		}
		items, err := list(xs)
		return []any{"frozenset", items}, err
	}
	return nil, errNotPlain{fmt.Sprintf("%T", v)}
}

func normOgrek(v any, depth int) (any, error) {
	if depth > 500 {
		return nil, errNotPlain{"too deep (a cycle?)"}
	}
	list := func(xs []any) ([]any, error) {
		out := make([]any, len(xs))
		for i, x := range xs {
			n, err := normOgrek(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	switch x := v.(type) {
	case ogórek.None:
		return []any{"none"}, nil
	case bool:
		return []any{"bool", x}, nil
	case int64:
		return []any{"int", strconv.FormatInt(x, 10)}, nil
	case *big.Int:
		return []any{"int", x.String()}, nil
	case float64:
		return floatDesc(x), nil
	case string:
		return []any{"str", x}, nil
	case ogórek.ByteString: // Python 2 str: Python 3 loads it as ASCII str
		for i := 0; i < len(x); i++ {
			if x[i] >= 0x80 {
				return nil, errNotPlain{"non-ASCII py2 str"}
			}
		}
		return []any{"str", string(x)}, nil
	case ogórek.Bytes:
		return []any{"bytes", hex.EncodeToString([]byte(x))}, nil
	case []byte:
		return []any{"bytearray", hex.EncodeToString(x)}, nil
	case []any:
		items, err := list(x)
		return []any{"list", items}, err
	case ogórek.Tuple:
		items, err := list(x)
		return []any{"tuple", items}, err
	case ogórek.Dict:
		items := []any{}
		var ierr error
		x.Iter()(func(k, val any) bool {
			kn, err := normOgrek(k, depth+1)
			if err != nil {
				ierr = err
				return false
			}
			vn, err := normOgrek(val, depth+1)
			if err != nil {
				ierr = err
				return false
			}
			items = append(items, []any{kn, vn})
			return true
		})
		return []any{"dict", items}, ierr
	}
	return nil, errNotPlain{fmt.Sprintf("%T", v)}
}

// TestOracleNormalisers makes sure the oracle comparison itself can fail: a
// changed value must not compare equal.
func TestOracleNormalisers(t *testing.T) {
	a, _ := json.Marshal(canonDesc([]any{"dict", []any{[]any{[]any{"int", "1"}, []any{"str", "x"}}}}, false))
	b, _ := json.Marshal(canonDesc([]any{"dict", []any{[]any{[]any{"int", "1"}, []any{"bytes", "78"}}}}, false))
	if bytes.Equal(a, b) {
		t.Fatal("canonDesc made str and bytes equal")
	}
	s1 := canonDesc([]any{"set", []any{[]any{"int", "2"}, []any{"int", "1"}}}, false)
	s2 := canonDesc([]any{"set", []any{[]any{"int", "1"}, []any{"int", "2"}}}, false)
	j1, _ := json.Marshal(s1)
	j2, _ := json.Marshal(s2)
	if !bytes.Equal(j1, j2) {
		t.Fatalf("set order should not matter: %s vs %s", j1, j2)
	}
	if _, err := normGopickle(&gptypes.GenericObject{}, 0); err == nil || !strings.Contains(err.Error(), "not plain") {
		t.Fatalf("a gopickle object must have no plain form, got %v", err)
	}
}

// gopickleBuiltins gives gopickle the few builtins that plain data needs
// before protocol 3 (bytes are _codecs.encode(str, "latin1"), sets are
// builtins.set(list), ...); everything else stays a GenericClass.
func gopickleBuiltins(module, name string) (any, error) {
	if module == "__builtin__" {
		module = "builtins"
	}
	switch module + "." + name {
	case "_codecs.encode", "builtins.bytes", "builtins.set", "builtins.frozenset", "builtins.bytearray":
		return gpBuiltin(module + "." + name), nil
	}
	return gptypes.NewGenericClass(module, name), nil
}

type gpBuiltin string

func (f gpBuiltin) Call(args ...any) (any, error) {
	latin1 := func(s string) ([]byte, error) {
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("not latin-1: %q", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	}
	items := func() ([]any, error) {
		if len(args) == 0 {
			return nil, nil
		}
		if l, ok := args[0].(*gptypes.List); ok && len(args) == 1 {
			return *l, nil
		}
		return nil, fmt.Errorf("%s%v: unexpected arguments", string(f), args)
	}
	switch f {
	case "_codecs.encode":
		if len(args) == 2 && args[1] == "latin1" {
			if s, ok := args[0].(string); ok {
				return latin1(s)
			}
		}
	case "builtins.bytes":
		if len(args) == 0 {
			return []byte{}, nil
		}
	case "builtins.bytearray":
		switch {
		case len(args) == 0:
			return gptypes.NewByteArray(), nil
		case len(args) == 1:
			if b, ok := args[0].([]byte); ok {
				return gptypes.NewByteArrayFromSlice(b), nil
			}
		case len(args) == 2 && args[1] == "latin-1":
			if s, ok := args[0].(string); ok {
				b, err := latin1(s)
				return gptypes.NewByteArrayFromSlice(b), err
			}
		}
	case "builtins.set":
		xs, err := items()
		if err != nil {
			return nil, err
		}
		return gptypes.NewSetFromSlice(xs), nil
	case "builtins.frozenset":
		xs, err := items()
		if err != nil {
			return nil, err
		}
		return gptypes.NewFrozenSetFromSlice(xs), nil
	}
	return nil, fmt.Errorf("%s%v: unexpected arguments", string(f), args)
}
