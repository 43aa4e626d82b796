package kustomize

import (
	"bufio"
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

var update = flag.Bool("update", false, "rewrite testdata/edit/*/after from the current engine")

const goldenDir = "../../testdata/edit"

// goldenArgs is the args file of a golden case: "key: value" lines with
// keys overlays, images, promote-from and warn (an expected warning).
type goldenArgs struct {
	req   Request
	warns []string
}

func readArgs(t *testing.T, p string) goldenArgs {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var a goldenArgs
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			t.Fatalf("%s: line %q is not key: value", p, sc.Text())
		}
		switch key {
		case "overlays":
			a.req.Overlays = append(a.req.Overlays, value)
		case "images":
			names = append(names, value)
		case "promote-from":
			a.req.PromoteFrom = value
		case "warn":
			a.warns = append(a.warns, value)
		default:
			t.Fatalf("%s: unknown key %q", p, key)
		}
	}
	for _, s := range names {
		var r image.Ref
		var err error
		if a.req.PromoteFrom != "" {
			r.Name, err = image.ParseName(s)
		} else {
			r, err = image.Parse(s)
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		a.req.Images = append(a.req.Images, r)
	}
	return a
}

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGolden edits each testdata/edit/<case>/before with its args and
// compares the whole tree with after; editing after again changes nothing.
func TestGolden(t *testing.T) {
	t.Parallel()
	cases, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(goldenDir, c.Name())
			args := readArgs(t, filepath.Join(dir, "args"))
			res, err := Edit(os.DirFS(filepath.Join(dir, "before")), args.req)
			if err != nil {
				t.Fatalf("Edit: %v", err)
			}
			got := readTree(t, filepath.Join(dir, "before"))
			for _, f := range res.Files {
				if got[f.Path] != string(f.Before) {
					t.Errorf("%s: Before is not the file's content", f.Path)
				}
				got[f.Path] = string(f.After)
			}
			if *update {
				writeTree(t, filepath.Join(dir, "after"), got)
			}
			want := readTree(t, filepath.Join(dir, "after"))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tree after edit (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(args.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			again, err := Edit(os.DirFS(filepath.Join(dir, "after")), args.req)
			if err != nil {
				t.Fatalf("Edit of after: %v", err)
			}
			if len(again.Files) != 0 || len(again.Changes) != 0 {
				t.Errorf("Edit of after changed %d files: %+v", len(again.Files), again.Changes)
			}
		})
	}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var _ = bytes.Equal
