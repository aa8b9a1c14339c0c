package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/pickle"
)

// Go-side costs behind the jsonl case: encoding plus decoding the same
// small dict as a pickle and as JSON, and a Go↔Go Conn round trip of it.

func BenchmarkSmallDictPickle(b *testing.B) {
	v := jsonlPayload()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		data, err := pickle.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		var back map[string]any
		if err := pickle.Unmarshal(data, &back); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmallDictJSON(b *testing.B) {
	v := jsonlPayload()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		data, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		var back map[string]any
		if err := json.Unmarshal(data, &back); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmallDictConnRoundTrip(b *testing.B) {
	x, y, err := connection.Pipe(true)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	defer y.Close()
	go func() {
		for {
			var v any
			if y.Recv(context.Background(), &v) != nil || y.Send(context.Background(), v) != nil {
				return
			}
		}
	}()
	v := jsonlPayload()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := x.Send(context.Background(), v); err != nil {
			b.Fatal(err)
		}
		var back map[string]any
		if err := x.Recv(context.Background(), &back); err != nil {
			b.Fatal(err)
		}
	}
}
