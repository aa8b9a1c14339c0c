// Package pytimeout is the one implementation of mpwire's rule for
// Python-style timeouts (see CONTRIBUTING.md): a …Timeout(ctx, d, …) helper
// bounds a ctx-first blocking call by d and reports the end of d as Python's
// timeout= argument does — a false result and no error — while the end of
// ctx stays an error matching ctx.Err().
package pytimeout

import (
	"context"
	"errors"
	"time"
)

// Wait runs wait with ctx bounded by d (d < 0: not bounded, Python's
// timeout=None; d == 0: wait's first non-blocking attempt only, as its
// context is already done) and returns its result, except that an error
// caused by d running out becomes (false, nil). wait must return an error
// matching context.DeadlineExceeded when its context's deadline passes.
func Wait(ctx context.Context, d time.Duration, wait func(context.Context) (bool, error)) (bool, error) {
	if d < 0 {
		return wait(ctx)
	}
	limit := time.Now().Add(d)
	tctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	ok, err := wait(tctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && !ctxEndsFirst(ctx, limit) {
		return false, nil
	}
	return ok, err
}

// ctxEndsFirst reports whether ctx, not the limit, ended the wait: it is
// done, or its deadline is not later than the limit (a wait that honours
// deadlines exactly may return before ctx's own timer has fired).
func ctxEndsFirst(ctx context.Context, limit time.Time) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !dl.After(limit)
}
