package gitrepo

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestFetchRevReadsAnOlderCommit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const file = "apps/web/overlays/dev/kustomization.yaml"
	older, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{file: []byte("images:\n- name: web\n  newTag: \"1.1.0\"\n")}, "web 1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{file: []byte("images:\n- name: web\n  newTag: \"1.2.0\"\n")}, "web 1.2.0"); err != nil {
		t.Fatal(err)
	}
	r := w.remote(t, testToken)
	snap, err := r.FetchRev(context.Background(), "main", older)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(snap.FS(), file)
	got := string(b)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Head() != older || !strings.Contains(got, `newTag: "1.1.0"`) {
		t.Errorf("head %s, %s = %q; want %s with 1.1.0", snap.Head(), file, got, older)
	}

	_, err = r.FetchRev(context.Background(), "main", strings.Repeat("ab", 20))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown commit: %v, want ErrNotFound", err)
	}
	var bad *BadInputError
	if _, err := r.FetchRev(context.Background(), "main", "abc123"); !errors.As(err, &bad) {
		t.Errorf("short SHA: %v, want a BadInputError", err)
	}
}
