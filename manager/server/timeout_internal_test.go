package server

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/mpwire/mpwire/pickle"
)

func TestSecondsSaturates(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want time.Duration
	}{
		{1.5, 1500 * time.Millisecond},
		{0, 0},
		{1e300, math.MaxInt64},
		{math.Inf(1), math.MaxInt64},
		{-1e300, math.MinInt64},
		{math.NaN(), 0},
	} {
		if got := seconds(tc.in); got != tc.want {
			t.Errorf("seconds(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// As _thread.lock.acquire: a NaN timeout is a ValueError, not an instant
// (implementation-defined) timeout.
func TestLockAcquireNaNTimeout(t *testing.T) {
	l := NewLock()
	_, err := l.CallMethod(context.Background(), callerID(1), "acquire", pickle.Tuple{true, math.NaN()}, nil)
	var pe *pickle.PythonError
	if !errors.As(err, &pe) || pe.Type.Name != "ValueError" {
		t.Fatalf("acquire(timeout=nan): %v, want ValueError", err)
	}
}

// release(n) takes the client's n: a huge one must not wrap the count.
func TestSemaphoreReleaseHugeN(t *testing.T) {
	ctx := context.Background()
	const maxInt = int64(math.MaxInt64)
	b := NewBoundedSemaphore(2)
	if _, err := b.CallMethod(ctx, callerID(1), "acquire", nil, nil); err != nil {
		t.Fatal(err)
	}
	var pe *pickle.PythonError
	if _, err := b.CallMethod(ctx, callerID(1), "release", pickle.Tuple{maxInt}, nil); !errors.As(err, &pe) || pe.Type.Name != "ValueError" {
		t.Fatalf("BoundedSemaphore.release(2**63-1): %v, want ValueError", err)
	}
	if b.value != 1 {
		t.Fatalf("value after a refused release = %d, want 1", b.value)
	}
	s := NewSemaphore(1)
	if _, err := s.CallMethod(ctx, callerID(1), "release", pickle.Tuple{maxInt}, nil); !errors.As(err, &pe) || pe.Type.Name != "OverflowError" {
		t.Fatalf("Semaphore(1).release(2**63-1): %v, want OverflowError", err)
	}
	if _, err := s.CallMethod(ctx, callerID(1), "release", pickle.Tuple{maxInt - 1}, nil); err != nil {
		t.Fatalf("Semaphore(1).release(2**63-2): %v", err)
	}
}
