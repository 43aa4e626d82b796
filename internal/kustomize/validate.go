package kustomize

import (
	"errors"
	"io/fs"
	"path"

	"sigs.k8s.io/kustomize/api/krusty"
)

// Validate builds each overlay with kustomize (krusty, in process) over
// fsys with the edited files in place of theirs. Overlays are folders or
// globs as in Request. A build failure is a *BuildError naming the overlay
// and quoting kustomize; every overlay is built and all failures are
// returned together, in the order of overlays.
//
// The builds run in parallel, as many at a time as GOMAXPROCS, over one
// read-through cache of fsys: a base shared by many overlays is read once.
// kustomize keeps the OpenAPI schema of a build in process-wide state, so
// where a kustomization read during the builds names an openapi schema,
// the overlays are built again one after the other and those results are
// the ones returned.
func Validate(fsys fs.FS, edits []FileEdit, overlays []string) error {
	ovs, err := resolveOverlays(fsys, overlays)
	if err != nil {
		return err
	}
	kfs := newOverlayFS(fsys, edits)
	errs := make([]error, len(ovs))
	build := func(k *krusty.Kustomizer, i int) {
		if _, err := k.Run(kfs, path.Join("/", ovs[i].dir)); err != nil {
			errs[i] = &BuildError{Overlay: ovs[i].dir, Err: err}
		}
	}
	parallelWith(len(ovs), newKustomizer, build)
	if kfs.namesSchema() && len(ovs) > 1 {
		k := newKustomizer()
		for i := range ovs {
			errs[i] = nil
			build(k, i)
		}
	}
	return errors.Join(errs...)
}

func newKustomizer() *krusty.Kustomizer {
	return krusty.MakeKustomizer(krusty.MakeDefaultOptions())
}
