package gitopspromote_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gitops-promote/gitops-promote/"

// goPackage is what `go list -json` says of one package.
type goPackage struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
}

// listPackages runs `go list -json` once over the internal packages.
func listPackages(t *testing.T) map[string]goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]goPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

func thirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".")
}

// The seams of DESIGN.md, in one place: config, image and parallel use the standard library only;
// kustomize, argocd and config never import each other or os/exec; argocd has no Argo CD,
// kustomize or git module under it, flux no Flux, kustomize or git module, and neither imports
// ours but the parallel leaf; promote imports only config, kustomize, image and parallel of this
// module (cmd injects the adapters).
func TestPackageDependencies(t *testing.T) {
	pkgs := listPackages(t)
	tests := []struct {
		pkg string
		// directOK reports whether a direct import is allowed; nil allows all.
		directOK func(string) bool
		// depOK reports whether a transitive dependency is allowed; nil allows all.
		depOK func(string) bool
	}{
		{pkg: "internal/image", depOK: func(d string) bool { return !thirdParty(d) && d != "os/exec" }},
		{pkg: "internal/config", depOK: func(d string) bool { return !thirdParty(d) && d != "os/exec" }},
		{pkg: "internal/parallel", depOK: func(d string) bool { return !thirdParty(d) && d != "os/exec" }},
		{
			// kustomize's api module links os/exec for remote bases; our code never calls it.
			pkg:      "internal/kustomize",
			directOK: func(d string) bool { return d != "os/exec" },
			depOK:    func(d string) bool { return !strings.HasPrefix(d, module) || d == module+"internal/image" },
		},
		{pkg: "internal/argocd", depOK: func(d string) bool {
			for _, banned := range []string{"os/exec", "github.com/argoproj/", "sigs.k8s.io/kustomize", "github.com/go-git/", module} {
				if strings.HasPrefix(d, banned) && d != module+"internal/parallel" {
					return false
				}
			}
			return true
		}},
		{
			// client-go links os/exec for kubeconfig exec plugins; our code never calls it.
			pkg:      "internal/flux",
			directOK: func(d string) bool { return d != "os/exec" },
			depOK: func(d string) bool {
				for _, banned := range []string{"github.com/fluxcd/", "sigs.k8s.io/kustomize", "github.com/go-git/", module} {
					if strings.HasPrefix(d, banned) && d != module+"internal/parallel" {
						return false
					}
				}
				return true
			},
		},
		{pkg: "internal/promote", directOK: func(d string) bool {
			ok := []string{module + "internal/config", module + "internal/kustomize", module + "internal/image", module + "internal/parallel", "github.com/cenkalti/backoff/v5"}
			return d != "os/exec" && (!thirdParty(d) || slices.Contains(ok, d))
		}},
		{pkg: "internal/ghstatus", depOK: func(d string) bool {
			// It reads GitHub only: no git, no kustomize, no promote (cmd adapts it).
			for _, banned := range []string{"os/exec", "github.com/go-git/", "sigs.k8s.io/kustomize", module + "internal/promote", module + "internal/gitrepo"} {
				if strings.HasPrefix(d, banned) {
					return false
				}
			}
			return true
		}},
	}
	for _, tc := range tests {
		t.Run(tc.pkg, func(t *testing.T) {
			p, ok := pkgs[tc.pkg]
			if !ok {
				t.Fatalf("go list does not know %s", tc.pkg)
			}
			for _, d := range p.Imports {
				if tc.directOK != nil && !tc.directOK(d) {
					t.Errorf("%s imports %s", tc.pkg, d)
				}
			}
			for _, d := range p.Deps {
				if tc.depOK != nil && !tc.depOK(d) {
					t.Errorf("%s depends on %s", tc.pkg, d)
				}
			}
		})
	}
}
