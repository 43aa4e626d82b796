package kustomize

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func refs(t *testing.T, args ...string) []image.Ref {
	t.Helper()
	var out []image.Ref
	for _, a := range args {
		r, err := image.Parse(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

const okFile = "images:\n- name: app\n  newTag: v1\n"

// TestEditBadInput: every refusal is BadInput, on one line, names what was
// wrong, and nothing is returned to write.
func TestEditBadInput(t *testing.T) {
	t.Parallel()
	big := "images: []\n# " + strings.Repeat("x", MaxFileSize) + "\n"
	tests := []struct {
		name string
		fsys fstest.MapFS
		req  Request
		says string
	}{
		{"no overlay", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Images: []image.Ref{{Name: "app", Tag: "v2"}}}, "no overlay given"},
		{"missing folder", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"nope"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "nope": no such folder`},
		{"dot dot", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o/../../etc"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "o/../../etc": ".." leads outside the root`},
		{"absolute", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"/etc"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "/etc": absolute path`},
		{"glob without match", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"apps/*/prod"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay pattern "apps/*/prod" matches no folder`},
		{"bad glob", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o/[x"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay pattern "o/[x"`},
		{"not a folder", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o/kustomization.yaml"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "o/kustomization.yaml": not a folder`},
		{"no kustomization", fstest.MapFS{"o/x.yaml": file(okFile)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "o" has no kustomization file`},
		{"two kustomizations", fstest.MapFS{"o/kustomization.yaml": file(okFile), "o/Kustomization": file(okFile)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `overlay "o" has more than one kustomization file: o/kustomization.yaml, o/Kustomization`},
		{"invalid yaml", fstest.MapFS{"o/kustomization.yaml": file("images: [\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml" is not valid YAML`},
		{"duplicate key", fstest.MapFS{"o/kustomization.yaml": file("images: []\nimages: []\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml" is not valid YAML`},
		{"not a mapping", fstest.MapFS{"o/kustomization.yaml": file("- a\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml" is not a kustomization`},
		{"images not a list", fstest.MapFS{"o/kustomization.yaml": file("images: app\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml": images at line 1 is not a list`},
		{"entry not a mapping", fstest.MapFS{"o/kustomization.yaml": file("images:\n- app\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml": images entry at line 2 is not a mapping`},
		{"over 1 MiB", fstest.MapFS{"o/kustomization.yaml": file(big)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml" is over 1 MiB`},
		{"not utf-8", fstest.MapFS{"o/kustomization.yaml": file("images: []\n# \xff\xfe\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `"o/kustomization.yaml" is not UTF-8`},
		{"block scalar value", fstest.MapFS{"o/kustomization.yaml": file("images:\n- name: app\n  newTag: |\n    v1\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `o/kustomization.yaml: value "v1\n" at line 3 is a block scalar`},
		{"anchored value", fstest.MapFS{"o/kustomization.yaml": file("images:\n- name: app\n  newTag: &t v1\n")}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `uses an anchor (&t)`},
		{"same image twice", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app", Tag: "v2"}, {Name: "app", Tag: "v3"}}}, `image "app" is given twice`},
		{"no image", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}}, "no image given"},
		{"invalid ref", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "App", Tag: "v2"}}}, `image "App:v2": name "App" is not lower-case`},
		{"bare name without promote", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, Images: []image.Ref{{Name: "app"}}}, `image "app": argument has no tag`},
		{"promote with tag", fstest.MapFS{"o/kustomization.yaml": file(okFile), "s/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, PromoteFrom: "s", Images: []image.Ref{{Name: "app", Tag: "v2"}}}, `image "app:v2": with promote-from only a name is allowed`},
		{"promote unknown image", fstest.MapFS{"o/kustomization.yaml": file(okFile), "s/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, PromoteFrom: "s", Images: []image.Ref{{Name: "web"}}}, `image "web" is not in the images of "s/kustomization.yaml"`},
		{"promote from nothing", fstest.MapFS{"o/kustomization.yaml": file(okFile), "s/kustomization.yaml": file("resources: []\n")}, Request{Overlays: []string{"o"}, PromoteFrom: "s"}, `promote-from "s": "s/kustomization.yaml" lists no images`},
		{"promote from two", fstest.MapFS{"o/kustomization.yaml": file(okFile), "s1/kustomization.yaml": file(okFile), "s2/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, PromoteFrom: "s*"}, `promote-from "s*" matches 2 folders: s1, s2`},
		{"promote from missing", fstest.MapFS{"o/kustomization.yaml": file(okFile)}, Request{Overlays: []string{"o"}, PromoteFrom: "staging"}, `overlay "staging": no such folder`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Edit(tc.fsys, tc.req)
			if err == nil {
				t.Fatalf("Edit = %+v; want an error with %q", res, tc.says)
			}
			var bad interface{ BadInput() bool }
			if !errors.As(err, &bad) || !bad.BadInput() {
				t.Errorf("error %q (%T) is not BadInput", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.says) && !strings.Contains(msg, strings.ReplaceAll(tc.says, "\n", `\n`)) {
				t.Errorf("error %q does not say %q", msg, tc.says)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
			if res != nil {
				t.Errorf("Edit returned a result with its error: %+v", res)
			}
		})
	}
}

func TestEditChanges(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"apps/a/prod/kustomization.yaml": file("images:\n- name: app\n  newName: ghcr.io/acme/app\n  newTag: v1\n"),
		"apps/b/prod/kustomization.yaml": file("images:\n- name: app\n  newTag: v2\n"),
		"apps/c/prod/kustomization.yml":  file("resources: []\n"),
	}
	res, err := Edit(fsys, Request{Overlays: []string{"apps/*/prod"}, Images: refs(t, "app:v2")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{File: "apps/a/prod/kustomization.yaml", Image: "app", Old: "ghcr.io/acme/app:v1", New: "ghcr.io/acme/app:v2"},
		{File: "apps/c/prod/kustomization.yml", Image: "app", Old: "", New: "app:v2"},
	}
	if diff := cmp.Diff(want, res.Changes); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"apps/a/prod/kustomization.yaml", "apps/c/prod/kustomization.yml"}, paths); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"apps/a/prod", "apps/b/prod", "apps/c/prod"}, res.Overlays); diff != "" {
		t.Errorf("Overlays (-want +got):\n%s", diff)
	}
	if got := string(res.Files[1].After); got != "resources: []\nimages:\n- name: app\n  newTag: v2\n" {
		t.Errorf("new images: written as %q", got)
	}
}

func TestEditNothingToChange(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"o/kustomization.yaml": file(okFile)}
	res, err := Edit(fsys, Request{Overlays: []string{"./o/"}, Images: refs(t, "app:v1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 0 || len(res.Changes) != 0 {
		t.Errorf("Edit = %+v; want nothing to change", res)
	}
}

// TestEditKeepsOtherBytes covers layouts the goldens do not: a byte
// order mark, a flow mapping entry in a block list, a bare first line.
func TestEditKeepsOtherBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, before, arg, after string
	}{
		{"bom", "\ufeffimages:\n- name: app\n  newTag: v1\n", "app:v2", "\ufeffimages:\n- name: app\n  newTag: v2\n"},
		{"flow entry in block list", "images:\n  - {name: app, newTag: v1}\n", "app@" + dA, "images:\n  - {name: app, digest: " + dA + "}\n"},
		{"flow entry gains key", "images:\n  - {name: app}\n", "app:v2", "images:\n  - {name: app, newTag: v2}\n"},
		{"mapping on next line", "images:\n-\n  name: app\n  newTag: v1\n", "app:1", "images:\n-\n  name: app\n  newTag: \"1\"\n"},
		{"explicit null", "images: ~ # none yet\n", "app:v1", "images: # none yet\n- name: app\n  newTag: v1\n"},
		{"empty flow list", "images: []\n", "app:v1", "images: [{name: app, newTag: v1}]\n"},
		{"empty file", "", "app:v1", "images:\n- name: app\n  newTag: v1\n"},
		{"comments only", "# nothing yet", "app:v1", "# nothing yet\nimages:\n- name: app\n  newTag: v1\n"},
		{"flow root", "{resources: [a]}\n", "app:yes", "{resources: [a], images: [{name: app, newTag: \"yes\"}]}\n"},
		{"double quoted new key", "images:\n- name: \"app\"\n", "app:v1", "images:\n- name: \"app\"\n  newTag: \"v1\"\n"},
		{"tag to null word", "images:\n- name: app\n  newTag: v1\n", "app:null", "images:\n- name: app\n  newTag: \"null\"\n"},
		{"other keys kept", "images:\n- name: app\n  tagSuffix: -x # why\n  newTag: v1\n", "app:v2", "images:\n- name: app\n  tagSuffix: -x # why\n  newTag: v2\n"},
		{"after a block scalar", "patches:\n- patch: |-\n    - op: remove\n      path: /x\n", "app:v1", "patches:\n- patch: |-\n    - op: remove\n      path: /x\nimages:\n- name: app\n  newTag: v1\n"},
		{"flow root with null images", "{images: null}\n", "app:v1", "{images: [{name: app, newTag: v1}]}\n"},
		{"remove run of keys on dash line", "images:\n- digest: " + dA + "\n  newName: x/app\n  name: app\n", "app=*:v1", "images:\n- newName: x/app\n  name: app\n  newTag: v1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Edit(fstest.MapFS{"o/kustomization.yaml": file(tc.before)}, Request{Overlays: []string{"o"}, Images: refs(t, tc.arg)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != 1 {
				t.Fatalf("Edit changed %d files; want 1", len(res.Files))
			}
			if diff := cmp.Diff(tc.after, string(res.Files[0].After)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditPromoteAll(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"staging/kustomization.yaml": file("images:\n- name: api\n  newTag: \"2\"\n- name: web\n  digest: " + dA + "\n"),
		"prod/kustomization.yaml":    file("images:\n- name: web\n  newTag: w1\n"),
	}
	res, err := Edit(fsys, Request{Overlays: []string{"prod", "staging"}, PromoteFrom: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	want := "images:\n- name: api\n  newTag: \"2\"\n- name: web\n  digest: " + dA + "\n"
	if len(res.Files) != 1 || string(res.Files[0].After) != want {
		t.Fatalf("Edit = %+v; want prod only, as %q", res, want)
	}
	var _ fs.FS = fsys
}

// TestEditExampleTouchesOnlyTagLines: on the seed config repo, bumping
// each service in its overlays changes only newTag lines, quotes and
// comments kept.
func TestEditExampleTouchesOnlyTagLines(t *testing.T) {
	t.Parallel()
	res := &Result{}
	for _, svc := range []struct{ overlays, image string }{
		{"apps/order-service/overlays/*", "ghcr.io/acme/order-service:2.8.0"},
		{"apps/user-service/overlays/*", "ghcr.io/acme/user-service:1.4.2"},
	} {
		r, err := Edit(os.DirFS("../../testdata/example"), Request{Overlays: []string{svc.overlays}, Images: refs(t, svc.image)})
		if err != nil {
			t.Fatal(err)
		}
		res.Files = append(res.Files, r.Files...)
		res.Changes = append(res.Changes, r.Changes...)
	}
	var got []string
	for _, f := range res.Files {
		removed, added := lineDiff(strings.Split(string(f.Before), "\n"), strings.Split(string(f.After), "\n"))
		for i := range removed {
			got = append(got, f.Path+": "+strings.TrimSpace(removed[i])+" -> "+strings.TrimSpace(added[i]))
		}
		if len(removed) != len(added) {
			t.Errorf("%s: %d lines removed, %d added", f.Path, len(removed), len(added))
		}
	}
	want := []string{
		`apps/order-service/overlays/production/kustomization.yaml: newTag: 2.7.0 -> newTag: 2.8.0`,
		`apps/order-service/overlays/staging/kustomization.yaml: newTag: 2.7.3 -> newTag: 2.8.0`,
		`apps/user-service/overlays/production/kustomization.yaml: newTag: "1.4.0" # promoted from staging -> newTag: "1.4.2" # promoted from staging`,
		`apps/user-service/overlays/staging/kustomization.yaml: newTag: "1.4.1" # keep quoted: numeric-looking tags must stay strings -> newTag: "1.4.2" # keep quoted: numeric-looking tags must stay strings`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changed lines (-want +got):\n%s", diff)
	}
	wantChanges := []Change{
		{File: "apps/order-service/overlays/production/kustomization.yaml", Image: "ghcr.io/acme/order-service", Old: "ghcr.io/acme/order-service:2.7.0", New: "ghcr.io/acme/order-service:2.8.0"},
		{File: "apps/order-service/overlays/staging/kustomization.yaml", Image: "ghcr.io/acme/order-service", Old: "ghcr.io/acme/order-service:2.7.3", New: "ghcr.io/acme/order-service:2.8.0"},
		{File: "apps/user-service/overlays/production/kustomization.yaml", Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.0", New: "ghcr.io/acme/user-service:1.4.2"},
		{File: "apps/user-service/overlays/staging/kustomization.yaml", Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.1", New: "ghcr.io/acme/user-service:1.4.2"},
	}
	if diff := cmp.Diff(wantChanges, res.Changes); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
}
