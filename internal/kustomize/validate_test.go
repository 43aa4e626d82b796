package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
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

// sharedBaseTree is n overlays o00..o(n-1) over one shared base; the
// overlays listed in broken name a resource that does not exist.
func sharedBaseTree(n int, broken ...int) fstest.MapFS {
	m := fstest.MapFS{
		"base/kustomization.yaml": file("resources:\n- deployment.yaml\n- service.yaml\n"),
		"base/deployment.yaml":    file("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web\n"),
		"base/service.yaml":       file("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"),
	}
	for i := range n {
		k := fmt.Sprintf("namespace: o%02d\nresources:\n- ../base\nimages:\n- name: web\n  newTag: \"1\"\n", i)
		if slices.Contains(broken, i) {
			k += "patches:\n- path: missing.yaml\n"
		}
		m[fmt.Sprintf("o%02d/kustomization.yaml", i)] = file(k)
	}
	return m
}

// joined returns the errors err joins.
func joined(t *testing.T, err error) []error {
	t.Helper()
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		t.Fatalf("error %v: want errors.Join of build errors", err)
	}
	return j.Unwrap()
}

// TestValidateParallel builds many overlays over one base: failures come
// back in the order of the overlays whatever order the builds end in,
// and the shared base is read once, not once per overlay.
func TestValidateParallel(t *testing.T) {
	t.Parallel()
	const n = 40
	tests := []struct {
		name   string
		broken []int
	}{
		{name: "all good"},
		{name: "three broken", broken: []int{3, 17, 31}},
		{name: "first and last broken", broken: []int{0, n - 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &countingFS{FS: sharedBaseTree(n, tc.broken...), opened: map[string]int{}}
			var want []string
			for _, i := range tc.broken {
				want = append(want, fmt.Sprintf("o%02d", i))
			}
			var got []string
			err := Validate(c, nil, []string{"o*"})
			if err != nil {
				for _, e := range joined(t, err) {
					var be *BuildError
					if !errors.As(e, &be) {
						t.Fatalf("error %v: want a *BuildError", e)
					}
					got = append(got, be.Overlay)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("failed overlays (-want +got):\n%s", diff)
			}
			// One Stat and one read at most, however many overlays use it.
			for _, p := range []string{"base/kustomization.yaml", "base/deployment.yaml", "base/service.yaml"} {
				if c.opened[p] > 2 {
					t.Errorf("%s opened %d times for %d overlays; want at most 2", p, c.opened[p], n)
				}
			}
		})
	}
}

// TestValidateOpenAPI: a kustomization naming an openapi schema changes
// kustomize's process-wide schema, so the overlays are built again one at
// a time; the result is the same as for any other tree.
func TestValidateOpenAPI(t *testing.T) {
	t.Parallel()
	m := sharedBaseTree(6, 4)
	m["o02/kustomization.yaml"] = file("openapi:\n  version: v1.21.2\nresources:\n- ../base\n")
	kfs := newOverlayFS(m, nil)
	if _, err := kfs.ReadFile("/o01/kustomization.yaml"); err != nil {
		t.Fatal(err)
	}
	if kfs.namesSchema() {
		t.Errorf("namesSchema after reading a kustomization without openapi = true")
	}
	if _, err := kfs.ReadFile("/o02/kustomization.yaml"); err != nil {
		t.Fatal(err)
	}
	if !kfs.namesSchema() {
		t.Errorf("namesSchema after reading a kustomization with openapi = false")
	}
	err := Validate(m, nil, []string{"o*"})
	var be *BuildError
	if !errors.As(err, &be) || be.Overlay != "o04" || len(joined(t, err)) != 1 {
		t.Errorf("Validate = %v; want one failure, o04's", err)
	}
}

// TestValidatorRebuildsWhatChanged validates the same overlays again and
// again, as the retries after lost push races do, changing one thing each
// time: only the overlays whose builds read something that changed are
// built again, and the failures are the same as a fresh Validate's.
func TestValidatorRebuildsWhatChanged(t *testing.T) {
	t.Parallel()
	const n = 8
	m := sharedBaseTree(n, 5)
	m["o06/kustomization.yaml"] = file("resources:\n- ../base\n# see https://example.com/runbook\n")
	v := NewValidator()
	steps := []struct {
		name       string
		change     func(fstest.MapFS) fstest.MapFS
		edits      []FileEdit
		wantBuilds int64
		wantFailed []string
	}{
		{name: "first call builds all", change: same, wantBuilds: n, wantFailed: []string{"o05"}},
		// o06 names a URL: its build is never remembered.
		{name: "nothing changed", change: same, wantBuilds: 1, wantFailed: []string{"o05"}},
		{name: "one overlay edited", change: same, wantBuilds: 2, wantFailed: []string{"o02", "o05"},
			edits: []FileEdit{{Path: "o02/kustomization.yaml", After: []byte("resources:\n- ../nope\n")}}},
		// o05, o06, and o02 whose edit is gone.
		{name: "the broken overlay fixed", wantBuilds: 3, wantFailed: nil, change: func(m fstest.MapFS) fstest.MapFS {
			m = maps.Clone(m)
			m["o05/missing.yaml"] = file("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n")
			return m
		}},
		{name: "the shared base changed", wantBuilds: n, wantFailed: nil, change: func(m fstest.MapFS) fstest.MapFS {
			m = maps.Clone(m)
			m["base/service.yaml"] = file("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    a: b\n")
			return m
		}},
	}
	for _, st := range steps {
		m = st.change(m)
		before := v.builds.Load()
		err := v.Validate(m, st.edits, []string{"o*"})
		var failed []string
		if err != nil {
			for _, e := range joined(t, err) {
				var be *BuildError
				if !errors.As(e, &be) {
					t.Fatalf("%s: error %v: want a *BuildError", st.name, e)
				}
				failed = append(failed, be.Overlay)
			}
		}
		if diff := cmp.Diff(st.wantFailed, failed); diff != "" {
			t.Errorf("%s: failed overlays (-want +got):\n%s", st.name, diff)
		}
		if fresh := Validate(m, st.edits, []string{"o*"}); fmt.Sprint(fresh) != fmt.Sprint(err) {
			t.Errorf("%s: Validator gave %v; a fresh Validate gives %v", st.name, err, fresh)
		}
		if got := v.builds.Load() - before; got != st.wantBuilds {
			t.Errorf("%s: %d builds; want %d", st.name, got, st.wantBuilds)
		}
	}
}

func same(m fstest.MapFS) fstest.MapFS { return m }
