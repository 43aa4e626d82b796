package kustomize

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// renderCase runs the rendered diff of testdata/render/<name>: the edit
// its args file asks for on before/, plus every file under after/ as an
// edit of its own (a base edited between the runs, a generator's input).
func renderCase(t *testing.T, name string) []ObjectDiff {
	t.Helper()
	diffs, _ := renderCaseWith(t, name, false)
	return diffs
}

// renderCaseWith is renderCase, with every "before" built when noFast,
// and the number of overlays whose "before" came from the fast path.
func renderCaseWith(t *testing.T, name string, noFast bool) ([]ObjectDiff, int64) {
	t.Helper()
	dir := filepath.Join("testdata", "render", name)
	fsys := os.DirFS(filepath.Join(dir, "before"))
	args := readArgs(t, filepath.Join(dir, "args"))
	res, err := Edit(fsys, args.req)
	if err != nil {
		t.Fatal(err)
	}
	edits := res.Files
	extra := map[string]string{}
	if _, err := os.Stat(filepath.Join(dir, "after")); err == nil {
		extra = readTree(t, filepath.Join(dir, "after"))
	}
	for p, after := range extra {
		before, err := fs.ReadFile(fsys, p)
		if err != nil {
			before = nil // a new file
		}
		edits = append(edits, FileEdit{Path: p, Before: before, After: []byte(after)})
	}
	v := NewValidator()
	v.render.noFast = noFast
	diffs, skipped, err := v.RenderDiff(fsys, edits, res.Overlays)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	return diffs, v.render.fast.Load()
}

// goldenText is the golden form of a rendered diff: a header line per
// object, then its diff.
func goldenText(diffs []ObjectDiff) string {
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "=== %s: %s (%s)\n%s", d.Overlay, d.Object, d.Change, d.Diff)
	}
	return b.String()
}

func TestRenderDiffGolden(t *testing.T) {
	cases := []struct {
		name string
		// changes is the Change of every object that must appear, in order.
		changes []string
		// fast: the "before" side comes from the after build, not a build.
		fast bool
	}{
		{"deployment", []string{ObjectImages}, true},
		{"cronjob", []string{ObjectImages}, false}, // no images entry before: built
		{"containers", []string{ObjectImages}, true},
		{"initcontainers", []string{ObjectImages}, true},
		{"digest", []string{ObjectImages}, true},
		{"newname", []string{ObjectImages}, false}, // newName: built
		{"base-changed", []string{ObjectAdded, ObjectChanged}, false},
		{"generator", []string{ObjectAdded, ObjectRemoved, ObjectChanged}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			diffs, fast := renderCaseWith(t, c.name, false)
			if (fast > 0) != c.fast {
				t.Errorf("fast path used for %d overlays; want it used: %v", fast, c.fast)
			}
			// Building every "before" gives the same bytes.
			built, _ := renderCaseWith(t, c.name, true)
			if diff := cmp.Diff(built, diffs); diff != "" {
				t.Errorf("fast path differs from a build (-built +fast):\n%s", diff)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.Change)
			}
			if diff := cmp.Diff(c.changes, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s\n%s", diff, goldenText(diffs))
			}
			text := goldenText(diffs)
			golden := filepath.Join("testdata", "render", c.name, "want.diff")
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), text); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
			// The same input gives the same bytes.
			if again := goldenText(renderCase(t, c.name)); again != text {
				t.Errorf("a second run rendered differently:\n%s", again)
			}
		})
	}
}

// An image-only change shows the image lines and nothing else changed.
func TestRenderDiffDeploymentShowsTheImageLine(t *testing.T) {
	diffs := renderCase(t, "deployment")
	if len(diffs) != 1 {
		t.Fatalf("got %d objects, want 1:\n%s", len(diffs), goldenText(diffs))
	}
	d := diffs[0]
	if d.Object != "apps/Deployment staging/user-service" || d.Overlay != "overlays/staging" {
		t.Errorf("object %q in %q", d.Object, d.Overlay)
	}
	for _, want := range []string{"-      - image: ghcr.io/acme/user-service:1.4.1\n", "+      - image: ghcr.io/acme/user-service:1.5.0\n"} {
		if !strings.Contains(d.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, d.Diff)
		}
	}
	if strings.Count(d.Diff, "\n-") != 1 || strings.Count(d.Diff, "\n+") != 1 {
		t.Errorf("more than the image line changed:\n%s", d.Diff)
	}
	if !strings.Contains(d.Before, "user-service:1.4.1") || !strings.Contains(d.After, "user-service:1.5.0") {
		t.Errorf("before/after are not the object's YAML:\n%s\n---\n%s", d.Before, d.After)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"overlay", "object", "change", "before", "after", "diff"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}

// RenderDiff builds each overlay once more (the "before" side): the
// "after" side is the build Validate made.
func TestRenderDiffReusesTheValidationBuild(t *testing.T) {
	dir := filepath.Join("testdata", "render", "containers")
	fsys := os.DirFS(filepath.Join(dir, "before"))
	res, err := Edit(fsys, readArgs(t, filepath.Join(dir, "args")).req)
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator()
	if _, _, err := v.RenderDiff(fsys, res.Files, res.Overlays); err != nil {
		t.Fatal(err)
	}
	if n := v.builds.Load(); n != 1 {
		t.Errorf("Validate made %d builds, want 1", n)
	}
}

// A broken edit is Validate's error, and no diff.
func TestRenderDiffBuildError(t *testing.T) {
	dir := filepath.Join("testdata", "render", "deployment")
	fsys := os.DirFS(filepath.Join(dir, "before"))
	edits := []FileEdit{{Path: "overlays/staging/kustomization.yaml", After: []byte("resources:\n  - ../../nowhere\n")}}
	edits[0].Before, _ = fs.ReadFile(fsys, edits[0].Path)
	diffs, _, err := NewValidator().RenderDiff(fsys, edits, []string{"overlays/staging"})
	var be *BuildError
	if !errors.As(err, &be) || be.Overlay != "overlays/staging" {
		t.Fatalf("err = %v, want a BuildError for overlays/staging", err)
	}
	if diffs != nil {
		t.Errorf("diffs = %v, want none", diffs)
	}
}

func TestUnifiedDiffHunks(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	b := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\n"
	want := "@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -9,5 +9,5 @@\n i\n j\n k\n-l\n+L\n m\n"
	if got := unifiedDiff(a, b, 3); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := unifiedDiff("", "x\ny\n", 3); got != "@@ -0,0 +1,2 @@\n+x\n+y\n" {
		t.Errorf("an added object: %q", got)
	}
	if got := unifiedDiff(a, a, 3); got != "" {
		t.Errorf("equal texts: %q", got)
	}
}

func TestImagesOnly(t *testing.T) {
	base := "spec:\n  containers:\n  - image: a:1\n    name: a\n  replicas: 1\n"
	for _, c := range []struct {
		after string
		want  bool
	}{
		{"spec:\n  containers:\n  - image: a:2\n    name: a\n  replicas: 1\n", true},
		{"spec:\n  containers:\n  - image: a:2\n    name: a\n  replicas: 2\n", false},
		{"spec:\n  containers:\n  - image: a:1\n    name: b\n  replicas: 1\n", false},
		{"spec:\n  containers:\n  - image: a:2\n    name: a\n  - image: b\n    name: b\n  replicas: 1\n", false},
		{base, false},
	} {
		if got := imagesOnly(base, c.after); got != c.want {
			t.Errorf("imagesOnly(%q) = %v, want %v", c.after, got, c.want)
		}
	}
}

// objectYAML prints every object of every test overlay, before and after,
// as AsYAML (kustomize build's printing) does.
func TestObjectYAMLIsAsYAML(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(filepath.Join("testdata", "render"))
	if err != nil {
		t.Fatal(err)
	}
	roots := []string{filepath.Join("..", "..", "testdata", "example")}
	for _, d := range dirs {
		roots = append(roots, filepath.Join("testdata", "render", d.Name(), "before"))
	}
	k := newKustomizer()
	n := 0
	tricky := fstest.MapFS{
		"odd/kustomization.yaml": {Data: []byte("resources:\n- cm.yaml\n")},
		"odd/cm.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: odd
  annotations:
    a: "1"
    b: "true"
    c: 'null'
    d: "2001-12-14"
    e: "1.0"
data:
  int: "1"
  text: |
    line one
    line: two
  quoted: "it's \"quoted\""
  empty: ""
  unicode: "héllo ✓"
  colon: "a: b"
  hash: "# not a comment"
  tilde: "~"
  octal: "0755"
  yes: "yes"
`)},
		"odd/deploy.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: odd
spec:
  replicas: 1
  progressDeadlineSeconds: 600
  template:
    spec:
      terminationGracePeriodSeconds: 30.0
      containers:
      - name: a
        image: x:1
        args: [--ratio, "0.5", --n, "10"]
        resources: {}
        env:
        - {name: A, value: "1e3"}
        - {name: B}
`)},
	}
	tricky["odd/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources:\n- cm.yaml\n- deploy.yaml\n")}
	m, err := k.Run(newOverlayFS(tricky, nil), "/odd")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		want, _ := r.AsYAML()
		got, err := objectYAML(r)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: objectYAML differs from AsYAML (%v):\n%s\n---\n%s", r.CurId(), err, got, want)
		}
		n++
	}
	for _, root := range roots {
		fsys := os.DirFS(root)
		var ovs []overlay
		for _, glob := range []string{"*/*", "*/*/*", "*/*/*/*"} {
			if found, err := resolveOverlays(fsys, []string{glob}); err == nil {
				ovs = append(ovs, found...)
			}
		}
		for _, o := range ovs {
			m, err := k.Run(newOverlayFS(fsys, nil), "/"+o.dir)
			if err != nil {
				continue
			}
			for _, r := range m.Resources() {
				want, err := r.AsYAML()
				if err != nil {
					t.Fatal(err)
				}
				got, err := objectYAML(r)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("%s %s: objectYAML differs from AsYAML:\n%s\n---\n%s", root, r.CurId(), got, want)
				}
				n++
			}
		}
	}
	if n < 15 {
		t.Errorf("compared %d objects; want the example's and the test overlays'", n)
	}
}
