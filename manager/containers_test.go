package manager_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// A client controls the factor of list * n; a huge one must be refused, not
// overflow the size check, panic the server or spin for 2**62 iterations.
func TestListRepeatRefusesHugeFactors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, method := range []string{"__mul__", "__rmul__", "__imul__"} {
		for _, tc := range []struct {
			items []any
			n     int64
			want  int // length of the result, or -1 for MemoryError
		}{
			{[]any{1, 2}, 3, 6},
			{[]any{1, 2}, -5, 0},
			{[]any{1, 2}, 1 << 62, -1},
			{[]any{1, 2}, 1<<62 + 1<<61, -1},
			{[]any{1, 2, 3}, 1 << 25, -1},
			{nil, 1 << 62, 0},
		} {
			l := manager.NewList(tc.items)
			done := make(chan struct{})
			var v any
			var err error
			go func() {
				defer close(done)
				v, err = l.CallMethod(ctx, nil, method, pickle.Tuple{tc.n}, nil)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatalf("%s(%d) on %d items did not return", method, tc.n, len(tc.items))
			}
			if tc.want < 0 {
				var pe *pickle.PythonError
				if !errors.As(err, &pe) || pe.Type.Name != "MemoryError" {
					t.Errorf("%s(%d) on %d items: %v, want MemoryError", method, tc.n, len(tc.items), err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s(%d): %v", method, tc.n, err)
				continue
			}
			if got := len(v.([]any)); got != tc.want {
				t.Errorf("%s(%d) on %d items: %d items, want %d", method, tc.n, len(tc.items), got, tc.want)
			}
		}
	}
}
