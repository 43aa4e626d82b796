package kustomize

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

// FuzzEdit: no panic; a refusal is BadInput; the output parses and reads
// back as set (Edit checks that itself); a second identical run changes
// nothing.
func FuzzEdit(f *testing.F) {
	args := []string{"app:v2", "app:1234", "app@" + dA, "app=x/y:1@" + dB, "app=*", "app:*", "new:1", "web@*"}
	i := 0
	for _, content := range diffFiles {
		f.Add(content, args[i%len(args)], args[(i+3)%len(args)])
		i++
	}
	f.Add("images:\n- {name: app, newTag: v1}\n", "app:v2", "web:1")
	f.Add("\ufeff---\nimages: ~\n---\nkind: X\n", "app:v1", "")
	f.Add("images:\n- digest: "+dA+"\n  name: app\n", "app:v1", "app2@"+dB)
	f.Fuzz(func(t *testing.T, content, arg, arg2 string) {
		var images []image.Ref
		for _, a := range []string{arg, arg2} {
			if a == "" {
				continue
			}
			r, err := image.Parse(a)
			if err != nil {
				return
			}
			images = append(images, r)
		}
		if len(images) == 0 || (len(images) == 2 && images[0].Name == images[1].Name) {
			return
		}
		req := Request{Overlays: []string{"o"}, Images: images}
		res, err := Edit(fstest.MapFS{"o/kustomization.yaml": {Data: []byte(content)}}, req)
		if err != nil {
			var bad interface{ BadInput() bool }
			if !errors.As(err, &bad) {
				t.Fatalf("Edit(%q, %q, %q): error is not BadInput: %v", content, arg, arg2, err)
			}
			return
		}
		if len(res.Files) == 0 {
			return
		}
		after := res.Files[0].After
		if _, err := parseFile("o/kustomization.yaml", after); err != nil {
			t.Fatalf("Edit(%q, %q, %q) wrote %q, which does not parse: %v", content, arg, arg2, after, err)
		}
		again, err := Edit(fstest.MapFS{"o/kustomization.yaml": {Data: after}}, req)
		if err != nil {
			t.Fatalf("second Edit of %q: %v", after, err)
		}
		if len(again.Files) != 0 {
			t.Fatalf("second Edit of %q changed it to %q", after, again.Files[0].After)
		}
	})
}
