package kustomize

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestOverlayFS checks the kustomize file system Validate builds over:
// reads see the edits, everything else comes from the fs.FS, writes are
// refused.
func TestOverlayFS(t *testing.T) {
	t.Parallel()
	o := newOverlayFS(fstest.MapFS{
		"a/kustomization.yaml": file("resources: []\n"),
		"a/b/cm.yaml":          file("kind: ConfigMap\n"),
	}, []FileEdit{{Path: "a/kustomization.yaml", After: []byte("edited\n")}})

	read := func(p string) string {
		data, err := o.ReadFile(p)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(data)
	}
	if got := read("/a/kustomization.yaml"); got != "edited\n" {
		t.Errorf("ReadFile of an edited file = %q", got)
	}
	if got := read("a/b/cm.yaml"); got != "kind: ConfigMap\n" {
		t.Errorf("ReadFile of a plain file = %q", got)
	}
	f, err := o.Open("/a/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	fi, _ := f.Stat()
	if string(data) != "edited\n" || fi.Size() != 7 || fi.Name() != "kustomization.yaml" || fi.IsDir() {
		t.Errorf("Open: %q, stat %v %d", data, fi.Name(), fi.Size())
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, errReadOnly) {
		t.Errorf("File.Write = %v; want read-only", err)
	}
	f.Close()

	for _, tc := range []struct {
		p             string
		isDir, exists bool
	}{{"/", true, true}, {"/a", true, true}, {"/a/b/cm.yaml", false, true}, {"/a/kustomization.yaml", false, true}, {"/nope", false, false}} {
		if o.IsDir(tc.p) != tc.isDir || o.Exists(tc.p) != tc.exists {
			t.Errorf("%s: IsDir %v Exists %v; want %v %v", tc.p, o.IsDir(tc.p), o.Exists(tc.p), tc.isDir, tc.exists)
		}
	}
	names, err := o.ReadDir("/a")
	if diff := cmp.Diff([]string{"b", "kustomization.yaml"}, names); err != nil || diff != "" {
		t.Errorf("ReadDir: %v (-want +got):\n%s", err, diff)
	}
	dir, name, err := o.CleanedAbs("/a/b/../kustomization.yaml")
	if err != nil || dir != filesys.ConfirmedDir("/a") || name != "kustomization.yaml" {
		t.Errorf("CleanedAbs = %q, %q, %v", dir, name, err)
	}
	dir, name, err = o.CleanedAbs("a/b")
	if err != nil || dir != filesys.ConfirmedDir("/a/b") || name != "" {
		t.Errorf("CleanedAbs of a folder = %q, %q, %v", dir, name, err)
	}
	if _, _, err := o.CleanedAbs("/nope"); err == nil {
		t.Error("CleanedAbs of a missing path: no error")
	}
	matches, err := o.Glob("/a/*.yaml")
	if diff := cmp.Diff([]string{"/a/kustomization.yaml"}, matches); err != nil || diff != "" {
		t.Errorf("Glob: %v (-want +got):\n%s", err, diff)
	}
	var walked []string
	err = o.Walk("/a", func(p string, info fs.FileInfo, err error) error {
		walked = append(walked, filepath.ToSlash(p))
		return err
	})
	if diff := cmp.Diff([]string{"/a", "/a/b", "/a/b/cm.yaml", "/a/kustomization.yaml"}, walked); err != nil || diff != "" {
		t.Errorf("Walk: %v (-want +got):\n%s", err, diff)
	}
	for name, err := range map[string]error{
		"WriteFile": o.WriteFile("/a/x", nil), "Mkdir": o.Mkdir("/x"), "MkdirAll": o.MkdirAll("/x/y"), "RemoveAll": o.RemoveAll("/a"),
	} {
		if !errors.Is(err, errReadOnly) {
			t.Errorf("%s = %v; want read-only", name, err)
		}
	}
	if _, err := o.Create("/a/x"); !errors.Is(err, errReadOnly) {
		t.Errorf("Create = %v; want read-only", err)
	}
}
