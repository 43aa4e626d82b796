package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// countingFS counts the files opened through it.
type countingFS struct {
	fs.FS
	mu     sync.Mutex
	opened map[string]int
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.mu.Lock()
	c.opened[name]++
	c.mu.Unlock()
	return c.FS.Open(name)
}

func TestValidateExample(t *testing.T) {
	t.Parallel()
	fsys := os.DirFS("../../testdata/example")
	res, err := Edit(fsys, Request{Overlays: []string{"apps/*/overlays/*"}, Images: refs(t, "ghcr.io/acme/user-service:1.5.0")})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(fsys, res.Files, res.Overlays); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateSeesEdits(t *testing.T) {
	t.Parallel()
	base := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:v1\n"
	fsys := fstest.MapFS{
		"base/kustomization.yaml": file("resources:\n- deployment.yaml\n"),
		"base/deployment.yaml":    file(base),
		"good/kustomization.yaml": file("resources:\n- ../base\n"),
		"bad/kustomization.yaml":  file("resources:\n- ../base\n"),
	}
	broken := []FileEdit{{Path: "bad/kustomization.yaml", Before: fsys["bad/kustomization.yaml"].Data, After: []byte("resources:\n- ../missing\n")}}
	err := Validate(fsys, broken, []string{"good", "bad"})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Validate = %v; want a *BuildError", err)
	}
	msg := err.Error()
	if be.Overlay != "bad" || !strings.HasPrefix(msg, `building overlay "bad" with kustomize: `) || !strings.Contains(msg, "missing") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming overlay bad and quoting kustomize", msg)
	}
	var bad interface{ BadInput() bool }
	if errors.As(err, &bad) {
		t.Errorf("a build error is not bad input: %v", err)
	}
	if err := Validate(fsys, nil, []string{"good", "bad"}); err != nil {
		t.Errorf("Validate without the broken edit: %v", err)
	}
}

// TestValidateReadsLazily builds one overlay in a tree of 15,000 files and
// checks that only a handful are opened.
func TestValidateReadsLazily(t *testing.T) {
	t.Parallel()
	m := fstest.MapFS{}
	for i := range 15000 {
		m[fmt.Sprintf("apps/app%04d/overlays/prod/kustomization.yaml", i)] = file("resources:\n- ../../base\n")
	}
	m["apps/app0007/base/kustomization.yaml"] = file("resources:\n- cm.yaml\n")
	m["apps/app0007/base/cm.yaml"] = file("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
	c := &countingFS{FS: m, opened: map[string]int{}}
	edit := []FileEdit{{Path: "apps/app0007/overlays/prod/kustomization.yaml", After: []byte("resources:\n- ../../base\nnamePrefix: p-\n")}}
	if err := Validate(c, edit, []string{"apps/app0007/overlays/prod"}); err != nil {
		t.Fatal(err)
	}
	if len(c.opened) > 20 {
		t.Errorf("opened %d paths to build one overlay; want a handful", len(c.opened))
	}
}

func TestValidateOutputUsesEdit(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"o/kustomization.yaml": file("resources:\n- cm.yaml\n"),
		"o/cm.yaml":            file("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
	}
	// The edit names a resource only it knows about: the build must see the edit.
	edit := []FileEdit{{Path: "o/kustomization.yaml", After: []byte("resources:\n- cm.yaml\n- nope.yaml\n")}}
	if err := Validate(fsys, edit, []string{"o"}); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Validate = %v; want kustomize's complaint about nope.yaml", err)
	}
}
