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
// returned together.
func Validate(fsys fs.FS, edits []FileEdit, overlays []string) error {
	ovs, err := resolveOverlays(fsys, overlays)
	if err != nil {
		return err
	}
	kfs := newOverlayFS(fsys, edits)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	var errs []error
	for _, o := range ovs {
		if _, err := k.Run(kfs, path.Join("/", o.dir)); err != nil {
			errs = append(errs, &BuildError{Overlay: o.dir, Err: err})
		}
	}
	return errors.Join(errs...)
}
