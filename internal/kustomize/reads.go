package kustomize

import (
	"io/fs"
	"path"
	"slices"
	"strings"
)

// FilesRead builds the folder dir (a slash path from the root of fsys, "."
// for the root) with kustomize in process, as Argo CD renders an
// application's path, and returns the files the build read, as sorted
// slash paths from the root: the kustomization files of dir and of every
// base and component it reaches, and the resources and patches they name.
// The build is offline unless opts hold WithRemote (then a remote base is
// fetched, and only the local files are listed). A build that fails
// returns what it read so far with a *BuildError (or a *RemoteError, or a
// bad-input error for YAML that is not plain data, before building).
func FilesRead(fsys fs.FS, dir string, opts ...ValidatorOption) ([]string, error) {
	v := NewValidator(opts...)
	dir = strings.Trim(path.Clean("/"+strings.TrimSpace(dir)), "/")
	if dir == "" {
		dir = "."
	}
	kfs := newOverlayFS(fsys, nil)
	if err := offlineCheck(kfs, dir, v.remote); err != nil {
		return nil, err
	}
	rec := &recordingFS{overlayFS: kfs}
	err := v.run(newKustomizer(), rec, dir)
	var files []string
	for _, in := range rec.inputs {
		if in.read && !in.failed {
			files = append(files, in.path)
		}
	}
	slices.Sort(files)
	return slices.Compact(files), err
}
