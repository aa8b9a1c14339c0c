package pickle

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// tinyCases are decimal texts at and around the subnormal range: shortest
// and long forms of random subnormals, exact halfway points between
// neighbours (ties to even) and texts a hair above and below them, the
// underflow and normal boundaries, leading zeros, signs, exponent forms.
func tinyCases() []string {
	var cs []string
	add := func(s string) {
		cs = append(cs, s)
		if s[0] != '+' && s[0] != '-' {
			cs = append(cs, "-"+s)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		bits := rng.Uint64N(1 << 52)
		if i%3 == 0 {
			// Normals up to ~1e-306, where parseTiny hands over to strconv.
			bits = rng.Uint64N(10 << 52)
		}
		f := math.Float64frombits(bits)
		for _, prec := range []int{-1, 3, 17, 25} {
			add(strconv.FormatFloat(f, 'e', prec, 64))
		}
		add(strconv.FormatFloat(f, 'g', -1, 64))
		// The exact halfway point between bits and bits+1, and next to it.
		half := new(big.Float).SetPrec(2000).SetMantExp(new(big.Float).SetInt64(int64(2*bits+1)), -1075)
		h := half.Text('e', 900)
		add(h)
		add(strings.Replace(h, "e-", "1e-", 1))
		if i%50 == 0 {
			// Past tinyDigits: the dropped digits decide.
			add(strings.Replace(h, "e-", strings.Repeat("0", 200)+"1e-", 1))
			add(strings.Replace(h, "e-", strings.Repeat("0", 200)+"e-", 1))
		}
	}
	for _, s := range []string{
		"5e-324", "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
		"2.47032822920623272e-324", "2.470328229206232720882e-324", "1e-400", "1e-330", "9.99e-331",
		"2.2250738585072014e-308", "2.2250738585072011e-308", "2.225073858507201e-308",
		"2.2250738585072012e-308", "1e-307", "1e-306", "9.999e-307", "4.4501477170144023e-308",
		"0.0000000000000000000000000000000000000000025e-281", "000000.0000025e-305", "25e-311",
		"2500000000000000000000000000000000000000e-349", "1.e-310", ".5e-310", "+2.5e-310",
		"2.5E-310", "2.5e-0310", "2.5e-999999999999999999999", "2.5e+5", "2.5", "0e-400", "0.000",
		"1e-9223372036854775808", "123456789123456789123456789e-340", "0.05e-320", "0.00025e-315",
		"00.000123e-318", "0.0e-400", "1e-18446744073709551926", "4.450147717014402e-308", "4.4501477170144028e-308", "8.9e-308",
	} {
		add(s)
	}
	return cs
}

func TestParseTinyMatchesStrconv(t *testing.T) {
	n := 0
	for _, s := range tinyCases() {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			t.Fatalf("%s: strconv: %v", s, err)
		}
		got, ok := parseTiny(s)
		if !ok {
			continue
		}
		n++
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%.60s: got %v (%#x), strconv %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
		}
		if g, err := parsePyFloat(s); err != nil || math.Float64bits(g) != math.Float64bits(want) {
			t.Fatalf("%.60s: parsePyFloat %v, %v", s, g, err)
		}
	}
	if n < 20000 {
		t.Fatalf("parseTiny read only %d of the cases", n)
	}
}

func TestParseTinyReads(t *testing.T) {
	// Texts below 2^-1021 never reach strconv's slow path.
	for _, s := range []string{"2.5e-310", "-0.05e-320", "0.00025e-315", "5e-324", "1e-400", "-1e-999999999999",
		"4.45e-308", "2.2250738585072014e-308", "1" + strings.Repeat("0", 2000) + "e-2320"} {
		if _, ok := parseTiny(s); !ok {
			t.Errorf("%.40s: left to strconv", s)
		}
	}
}

func TestParseTinyLeavesTheRest(t *testing.T) {
	for _, s := range []string{"", "-", ".", "e-310", "1e", "1e-", "1.5", "1e-300", "2.2250738585072014e-308x",
		"inf", "nan", "1..5e-310", "1e-310.5", "0", "0e-999", "-0.0", " 1e-310", "1e-310 "} {
		if f, ok := parseTiny(s); ok {
			t.Errorf("%q: parseTiny read it (%v)", s, f)
		}
	}
}

// The CPython unpickler's FLOAT (PyOS_string_to_double) refuses hex floats
// and digit separators, which strconv reads; and subnormal texts decode
// without strconv's slow path.
func TestFloatTextCPython(t *testing.T) {
	for _, s := range []string{"0x1p-2", "0X1P-1074", "1_0", "1_0e-310"} {
		var v any
		if err := Unmarshal([]byte("F"+s+"\n."), &v); err == nil {
			t.Errorf("F%s: decoded %v, CPython refuses it", s, v)
		}
	}
	var v any
	if err := Unmarshal([]byte("F2.5e-310\n."), &v); err != nil || v != 2.5e-310 {
		t.Fatalf("2.5e-310: %v, %v", v, err)
	}
	// Work, not time: 4096 subnormals decode in a few big-integer
	// divisions each; strconv's slow path would allocate its decimal
	// buffers per number too, so bound the allocations per number.
	data := []byte("(" + strings.Repeat("F2.5e-310\n", 4096) + "l.")
	allocs := testing.AllocsPerRun(3, func() {
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
	})
	if per := allocs / 4096; per > 20 {
		t.Fatalf("%.1f allocations per subnormal FLOAT", per)
	}
}

func FuzzParseTiny(f *testing.F) {
	for _, s := range tinyCases()[:200] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTiny(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			t.Fatalf("%q: parseTiny %v, strconv %v", s, got, err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: got %v, strconv %v", s, got, want)
		}
	})
}
