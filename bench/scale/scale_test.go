package main

import (
	"context"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// benchLayout is the size of the benchmarks' repository: 250 apps (and prod
// overlays) keep a -cpu 1,2 run short; the command measures 1,250.
var benchLayout = layout{Teams: 5, AppsPerTeam: 50}

// benchRemote serves a generated repository of benchLayout's shape on
// 127.0.0.1 for the benchmark's lifetime.
func benchRemote(b *testing.B) *gitrepo.Remote {
	b.Helper()
	dir := b.TempDir()
	srv, err := gitserver.Start(gitserver.WithRoot(dir), gitserver.WithToken("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	if err := generate(srv, flags{out: b.TempDir(), lay: benchLayout}); err != nil {
		b.Fatal(err)
	}
	r, err := gitrepo.New(srv.RepoURL(repoName), gitrepo.WithToken("bench"))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func benchRequest(b *testing.B) kustomize.Request {
	b.Helper()
	ref, err := image.Parse("ghcr.io/acme/envoy:1.31.0")
	if err != nil {
		b.Fatal(err)
	}
	return kustomize.Request{Overlays: []string{prodGlob}, Images: []image.Ref{ref}}
}

// BenchmarkFetchEdit is the fetch and edit phases of a run: a fresh
// snapshot each time, so the lazy blob fetches are part of it.
func BenchmarkFetchEdit(b *testing.B) {
	r := benchRemote(b)
	req := benchRequest(b)
	ctx := context.Background()
	for b.Loop() {
		snap, err := r.Fetch(ctx, "main")
		if err != nil {
			b.Fatal(err)
		}
		res, err := kustomize.Edit(snap.FS(), req)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) != benchLayout.apps() {
			b.Fatalf("edited %d files; want %d", len(res.Files), benchLayout.apps())
		}
	}
}

// BenchmarkValidate is the validate phase: one krusty build per edited
// overlay over the snapshot's FS (every blob fetched already).
func BenchmarkValidate(b *testing.B) {
	r := benchRemote(b)
	snap, err := r.Fetch(context.Background(), "main")
	if err != nil {
		b.Fatal(err)
	}
	res, err := kustomize.Edit(snap.FS(), benchRequest(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := kustomize.Validate(snap.FS(), res.Files, res.Overlays); err != nil {
		b.Fatal(err) // also fetches the rest of the blobs, outside the timing
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := kustomize.Validate(snap.FS(), res.Files, res.Overlays); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(res.Overlays)), "µs/overlay")
}

// BenchmarkRenderDiff is what the rendered change adds to the validate
// phase: RenderDiff on a Validator that has validated the edit (a
// revalidation that builds nothing, then each overlay's "before" side and
// the object diffs). Compare its µs/overlay with BenchmarkValidate's.
func BenchmarkRenderDiff(b *testing.B) {
	r := benchRemote(b)
	snap, err := r.Fetch(context.Background(), "main")
	if err != nil {
		b.Fatal(err)
	}
	res, err := kustomize.Edit(snap.FS(), benchRequest(b))
	if err != nil {
		b.Fatal(err)
	}
	v := kustomize.NewValidator()
	if err := v.Validate(snap.FS(), res.Files, res.Overlays); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		diffs, skipped, err := v.RenderDiff(snap.FS(), res.Files, res.Overlays)
		if err != nil || len(skipped) > 0 || len(diffs) != len(res.Files) {
			b.Fatalf("RenderDiff: %d objects, skipped %v, err %v", len(diffs), skipped, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(res.Overlays)), "µs/overlay")
}
