package kustomize

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("images:\n- name: app\n  newTag: v1\nlabels:\n- pairs:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	return b.String()
}

func deepNesting(n int) string {
	return "images:\n- name: app\n  newTag: v1\ncommonAnnotations:\n  x: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n"
}

// Finding 10: YAML that is not plain data is refused as bad input by the
// edit itself (so also with validate: false), before anything is written:
// alias bombs, deep nesting, and aliases or merge keys in images entries.
func TestEditRefusesYAMLThatIsNotPlainData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, content, says string
	}{
		{"alias bomb", aliasBomb(), "aliases expand to more than"},
		{"10,000-deep nesting", deepNesting(10_000), "deeper than 128 levels"},
		{"merge key in an images entry", "base: &img\n  name: app\n  newTag: v1\nimages:\n- <<: *img\n", "uses a merge key (<<)"},
		{"alias as an images entry", "x: &img {name: app, newTag: v1}\nimages:\n- *img\n", "uses an alias (*img)"},
		{"alias as a value", "t: &t v1\nimages:\n- name: app\n  newTag: *t\n", "uses an alias (*t)"},
		{"anchored entry", "images:\n- &e\n  name: app\n  newTag: v1\nother: *e\n", "uses an anchor (&e)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{"o/kustomization.yaml": {Data: []byte(tc.content)}}
			res, err := Edit(fsys, Request{Overlays: []string{"o"}, Images: refs(t, "app:v2")})
			var bad interface{ BadInput() bool }
			if !errors.As(err, &bad) || !bad.BadInput() {
				t.Fatalf("Edit = %+v, %v; want a bad-input refusal", res, err)
			}
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "o/kustomization.yaml") {
				t.Errorf("error %q does not name the file and say %q", err, tc.says)
			}
		})
	}
	// Nesting and aliases within the limits stay fine.
	ok := "x: &v v1\nlabels:\n- pairs: {a: *v}\nimages:\n- name: app\n  newTag: v1\n"
	if _, err := Edit(fstest.MapFS{"o/kustomization.yaml": {Data: []byte(ok)}}, Request{Overlays: []string{"o"}, Images: refs(t, "app:v2")}); err != nil {
		t.Errorf("plain file with an alias outside images refused: %v", err)
	}
}

// FuzzCheckPlainYAML: never panics, and whatever passes stays within the
// limits when walked.
func FuzzCheckPlainYAML(f *testing.F) {
	for _, s := range []string{aliasBomb(), deepNesting(150), "a: &x [1]\nb: *x\n", "<<: {a: 1}\n", "---\n---\n", "a: *nope\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			return
		}
		_ = CheckPlainYAML("f.yaml", []byte(s))
		_, _ = parseFile("f.yaml", []byte(s))
	})
}
