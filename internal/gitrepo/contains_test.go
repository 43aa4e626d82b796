package gitrepo

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestContains(t *testing.T) {
	w := newWorld(t)
	// main: seed, c[1]..c[60]; side: seed, s.
	c := []string{w.seed}
	for i := 1; i <= 60; i++ {
		sha, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{"n.txt": []byte(fmt.Sprint(i))}, fmt.Sprint("commit ", i))
		if err != nil {
			t.Fatal(err)
		}
		c = append(c, sha)
	}
	if _, err := w.srv.Git(t.Context(), repoName, "branch", "side", w.seed); err != nil {
		t.Fatal(err)
	}
	side, err := w.srv.CommitFiles(repoName, "side", map[string][]byte{"side.txt": []byte("x")}, "side")
	if err != nil {
		t.Fatal(err)
	}
	r := w.remote(t, testToken)
	tests := []struct {
		name          string
		rev, ancestor string
		want          bool
	}{
		{"the same commit", c[60], c[60], true},
		{"parent, within 50", c[60], c[59], true},
		{"root, beyond 50", c[60], c[0], true},
		{"descendant is not an ancestor", c[10], c[50], false},
		{"commit of another branch", c[60], side, false},
		{"revision not on the branch", side, c[0], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Contains(t.Context(), "main", tc.rev, tc.ancestor)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Contains (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("short SHA is bad input", func(t *testing.T) {
		_, err := r.Contains(t.Context(), "main", c[60][:7], c[0])
		var bad interface{ BadInput() bool }
		if !errors.As(err, &bad) {
			t.Errorf("Contains error = %v, want a bad-input error", err)
		}
	})
}
