package queue

import (
	"context"
	"testing"
)

// benchPutGet moves b.N items through one Queue inside this process: one
// goroutine puts, the benchmark goroutine gets (the feeder and the pipe
// are real; only the processes are the same).
func benchPutGet(b *testing.B, item any, size int) {
	ctx := context.Background()
	q, err := New(0)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	data, err := q.cfg.enc.Marshal(item)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := 0; i < b.N; i++ {
			if err := q.PutPickle(ctx, data); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	var v any
	for i := 0; i < b.N; i++ {
		if err := q.Get(ctx, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutGetSmallInt(b *testing.B) { benchPutGet(b, 12345, 8) }

func BenchmarkPutGet1MiB(b *testing.B) { benchPutGet(b, make([]byte, 1<<20), 1<<20) }

func BenchmarkPutSmallInt(b *testing.B) {
	ctx := context.Background()
	q, err := New(0)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	done := make(chan struct{})
	go func() { // drain so the pipe never fills
		defer close(done)
		var v any
		for i := 0; i < b.N; i++ {
			if err := q.Get(ctx, &v); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.SetBytes(8)
	for i := 0; i < b.N; i++ {
		if err := q.Put(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
