package kustomize

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

// overlayTree returns n overlays shaped like the seed article's, each
// with comments, a base and one image.
func overlayTree(n int) fstest.MapFS {
	m := fstest.MapFS{}
	for i := range n {
		m[fmt.Sprintf("apps/app%04d/base/kustomization.yaml", i)] = file("resources:\n  - deployment.yaml\n")
		m[fmt.Sprintf("apps/app%04d/overlays/production/kustomization.yaml", i)] = file(fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

# Production of app%04d: promoted from staging.
namespace: production

resources:
  - ../../base

replicas:
  - name: app%04d
    count: 3

images:
  - name: ghcr.io/acme/app%04d
    newTag: "1.0.0" # promoted
  - name: ghcr.io/acme/shared
    newTag: 1.0.0
`, i, i, i))
	}
	return m
}

// BenchmarkEdit1000Overlays sets one image in 1,000 overlays matched by
// a glob, reading a generated tree on disk through (*os.Root).FS.
func BenchmarkEdit1000Overlays(b *testing.B) {
	dir := b.TempDir()
	for p, f := range overlayTree(1000) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, f.Data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	fsys := root.FS()
	ref, err := image.Parse("ghcr.io/acme/shared:2.0.0")
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Overlays: []string{"apps/*/overlays/production"}, Images: []image.Ref{ref}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Edit(fsys, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) != 1000 {
			b.Fatalf("edited %d files; want 1000", len(res.Files))
		}
	}
}
