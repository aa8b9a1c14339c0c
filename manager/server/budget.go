package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mpwire/mpwire/manager/internal/wire"
)

// DefaultMaxItems is the default of Config.MaxItems: 16 Mi items.
const DefaultMaxItems = 1 << 24

// itemBudget bounds the items a server's ready-made containers hold
// together (Config.MaxItems): a client can otherwise multiply a list with
// tiny requests (l *= 2 thirty times, l.extend(range(2**24)), many dict
// iterators each holding a copy of the keys) until the server runs out of
// memory.
type itemBudget struct {
	max  int64
	used atomic.Int64
}

type budgetKey struct{}

// budgetFrom returns the budget of the server making a call (nil outside
// a server, e.g. a Go program using a List directly).
func budgetFrom(ctx context.Context) *itemBudget {
	b, _ := ctx.Value(budgetKey{}).(*itemBudget)
	return b
}

// add changes the items held by delta; growing past max fails with
// MemoryError and changes nothing.
func (b *itemBudget) add(delta int64) error {
	for {
		used := b.used.Load()
		if delta > 0 && used+delta > b.max {
			return wire.PyErr("MemoryError", fmt.Sprintf("the Go manager server holds %d items; %d more would pass its bound (server.Config.MaxItems %d)", used, delta, b.max))
		}
		if b.used.CompareAndSwap(used, used+delta) {
			return nil
		}
	}
}

// room is how many more items the budget allows (limit when there is no
// budget).
func room(ctx context.Context, limit int) int {
	b := budgetFrom(ctx)
	if b == nil {
		return limit
	}
	return int(min(int64(limit), max(b.max-b.used.Load(), 0)))
}

// heldItems is what one container has charged to its server's budget. The
// container's lock guards it.
type heldItems struct {
	budget *itemBudget
	n      int
}

// resize charges the container's new size n to the budget of ctx; growing
// past the bound fails with MemoryError (then nothing is charged and the
// container must not grow).
func (h *heldItems) resize(ctx context.Context, n int) error {
	if h.budget == nil {
		if h.budget = budgetFrom(ctx); h.budget == nil {
			return nil
		}
		h.n = 0
	}
	if err := h.budget.add(int64(n - h.n)); err != nil {
		return err
	}
	h.n = n
	return nil
}

// settle records the size n the container has after a call, whatever the
// bound (shrinking always succeeds; growth was charged by resize first).
func (h *heldItems) settle(n int) {
	if h.budget != nil && n != h.n {
		h.budget.used.Add(int64(n - h.n))
		h.n = n
	}
}

// release returns everything to the budget (the server dropped the
// object); the next call charges the container again.
func (h *heldItems) release() {
	if h.budget != nil {
		h.budget.used.Add(int64(-h.n))
		h.budget, h.n = nil, 0
	}
}

// budgeted is implemented by the containers that charge the item budget:
// attach charges their current size when the server starts serving them
// (a factory may have filled them), detach releases it when the server
// drops them.
type budgeted interface {
	attach(ctx context.Context) error
	detach()
}

func (o *Dict) attach(ctx context.Context) error {
	return attachHeld(ctx, &o.mu, &o.held, func() int { return o.d.Len() })
}

func (o *Dict) detach() { detachHeld(&o.mu, &o.held) }

func (l *List) attach(ctx context.Context) error {
	return attachHeld(ctx, &l.mu, &l.held, func() int { return len(l.items) })
}

func (l *List) detach() { detachHeld(&l.mu, &l.held) }

func (a *Array) attach(ctx context.Context) error {
	return attachHeld(ctx, &a.mu, &a.held, func() int { return len(a.items) })
}

func (a *Array) detach() { detachHeld(&a.mu, &a.held) }

func (it *Iterator) attach(ctx context.Context) error {
	return attachHeld(ctx, &it.mu, &it.held, func() int { return len(it.items) })
}

func (it *Iterator) detach() { detachHeld(&it.mu, &it.held) }

// attachHeld charges h with the size n() of a container guarded by mu.
func attachHeld(ctx context.Context, mu *sync.Mutex, h *heldItems, n func() int) error {
	mu.Lock()
	defer mu.Unlock()
	return h.resize(ctx, n())
}

// detachHeld releases h, guarded by mu.
func detachHeld(mu *sync.Mutex, h *heldItems) {
	mu.Lock()
	defer mu.Unlock()
	h.release()
}
