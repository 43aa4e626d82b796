package kustomize

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func thirtyOverlays(t *testing.T) (string, *os.Root, []FileEdit) {
	t.Helper()
	files := map[string]string{}
	var overlays []string
	for i := range 30 {
		o := fmt.Sprintf("apps/svc%02d", i)
		files[o+"/kustomization.yaml"] = okFile
		overlays = append(overlays, o)
	}
	dir, root := openRoot(t, files, 0o644)
	res, err := Edit(root.FS(), Request{Overlays: overlays, Images: refs(t, "app:v2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 30 {
		t.Fatalf("edit changed %d files, want 30", len(res.Files))
	}
	return dir, root, res.Files
}

func countNew(t *testing.T, dir string) (changed []string) {
	t.Helper()
	for i := range 30 {
		p := fmt.Sprintf("apps/svc%02d/kustomization.yaml", i)
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), "v2") {
			changed = append(changed, p)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "apps/*/.*.tmp"))
	if len(entries) > 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	return changed
}

// Finding 8: one of 30 files that cannot be written leaves all 30 as they
// were, and the message says nothing was changed.
func TestWriteFilesAllOrNothing(t *testing.T) {
	t.Parallel()
	dir, root, edits := thirtyOverlays(t)
	// One file changes under our feet between the edit and the write.
	bad := filepath.Join(dir, "apps/svc17/kustomization.yaml")
	if err := os.WriteFile(bad, []byte("images:\n- name: app\n  newTag: v9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFiles(root, edits)
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("WriteFiles = %v, want a *WriteError", err)
	}
	for _, want := range []string{"nothing was changed", "apps/svc17/kustomization.yaml", "changed since it was read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if changed := countNew(t, dir); len(changed) != 0 {
		t.Errorf("%d files were rewritten although one failed: %v", len(changed), changed)
	}
}

// A rename that fails halfway: the files already renamed get their old
// content back; when that fails too, the error names every file changed.
func TestWriteFilesRestoresAfterAFailedRename(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		failFrom    int // the rename calls from this one on fail
		failUntil   int // ... up to this one (exclusive); -1: all
		wantChanged []string
	}{
		{"restored", 5, 6, nil},
		{"restore fails", 2, -1, []string{"apps/svc00/kustomization.yaml", "apps/svc01/kustomization.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, root, edits := thirtyOverlays(t)
			calls := 0
			rename := func(r *os.Root, from, to string) error {
				calls++
				if calls > tc.failFrom && (tc.failUntil < 0 || calls <= tc.failUntil) {
					return errors.New("disk on fire")
				}
				return r.Rename(from, to)
			}
			err := writeAll(root, edits, rename)
			var we *WriteError
			if !errors.As(err, &we) {
				t.Fatalf("writeAll = %v, want a *WriteError", err)
			}
			if fmt.Sprint(we.Changed) != fmt.Sprint(tc.wantChanged) {
				t.Errorf("Changed = %v, want %v", we.Changed, tc.wantChanged)
			}
			got := countNew(t, dir)
			if fmt.Sprint(got) != fmt.Sprint(tc.wantChanged) {
				t.Errorf("files with the new content: %v, want %v", got, tc.wantChanged)
			}
			if len(tc.wantChanged) == 0 && !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error %q does not say nothing was changed", err)
			}
			for _, p := range tc.wantChanged {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name %s", err, p)
				}
			}
		})
	}
}
