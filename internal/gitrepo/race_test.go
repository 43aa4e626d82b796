package gitrepo

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConcurrentPushesAllLand runs pipelines that each add their own file
// at once, redoing the commit on the new head after every lost race, and
// checks every one landed exactly once on top of the old head.
func TestConcurrentPushesAllLand(t *testing.T) {
	const pipelines = 8
	w := newWorld(t)
	var wg sync.WaitGroup
	errs := make([]error, pipelines)
	races := make([]int, pipelines)
	for i := range pipelines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.remote(t, testToken)
			path := fmt.Sprintf("apps/p%d/kustomization.yaml", i)
			for attempt := 0; attempt < 50; attempt++ {
				snap, err := r.Fetch(t.Context(), "main")
				if err != nil {
					errs[i] = err
					return
				}
				sha, err := snap.Commit([]File{{Path: path, Content: []byte(fmt.Sprintf("p: %d\n", i))}}, "pipeline "+fmt.Sprint(i), author)
				if err != nil {
					errs[i] = err
					return
				}
				err = snap.Push(t.Context(), sha, "main")
				if errors.Is(err, ErrNonFastForward) {
					races[i]++
					time.Sleep(time.Duration(i+1) * 7 * time.Millisecond)
					continue
				}
				errs[i] = err
				return
			}
			errs[i] = errors.New("lost 50 races")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("pipeline %d: %v", i, err)
		}
	}
	if diff := cmp.Diff(fmt.Sprint(pipelines), w.git(t, "rev-list", "--count", w.seed+"..main")); diff != "" {
		t.Errorf("commits on main since the seed (-want +got):\n%s", diff)
	}
	files := w.git(t, "ls-tree", "--name-only", "main", "apps/")
	for i := range pipelines {
		if !strings.Contains(files, fmt.Sprintf("apps/p%d", i)) {
			t.Errorf("apps/p%d missing on main: %s", i, files)
		}
	}
	if _, err := w.srv.Git(t.Context(), repoName, "merge-base", "--is-ancestor", w.seed, "main"); err != nil {
		t.Errorf("the seed is not an ancestor of main: history was rewritten")
	}
	total := 0
	for _, n := range races {
		total += n
	}
	t.Logf("%d lost races in all", total)
}

func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{"a <b@c>", "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>", "<>", "a <b@c", "x\n <a@b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignature(s)
		if err != nil {
			var bad interface{ BadInput() bool }
			if !errors.As(err, &bad) {
				t.Errorf("ParseSignature(%q) error %v is not bad input", s, err)
			}
			return
		}
		if sig.Name == "" || sig.Email == "" || strings.ContainsAny(sig.Name+sig.Email, "<>\n") {
			t.Errorf("ParseSignature(%q) = %+v: not a clean signature", s, sig)
		}
		again, err := ParseSignature(sig.String())
		if err != nil || again != sig {
			t.Errorf("ParseSignature(%q) = %+v does not round-trip: %+v, %v", s, sig, again, err)
		}
	})
}
