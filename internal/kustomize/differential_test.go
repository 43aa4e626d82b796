package kustomize

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

// kustomizeBin finds the kustomize CLI: $KUSTOMIZE_BIN, else kustomize on
// PATH. Absent, the test is skipped, except under CI=true where it fails.
func kustomizeBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("KUSTOMIZE_BIN")
	if bin == "" {
		bin, _ = exec.LookPath("kustomize")
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("kustomize CLI not found: set KUSTOMIZE_BIN or install sigs.k8s.io/kustomize/kustomize/v5@v5.8.0")
		}
		t.Skip("kustomize CLI not found: set KUSTOMIZE_BIN or put kustomize v5.8.0 on PATH")
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v5.8.0") {
		t.Fatalf("%s version = %q, %v; the differential test is against v5.8.0", bin, out, err)
	}
	return bin
}

const (
	dA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	dB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var diffFiles = map[string]string{
	"plain":     "resources:\n- ../base\nimages:\n- name: app\n  newTag: v1\n",
	"newname":   "resources:\n- ../base\nimages:\n- name: app\n  newName: ghcr.io/acme/app\n  newTag: \"1.0\"\n",
	"digest":    "images:\n- name: app\n  newName: registry.example.com/app\n  digest: " + dA + "\n",
	"tagdigest": "images:\n  - name: app\n    newTag: v1\n    digest: " + dA + "\n",
	"absent":    "resources:\n  - ../base\n\nnamespace: prod\n",
	"dupes":     "images:\n- name: app\n  newTag: v1\n- name: web\n  newTag: w1\n- name: app\n  newTag: v0\n",
	"comments": `# top comment
resources:
  - ../base # the base

images:
  # the app, bumped by CI
  - name: app # inline
    newTag: "1.2.3" # quoted on purpose
  - name: 'web'
    newTag: 'w1'
# trailing comment
`,
	"port":      "images:\n- name: localhost:5000/team/app\n  newTag: \"1\"\n",
	"fourspace": "images:\n    -   name: ghcr.io/acme/order-service\n        newTag: 2.7.3\n",
	"flow":      "resources: [../base]\nimages: [{name: app, newTag: v1}, {name: web, newTag: w1}]\n",
	"unsorted":  "images:\n- name: zeta\n  newTag: z1\n- name: alpha\n  newTag: a1\n",
	"null":      "resources:\n- ../base\nimages:\nnamePrefix: p-\n",
	"crlf":      "resources:\r\n- ../base\r\nimages:\r\n- name: app\r\n  newTag: v1\r\n",
	"nested":    "images:\n- name: ghcr.io/acme/team/sub/app\n  newTag: \"2024.01.01\"\n- name: docker.io/library/nginx\n  newTag: 1.25-alpine\n",
	"numeric":   "images:\n- name: app\n  newTag: \"42\"\n",
}

var diffCases = []struct {
	file string
	args []string
}{
	{"plain", []string{"app:v2"}},
	{"plain", []string{"app:1234"}},
	{"plain", []string{"app:1.0"}},
	{"plain", []string{"app@" + dB}},
	{"plain", []string{"app:v2@" + dB}},
	{"plain", []string{"app=ghcr.io/acme/app"}},
	{"plain", []string{"app=ghcr.io/acme/app:v3"}},
	{"plain", []string{"app=ghcr.io/acme/app@" + dB}},
	{"plain", []string{"app=ghcr.io/acme/app:v3@" + dB}},
	{"plain", []string{"app:*"}},
	{"plain", []string{"app@*"}},
	{"plain", []string{"app=*:v9"}},
	{"plain", []string{"other:1", "app:v2"}},
	{"plain", []string{"aaa:true"}},
	{"newname", []string{"app:2.0"}},
	{"newname", []string{"app@" + dB}},
	{"newname", []string{"app=*"}},
	{"newname", []string{"app=other/app"}},
	{"newname", []string{"app=*:3.0"}},
	{"newname", []string{"app:*@" + dB}},
	{"digest", []string{"app:v5"}},
	{"digest", []string{"app@" + dB}},
	{"digest", []string{"app:v5@*"}},
	{"digest", []string{"app=*@*"}},
	{"tagdigest", []string{"app:v2"}},
	{"tagdigest", []string{"app@" + dB}},
	{"tagdigest", []string{"app:v2@" + dB}},
	{"tagdigest", []string{"app:*@" + dB}},
	{"absent", []string{"ghcr.io/acme/api:1.0.0"}},
	{"absent", []string{"zz:1", "aa=ghcr.io/acme/aa:2", "mm@" + dA}},
	{"absent", []string{"app:007"}},
	{"dupes", []string{"app:v2"}},
	{"dupes", []string{"web:w2"}},
	{"dupes", []string{"app:*@" + dB}},
	{"comments", []string{"app:1.2.4"}},
	{"comments", []string{"web:w2", "app:1.3.0"}},
	{"comments", []string{"new/one:1", "zzz:2"}},
	{"port", []string{"localhost:5000/team/app:2"}},
	{"port", []string{"localhost:5000/team/app=localhost:5001/team/app:3"}},
	{"port", []string{"registry:5000/other:1"}},
	{"fourspace", []string{"ghcr.io/acme/order-service:2.8.0"}},
	{"fourspace", []string{"ghcr.io/acme/order-service:2.8.0", "ghcr.io/acme/api:1"}},
	{"flow", []string{"app:v2"}},
	{"flow", []string{"web@" + dA, "mid:1"}},
	{"unsorted", []string{"alpha:a2", "beta:b1"}},
	{"null", []string{"app:1"}},
	{"crlf", []string{"app:v2", "new:1"}},
	{"nested", []string{"ghcr.io/acme/team/sub/app:2024.02.01", "docker.io/library/nginx:1.27"}},
	{"numeric", []string{"app:43"}},
	{"numeric", []string{"app:v43"}},
}

// TestDifferential runs `kustomize edit set image` and Edit on the same
// files and compares the images: lists, allowing only the documented
// differences, and checks that Edit changed nothing but image lines.
func TestDifferential(t *testing.T) {
	bin := kustomizeBin(t)
	if len(diffCases) < 40 {
		t.Fatalf("only %d differential cases", len(diffCases))
	}
	for _, tc := range diffCases {
		name := tc.file + "/" + strings.Join(tc.args, ",")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			before := diffFiles[tc.file]
			dir := t.TempDir()
			p := filepath.Join(dir, "kustomization.yaml")
			if err := os.WriteFile(p, []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, append([]string{"edit", "set", "image"}, tc.args...)...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("kustomize edit set image: %v\n%s", err, out)
			}
			theirs, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}

			var refs []image.Ref
			for _, a := range tc.args {
				r, err := image.Parse(a)
				if err != nil {
					t.Fatal(err)
				}
				refs = append(refs, r)
			}
			res, err := Edit(fstest.MapFS{"o/kustomization.yaml": {Data: []byte(before)}}, Request{Overlays: []string{"o"}, Images: refs})
			if err != nil {
				t.Fatalf("Edit: %v", err)
			}
			ours := before
			if len(res.Files) == 1 {
				ours = string(res.Files[0].After)
			}

			stored := imagesOf(t, before)
			want := imagesOf(t, string(theirs))
			for _, r := range refs {
				s, had := stored[r.Name]
				if !had {
					continue
				}
				w := want[r.Name]
				if r.NewName == "" { // difference (a): the stored newName stays
					w.NewName = s.NewName
				}
				if r.Tag == "" && r.Digest == "" { // name=newName sets only newName
					w.Tag, w.Digest = s.Tag, s.Digest
				}
				want[r.Name] = w
			}
			if diff := cmp.Diff(want, imagesOf(t, ours)); diff != "" {
				t.Errorf("images: against kustomize's, after the documented differences (-want +got):\n%s\nkustomize wrote:\n%s\nwe wrote:\n%s", diff, theirs, ours)
			}
			if names := namesOf(t, before); slices.IsSorted(names) && len(names) == len(stored) {
				// Where the file was in kustomize's order, new entries keep it.
				if diff := cmp.Diff(namesOf(t, string(theirs)), namesOf(t, ours)); diff != "" {
					t.Errorf("order of images: against kustomize's (-want +got):\n%s", diff)
				}
			}
			checkOnlyImageLines(t, before, ours)
		})
	}
}

// namesOf returns the names of the images: entries in file order.
func namesOf(t *testing.T, content string) []string {
	t.Helper()
	f, err := parseFile("k", []byte(content))
	if err != nil {
		t.Fatalf("parsing %q: %v", content, err)
	}
	names := []string{}
	for _, it := range f.items {
		names = append(names, it.name)
	}
	return names
}

// imagesOf returns the first images: entry per name.
func imagesOf(t *testing.T, content string) map[string]state {
	t.Helper()
	f, err := parseFile("k", []byte(content))
	if err != nil {
		t.Fatalf("parsing %q: %v", content, err)
	}
	out := map[string]state{}
	for name, items := range f.byName {
		out[name] = items[0].state()
	}
	return out
}

var imageLine = regexp.MustCompile(`^\s*(images:.*|(- *)?(name|newName|newTag|digest): .*|)$`)

// checkOnlyImageLines checks that the lines Edit added or removed are
// image lines, and that the document without images: is unchanged,
// comments included.
func checkOnlyImageLines(t *testing.T, before, after string) {
	t.Helper()
	removed, added := lineDiff(strings.Split(before, "\n"), strings.Split(after, "\n"))
	for _, l := range append(removed, added...) {
		if !imageLine.MatchString(strings.TrimRight(l, "\r")) {
			t.Errorf("changed line %q is not an image line", l)
		}
	}
	if a, b := withoutImages(t, before), withoutImages(t, after); a != b {
		t.Errorf("the rest of the document changed:\n%s\nbecame\n%s", a, b)
	}
}

func withoutImages(t *testing.T, content string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Content) == 0 {
		return ""
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "images" {
			root.Content = append(root.Content[:i], root.Content[i+2:]...)
			break
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(root); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// lineDiff returns the lines of a not in b's longest common subsequence,
// and the lines of b not in it.
func lineDiff(a, b []string) (removed, added []string) {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			removed = append(removed, a[i])
			i++
		default:
			added = append(added, b[j])
			j++
		}
	}
	return append(removed, a[i:]...), append(added, b[j:]...)
}
