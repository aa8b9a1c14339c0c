package pickle

import (
	"fmt"
	"strings"
	"testing"
)

// Go-only micro-benchmarks on values built in Go (the side-by-side
// comparison with CPython, gopickle and og-rek is in bench_test.go).

type benchRecord struct {
	ID    int     `pickle:"id"`
	Name  string  `pickle:"name"`
	OK    bool    `pickle:"ok"`
	Score float64 `pickle:"score"`
}

func benchValues() []struct {
	name string
	v    any
} {
	dicts := make([]any, 10000)
	for i := range dicts {
		d := NewDict()
		_ = d.Set("id", int64(i))
		_ = d.Set("name", fmt.Sprintf("name%d", i))
		_ = d.Set("ok", i%2 == 0)
		_ = d.Set("score", float64(i)/3)
		dicts[i] = d
	}
	ints := make([]any, 100000)
	for i := range ints {
		ints[i] = int64(i * 7919)
	}
	strs := make([]any, 10000)
	for i := range strs {
		strs[i] = fmt.Sprintf("строка-%d-%s", i, strings.Repeat("é", i%20))
	}
	var nested any = "leaf"
	for i := 0; i < 400; i++ {
		nested = []any{nested, int64(i)}
	}
	return []struct {
		name string
		v    any
	}{
		{"small_dicts_10k", dicts},
		{"ints_100k", ints},
		{"bytes_1mib", make([]byte, 1<<20)},
		{"strs_10k", strs},
		{"nested_400", nested},
	}
}

func BenchmarkUnmarshalGeneric(b *testing.B) {
	for _, w := range benchValues() {
		data, err := Marshal(w.v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(w.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var v any
				if err := Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshalGeneric(b *testing.B) {
	for _, w := range benchValues() {
		data, err := Marshal(w.v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(w.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var buf []byte
			for i := 0; i < b.N; i++ {
				if buf, err = defaultEncMode.AppendMarshal(buf[:0], w.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func typedRecords() []benchRecord {
	recs := make([]benchRecord, 10000)
	for i := range recs {
		recs[i] = benchRecord{ID: i, Name: fmt.Sprintf("name%d", i), OK: i%2 == 0, Score: float64(i) / 3}
	}
	return recs
}

func BenchmarkMarshalTyped(b *testing.B) {
	recs := typedRecords()
	data, _ := Marshal(recs)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var buf []byte
	var err error
	for i := 0; i < b.N; i++ {
		if buf, err = defaultEncMode.AppendMarshal(buf[:0], recs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalTyped(b *testing.B) {
	data, _ := Marshal(typedRecords())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var out []benchRecord
		if err := Unmarshal(data, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderStream(b *testing.B) {
	data, _ := Marshal(benchValues()[0].v)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var v any
		if err := NewDecoder(strings.NewReader(string(data))).Decode(&v); err != nil {
			b.Fatal(err)
		}
	}
}
