package parallel

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var errFailed = errors.New("degraded")

// blockOrFail fails target 1 and waits for the context everywhere else.
func blockOrFail(ctx context.Context, i int) (string, error) {
	if i == 1 {
		return "failed", errFailed
	}
	<-ctx.Done()
	return "waiting", ctx.Err()
}

func TestEachFirstFailureEndsTheOthers(t *testing.T) {
	t.Parallel()
	out, errs := Each(context.Background(), 3, blockOrFail)
	if diff := cmp.Diff([]string{"waiting", "failed", "waiting"}, out); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]error{nil, errFailed, nil}, errs, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("errors (-want +got): the cancellations the failure caused must be left out\n%s", diff)
	}
}

func TestEachKeepsCancellationsWhenTheCallerEnded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, errs := Each(ctx, 2, func(ctx context.Context, _ int) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("target %d: error %v, want the caller's deadline kept", i, err)
		}
	}
}

func TestEachAllSucceed(t *testing.T) {
	t.Parallel()
	out, errs := Each(context.Background(), 4, func(_ context.Context, i int) (int, error) { return i * i, nil })
	if diff := cmp.Diff([]int{0, 1, 4, 9}, out); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]error{nil, nil, nil, nil}, errs, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
