package pytimeout

import (
	"context"
	"errors"
	"testing"
	"time"
)

// blockUntilDone is a wait that never succeeds: it returns its context's
// error, as every ctx-first blocking call does.
func blockUntilDone(ctx context.Context) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestWait(t *testing.T) {
	t.Run("d passing first is false and no error", func(t *testing.T) {
		ok, err := Wait(context.Background(), 5*time.Millisecond, blockUntilDone)
		if ok || err != nil {
			t.Fatalf("got (%v, %v), want (false, nil)", ok, err)
		}
	})
	t.Run("ctx ending first is ctx's error", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		ok, err := Wait(ctx, time.Hour, blockUntilDone)
		if ok || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got (%v, %v), want (false, DeadlineExceeded)", ok, err)
		}
	})
	t.Run("a cancelled ctx is context.Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Wait(ctx, time.Hour, blockUntilDone)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("negative d does not bound the wait", func(t *testing.T) {
		var bounded bool
		_, _ = Wait(context.Background(), -1, func(ctx context.Context) (bool, error) {
			_, bounded = ctx.Deadline()
			return true, nil
		})
		if bounded {
			t.Fatal("negative d set a deadline")
		}
	})
	t.Run("success and other errors pass through", func(t *testing.T) {
		boom := errors.New("boom")
		if ok, err := Wait(context.Background(), time.Hour, func(context.Context) (bool, error) { return true, nil }); !ok || err != nil {
			t.Fatalf("got (%v, %v)", ok, err)
		}
		if _, err := Wait(context.Background(), time.Hour, func(context.Context) (bool, error) { return false, boom }); err != boom {
			t.Fatalf("got %v, want boom", err)
		}
	})
}
