package kustomize

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gitops-promote/gitops-promote/"

// goList runs `go list` with a format over packages.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	out, err := exec.Command("go", append([]string{"list", "-f", format}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", pkgs, err)
	}
	return strings.Fields(string(out))
}

// TestDependencies keeps the edit engine light: neither image nor
// kustomize imports os/exec, internal/config or internal/argocd; image
// depends on nothing outside the standard library at all. (kustomize's own
// api module links os/exec for remote bases; our code never calls it.)
func TestDependencies(t *testing.T) {
	t.Parallel()
	forbidden := []string{"os/exec", module + "internal/config", module + "internal/argocd"}
	for _, pkg := range []string{module + "internal/image", module + "internal/kustomize"} {
		direct := goList(t, `{{join .Imports " "}}`, pkg)
		for _, f := range forbidden {
			if slices.Contains(direct, f) {
				t.Errorf("%s imports %s", pkg, f)
			}
		}
		deps := goList(t, `{{join .Deps " "}}`, pkg)
		for _, d := range deps {
			if strings.HasPrefix(d, module+"internal/") && d != module+"internal/image" {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
	for _, d := range goList(t, `{{join .Deps " "}}`, module+"internal/image") {
		if d == "os/exec" || strings.Contains(d, ".") {
			t.Errorf("internal/image depends on %s; it needs the standard library only", d)
		}
	}
}
