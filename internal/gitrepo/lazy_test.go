package gitrepo

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLazyBlobs checks what a read costs in requests: a folder's files come
// in one fetch, and past maxLazyFetches folders every file comes at once.
func TestLazyBlobs(t *testing.T) {
	w := newWorld(t)
	files := map[string][]byte{}
	for i := range maxLazyFetches + 3 {
		files[fmt.Sprintf("apps/a%02d/overlays/prod/kustomization.yaml", i)] = []byte(fmt.Sprintf("n: %d\n", i))
	}
	if _, err := w.srv.CommitFiles(repoName, "main", files, "many apps"); err != nil {
		t.Fatal(err)
	}
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if !w.logs.contains("without file contents") {
		t.Fatalf("the server can filter, yet the fetch took every blob: %q", w.logs.all())
	}
	fsys := snap.FS()
	var got []int // requests each read made
	read := func(name string) {
		t.Helper()
		before := len(w.srv.Requests())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		if want := files[name]; want != nil && string(data) != string(want) {
			t.Errorf("%s = %q, want %q", name, data, want)
		}
		got = append(got, len(w.srv.Requests())-before)
	}
	read("apps/web/overlays/prod/kustomization.yaml")
	read("apps/web/overlays/prod/kustomization.yaml") // fetched already
	read("apps/web/base/kustomization.yaml")          // another folder
	read("apps/web/base/deployment.yaml")             // came with it
	for i := range maxLazyFetches + 3 {
		read(fmt.Sprintf("apps/a%02d/overlays/prod/kustomization.yaml", i))
	}
	want := []int{2, 0, 2, 0}
	for i := range maxLazyFetches + 3 {
		switch {
		case i < maxLazyFetches-2:
			want = append(want, 2) // a folder at a time: info/refs + upload-pack
		case i == maxLazyFetches-2:
			want = append(want, 2) // the fetch past the budget takes all
		default:
			want = append(want, 0)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests per read (-want +got):\n%s", diff)
	}
}

func TestNoFilterFetchesBlobsWithTrees(t *testing.T) {
	w := newWorld(t)
	w.git(t, "config", "uploadpack.allowFilter", "false")
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if !w.logs.contains("with its files") {
		t.Errorf("fetch log does not say blobs came along: %q", w.logs.all())
	}
	before := len(w.srv.Requests())
	if _, err := fs.ReadFile(snap.FS(), prodFile); err != nil {
		t.Fatal(err)
	}
	if got := len(w.srv.Requests()) - before; got != 0 {
		t.Errorf("reading a file made %d requests, want 0", got)
	}
}

// TestFSConcurrentReads reads every file from several goroutines while the
// lazy fetches fill the storage; run with -race.
func TestFSConcurrentReads(t *testing.T) {
	w := newWorld(t)
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	fsys := snap.FS()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name, want := range seedFiles {
				got, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				if string(got) != want {
					t.Errorf("goroutine %d: %s = %q, want %q", g, name, got, want)
				}
			}
		}()
	}
	wg.Wait()
}

// TestMissingBlobs checks what the fetch of every file asks for: the
// head's blobs the snapshot lacks, each once, in tree order, and nothing
// it holds already (no commit, no tree, no blob read before).
func TestMissingBlobs(t *testing.T) {
	w := newWorld(t)
	// The same bytes as apps/web/base/kustomization.yaml: one blob, two paths.
	if _, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{
		"apps/copy/kustomization.yaml": []byte(seedFiles["apps/web/base/kustomization.yaml"]),
	}, "copy"); err != nil {
		t.Fatal(err)
	}
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	// git ls-tree -r lists in the order the walk takes; "path\tSHA" per line.
	lsTree := func(skipDir string) []string {
		var want []string
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(w.git(t, "ls-tree", "-r", "--format=%(objectname)\t%(path)", "main")), "\n") {
			sha, p, _ := strings.Cut(line, "\t")
			if !seen[sha] && !strings.HasPrefix(p, skipDir) {
				want = append(want, sha)
			}
			seen[sha] = true
		}
		return want
	}
	missing := func() []string {
		t.Helper()
		hs, err := snap.blobs.missing()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hs {
			got = append(got, h.String())
		}
		return got
	}
	if diff := cmp.Diff(lsTree("\x00"), missing()); diff != "" {
		t.Errorf("missing blobs after the fetch (-want +got):\n%s", diff)
	}
	if _, err := fs.ReadFile(snap.FS(), prodFile); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lsTree(path.Dir(prodFile)+"/"), missing()); diff != "" {
		t.Errorf("missing blobs after reading %s (-want +got):\n%s", prodFile, diff)
	}
}
