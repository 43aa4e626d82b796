package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openRoot(t *testing.T, files map[string]string, mode os.FileMode) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func TestWriteFilesKeepsModeAndWritesOnlyChanges(t *testing.T) {
	t.Parallel()
	dir, root := openRoot(t, map[string]string{"a/kustomization.yaml": okFile, "b/kustomization.yaml": okFile}, 0o600)
	res, err := Edit(root.FS(), Request{Overlays: []string{"a", "b"}, Images: refs(t, "app:v2")})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(dir, "b/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edits := append(res.Files[:1:1], FileEdit{Path: "b/kustomization.yaml", Before: []byte(okFile), After: []byte(okFile)})
	if err := WriteFiles(root, edits); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "a/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "images:\n- name: app\n  newTag: v2\n"; string(got) != want {
		t.Errorf("a/kustomization.yaml = %q; want %q", got, want)
	}
	fi, err := os.Stat(filepath.Join(dir, "a/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v; want -rw-------", fi.Mode().Perm())
	}
	after, err := os.Stat(filepath.Join(dir, "b/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the unchanged file was rewritten")
	}
	entries, err := os.ReadDir(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder a holds %d entries; want the kustomization only (no temporary left)", len(entries))
	}
}

func TestWriteFilesRefuses(t *testing.T) {
	t.Parallel()
	dir, root := openRoot(t, map[string]string{"real/kustomization.yaml": okFile, "changed/kustomization.yaml": okFile}, 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "link"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../real/kustomization.yaml", filepath.Join(dir, "link/kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "kustomization.yaml"), []byte(okFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	edit := func(p string) []FileEdit {
		return []FileEdit{{Path: p, Before: []byte(okFile), After: []byte("images: []\n")}}
	}
	tests := []struct {
		name, path, says string
		badInput         bool
	}{
		{"symlink", "link/kustomization.yaml", `"link/kustomization.yaml" is a symlink`, true},
		{"escape", "escape/kustomization.yaml", "path escapes from parent", false},
	}
	for _, tc := range tests {
		err := WriteFiles(root, edit(tc.path))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: WriteFiles = %v; want an error with %q", tc.name, err, tc.says)
		}
		var bad interface{ BadInput() bool }
		if got := errors.As(err, &bad) && bad.BadInput(); got != tc.badInput {
			t.Errorf("%s: BadInput = %v; want %v", tc.name, got, tc.badInput)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "changed/kustomization.yaml"), []byte("images: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(root, edit("changed/kustomization.yaml")); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Errorf("WriteFiles over a changed file = %v; want a refusal", err)
	}
	for p, want := range map[string]string{"real/kustomization.yaml": okFile, "changed/kustomization.yaml": "images: [x]\n"} {
		got, _ := os.ReadFile(filepath.Join(dir, p))
		if string(got) != want {
			t.Errorf("%s = %q; want it untouched", p, got)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "kustomization.yaml")); string(got) != okFile {
		t.Errorf("file outside the root was written: %q", got)
	}
}

func TestEditRefusesEscapingFolder(t *testing.T) {
	t.Parallel()
	dir, root := openRoot(t, map[string]string{"apps/x/keep": ""}, 0o644)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "kustomization.yaml"), []byte(okFile), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"escape", "apps/x/prod"} {
		if err := os.Symlink(outside, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, overlay := range []string{"escape", "apps/*/prod"} {
		_, err := Edit(root.FS(), Request{Overlays: []string{overlay}, Images: refs(t, "app:v2")})
		var bad interface{ BadInput() bool }
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), "leads outside the config repository") {
			t.Errorf("Edit of %q = %v; want a BadInput refusal", overlay, err)
		}
	}
}

func TestEditRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir, root := openRoot(t, map[string]string{"real/kustomization.yaml": okFile}, 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "link"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../real/kustomization.yaml", filepath.Join(dir, "link/kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := Edit(root.FS(), Request{Overlays: []string{"link"}, Images: refs(t, "app:v2")})
	var bad interface{ BadInput() bool }
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "is a symlink") {
		t.Errorf("Edit through a symlink = %v; want a BadInput refusal", err)
	}
}
