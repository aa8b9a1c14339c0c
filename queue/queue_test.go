package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/pickle"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestQueuePutGetInOneProcess(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(0)
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.Put(ctx, "hi"))
	require.NoError(t, q.Put(ctx, pickle.Tuple{int64(1), "x", []byte{0}}))
	var s string
	require.NoError(t, q.Get(ctx, &s))
	assert.Equal(t, "hi", s)
	v, err := q.GetValue(ctx)
	require.NoError(t, err)
	assert.Equal(t, pickle.Tuple{int64(1), "x", []byte{0}}, v)
	n, err := q.Qsize()
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func TestQueueMaxsizeFullAndEmpty(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(2)
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.PutNowait(1))
	require.NoError(t, q.PutNowait(2))
	full, err := q.Full()
	require.NoError(t, err)
	assert.True(t, full)
	assert.ErrorIs(t, q.PutNowait(3), ErrFull)
	start := time.Now()
	err = q.PutTimeout(context.Background(), 100*time.Millisecond, 3)
	assert.ErrorIs(t, err, ErrFull)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond)
	n, _ := q.Qsize()
	assert.Equal(t, 2, n)
	var x int
	require.NoError(t, q.Get(ctx, &x))
	assert.Equal(t, 1, x)
	require.NoError(t, q.Get(ctx, &x))
	assert.Equal(t, 2, x)
	assert.ErrorIs(t, q.GetNowait(&x), ErrEmpty)
	err = q.GetTimeout(context.Background(), 50*time.Millisecond, &x)
	assert.ErrorIs(t, err, ErrEmpty)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestQueueBlockedGetIsWokenByPut(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(1)
	require.NoError(t, err)
	defer q.Close()
	got := make(chan string, 1)
	go func() {
		var s string
		if err := q.Get(ctx, &s); err != nil {
			s = err.Error()
		}
		got <- s
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, q.Put(ctx, "wake"))
	assert.Equal(t, "wake", <-got)
	// A blocked Put is woken by a Get.
	require.NoError(t, q.Put(ctx, "a"))
	done := make(chan error, 1)
	go func() { done <- q.Put(ctx, "b") }()
	time.Sleep(50 * time.Millisecond)
	var s string
	require.NoError(t, q.Get(ctx, &s))
	require.NoError(t, <-done)
	require.NoError(t, q.Get(ctx, &s))
	assert.Equal(t, "b", s)
}

func TestQueueCloseFlushesAndUnlinks(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(0)
	require.NoError(t, err)
	names := q.Names()
	for _, n := range names {
		assert.FileExists(t, "/dev/shm/sem."+n[1:])
	}
	// A second handle on the same pipe/semaphores: reading after the
	// creator closed proves the feeder flushed.
	r := q.reader
	for i := 0; i < 100; i++ {
		require.NoError(t, q.Put(ctx, i))
	}
	assert.ErrorIs(t, q.JoinThread(ctx), ErrNotClosed)
	// Keep the reader alive past Close: take a private copy of its fd.
	f, err := r.File()
	require.NoError(t, err)
	require.NoError(t, q.Close())
	require.NoError(t, q.JoinThread(ctx))
	assert.ErrorIs(t, q.Put(ctx, 1), ErrClosed)
	assert.ErrorIs(t, q.GetNowait(new(any)), ErrClosed)
	for _, n := range names {
		assert.NoFileExists(t, "/dev/shm/sem."+n[1:])
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	n, err := f.Read(buf)
	require.NoError(t, err)
	assert.Greater(t, n, 100*5, "the 100 items were written before the pipe was closed")
}

func TestQueueCloseInterruptsBlockedGet(t *testing.T) {
	q, err := New(0)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- q.Get(context.Background(), new(any)) }()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, q.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Get not interrupted by Close")
	}
}

func TestQueueManyGoroutines(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(8)
	require.NoError(t, err)
	defer q.Close()
	const producers, per = 4, 500
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := q.Put(ctx, p*per+i); err != nil {
					t.Error(err)
					return
				}
			}
		}(p)
	}
	seen := make([]int, producers*per)
	var mu sync.Mutex
	var cw sync.WaitGroup
	for c := 0; c < 3; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for {
				var x int
				err := q.GetTimeout(context.Background(), 500*time.Millisecond, &x)
				if errors.Is(err, ErrEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[x]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	cw.Wait()
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("item %d seen %d times", i, n)
		}
	}
}

func TestJoinableQueueInOneProcess(t *testing.T) {
	ctx := testCtx(t)
	q, err := NewJoinable(0)
	require.NoError(t, err)
	defer q.Close()
	for i := 0; i < 3; i++ {
		require.NoError(t, q.Put(ctx, i))
	}
	n, err := q.UnfinishedTasks()
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	ok, err := q.JoinTimeout(context.Background(), 50*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	joined := make(chan error, 1)
	go func() { joined <- q.Join(ctx) }()
	for i := 0; i < 3; i++ {
		var x int
		require.NoError(t, q.Get(ctx, &x))
		require.NoError(t, q.TaskDone(ctx))
	}
	select {
	case err := <-joined:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Join not woken")
	}
	assert.ErrorIs(t, q.TaskDone(ctx), ErrTaskDone)
}

func TestSimpleQueueInOneProcess(t *testing.T) {
	ctx := testCtx(t)
	q, err := NewSimple()
	require.NoError(t, err)
	defer q.Close()
	empty, err := q.Empty()
	require.NoError(t, err)
	assert.True(t, empty)
	require.NoError(t, q.Put(ctx, map[string]any{"a": int64(1)}))
	var m map[string]int
	require.NoError(t, q.Get(ctx, &m))
	assert.Equal(t, map[string]int{"a": 1}, m)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, q.Get(short, &m), ErrEmpty)
}

func TestItemErrorKeepsThePickle(t *testing.T) {
	ctx := testCtx(t)
	q, err := New(0)
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.Put(ctx, "not an int"))
	var x int
	err = q.Get(ctx, &x)
	var ie *ItemError
	require.ErrorAs(t, err, &ie)
	var s string
	require.NoError(t, pickle.Unmarshal(ie.Data, &s))
	assert.Equal(t, "not an int", s)
}
