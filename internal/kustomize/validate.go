package kustomize

import (
	"errors"
	"io/fs"
	"path"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
// the ones returned. Validate remembers nothing between calls; see
// Validator.
func Validate(fsys fs.FS, edits []FileEdit, overlays []string) error {
	return NewValidator().Validate(fsys, edits, overlays)
}

// Validate is the package's Validate, building only the overlays whose
// inputs changed since this Validator last built them.
func (v *Validator) Validate(fsys fs.FS, edits []FileEdit, overlays []string) error {
	ovs, err := resolveOverlays(fsys, overlays)
	if err != nil {
		return err
	}
	kfs := newOverlayFS(fsys, edits)
	v.render.setFS(kfs)
	errs := make([]error, len(ovs))
	builds := make([]*build, len(ovs))
	// Before any build: what is not plain data, and (offline) what would be
	// fetched, is refused and that overlay is not built.
	refused := make([]bool, len(ovs))
	for i, o := range ovs {
		if err := offlineCheck(kfs, o.dir, v.remote); err != nil {
			errs[i], refused[i] = err, true
		}
	}
	parallelWith(len(ovs), newKustomizer, func(k *krusty.Kustomizer, i int) {
		if refused[i] {
			return
		}
		if prev := v.lookup(ovs[i].dir); prev != nil && prev.still(kfs) {
			builds[i], errs[i] = prev, prev.err
			return
		}
		rec := &recordingFS{overlayFS: kfs}
		errs[i] = v.run(k, rec, ovs[i].dir)
		if !rec.opaque {
			builds[i] = &build{inputs: rec.inputs, err: errs[i]}
		}
	})
	if kfs.namesSchema() && len(ovs) > 1 {
		k := newKustomizer()
		for i := range ovs {
			if !refused[i] {
				errs[i], builds[i] = v.run(k, kfs, ovs[i].dir), nil
			}
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for i, o := range ovs {
		if builds[i] != nil {
			v.memo[o.dir] = builds[i]
		} else {
			delete(v.memo, o.dir)
		}
	}
	return errors.Join(errs...)
}

// run builds one overlay.
func (v *Validator) run(k *krusty.Kustomizer, kfs filesys.FileSystem, dir string) error {
	v.builds.Add(1)
	m, err := k.Run(kfs, path.Join("/", dir))
	v.render.keep(dir, m, err)
	if err != nil {
		return &BuildError{Overlay: dir, Err: err}
	}
	return nil
}

func newKustomizer() *krusty.Kustomizer {
	return krusty.MakeKustomizer(krusty.MakeDefaultOptions())
}
