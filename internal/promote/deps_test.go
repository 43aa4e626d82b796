package promote

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps promote on its seams: of this module it imports only
// config, kustomize and image, and it never runs programs.
func TestImports(t *testing.T) {
	t.Parallel()
	const module = "github.com/gitops-promote/gitops-promote/"
	allowed := map[string]bool{
		module + "internal/config": true, module + "internal/kustomize": true, module + "internal/image": true,
		"github.com/cenkalti/backoff/v5": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			std := !strings.Contains(first, ".")
			if p == "os/exec" || (!std && !allowed[p]) {
				t.Errorf("%s imports %q: promote may import only config, kustomize, image and backoff", f, p)
			}
		}
	}
}
