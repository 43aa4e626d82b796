// Package parallel runs the waits of several targets at once, the way every confirmation
// does: all must succeed, and the first failure ends the others. Standard library only, so
// the leaf packages (argocd, flux) may use it.
package parallel

import (
	"context"
	"errors"
	"sync"
)

// Each runs fn for every i in [0, n) at once and returns each result and error by index. The
// first error cancels the context of the others; the context.Canceled errors that cancel
// caused are left out (nil), so errs holds only what went wrong, unless ctx itself ended,
// in which case every error is kept.
func Each[T any](ctx context.Context, n int, fn func(ctx context.Context, i int) (T, error)) ([]T, []error) {
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]T, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out[i], errs[i] = fn(gctx, i)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if ctx.Err() == nil {
		for i, err := range errs {
			if errors.Is(err, context.Canceled) {
				errs[i] = nil
			}
		}
	}
	return out, errs
}
