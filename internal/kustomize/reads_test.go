package kustomize

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestFilesReadListsWhatTheBuildReads(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"all/kustomization.yaml":           {Data: []byte("resources:\n- ../apps/web/prod\n")},
		"apps/web/prod/kustomization.yaml": {Data: []byte("resources:\n- ../base\nimages:\n- name: app\n  newTag: v1\n")},
		"apps/web/base/kustomization.yaml": {Data: []byte("resources:\n- cm.yaml\n")},
		"apps/web/base/cm.yaml":            {Data: []byte(deployYAML)},
		"apps/other/kustomization.yaml":    {Data: []byte("resources:\n- cm.yaml\n")},
		"apps/other/cm.yaml":               {Data: []byte(deployYAML)},
		"plain/cm.yaml":                    {Data: []byte(deployYAML)},
	}
	got, err := FilesRead(fsys, "/all/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"all/kustomization.yaml", "apps/web/base/cm.yaml", "apps/web/base/kustomization.yaml", "apps/web/prod/kustomization.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("FilesRead(all) = %q, want %q", got, want)
	}
	if got, err := FilesRead(fsys, "apps/other"); err != nil || slices.Contains(got, "apps/web/prod/kustomization.yaml") {
		t.Errorf("FilesRead(apps/other) = %q, %v", got, err)
	}
	var be *BuildError
	if _, err := FilesRead(fsys, "plain"); !errors.As(err, &be) {
		t.Errorf("FilesRead of a folder without a kustomization = %v, want a *BuildError", err)
	}
}
