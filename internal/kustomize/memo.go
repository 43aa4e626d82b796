package kustomize

import (
	"bytes"
	"crypto/sha256"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Validator is Validate with a memory. It remembers what each overlay's
// build read and how it ended; a later Validate (the same overlays on a
// newer snapshot, as when a lost push race makes the edit run again)
// builds again only the overlays where something the build read has
// changed. A build that listed a folder, globbed, walked, or read a
// kustomization naming a URL or an openapi schema is not remembered.
// Use one Validator per run; it is safe for one call at a time.
type Validator struct {
	mu     sync.Mutex
	memo   map[string]*build // overlay folder -> its last build
	builds atomic.Int64      // krusty runs made, for tests
	remote bool              // WithRemote: builds may fetch remote resources and bases
	render renderState       // what RenderDiff reuses (render.go)
}

// NewValidator returns a Validator with nothing remembered. Without
// WithRemote its builds are offline: an overlay reaching a remote resource
// or base fails with a *RemoteError and is not built.
func NewValidator(opts ...ValidatorOption) *Validator {
	v := &Validator{memo: map[string]*build{}}
	for _, opt := range opts {
		opt(v)
	}
	return v
}

// build is what one krusty run of an overlay read, and its error.
type build struct {
	inputs []input
	err    error
}

// input is one answer the file system gave a build.
type input struct {
	path   string
	read   bool     // a read (else a Stat)
	sum    [32]byte // read: sha256 of the content
	failed bool     // the read or Stat failed
	dir    bool     // Stat: a folder
}

// still reports whether every answer b got is the same on o.
func (b *build) still(o *overlayFS) bool {
	for _, in := range b.inputs {
		if now := answer(o, in.path, in.read); now != in {
			return false
		}
	}
	return true
}

// answer asks o what a build asked about the relative path r.
func answer(o *overlayFS, r string, read bool) input {
	abs := path.Join("/", r)
	if read {
		data, err := o.ReadFile(abs)
		if err != nil {
			return input{path: r, read: true, failed: true}
		}
		return input{path: r, read: true, sum: sha256.Sum256(data)}
	}
	fi, _, err := o.stat(abs)
	if err != nil {
		return input{path: r, failed: true}
	}
	return input{path: r, dir: fi.IsDir()}
}

func (v *Validator) lookup(dir string) *build {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.memo[dir]
}

// recordingFS is the file system of one build: the shared overlayFS, with
// what the build asked written down.
type recordingFS struct {
	*overlayFS
	inputs []input
	opaque bool // the build depends on something not written down
}

func (r *recordingFS) note(p string, read bool) input {
	rel, err := r.rel(p)
	if err != nil {
		r.opaque = true
		return input{}
	}
	in := answer(r.overlayFS, rel, read)
	r.inputs = append(r.inputs, in)
	return in
}

// ReadFile reads p and writes down its content's digest.
func (r *recordingFS) ReadFile(p string) ([]byte, error) {
	data, err := r.overlayFS.ReadFile(p)
	r.note(p, true)
	if err == nil && slices.Contains(fileNames, path.Base(filepath.ToSlash(p))) &&
		(bytes.Contains(data, []byte("://")) || bytes.Contains(data, []byte("openapi"))) {
		r.opaque = true // a remote resource, or the process-wide schema
	}
	return data, err
}

// Open opens p through ReadFile.
func (r *recordingFS) Open(p string) (filesys.File, error) {
	data, err := r.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(p), size: int64(len(data))}}, nil
}

// Exists reports whether p exists, and writes the answer down.
func (r *recordingFS) Exists(p string) bool {
	r.note(p, false)
	return r.overlayFS.Exists(p)
}

// IsDir reports whether p is a folder, and writes the answer down.
func (r *recordingFS) IsDir(p string) bool {
	r.note(p, false)
	return r.overlayFS.IsDir(p)
}

// CleanedAbs is overlayFS's, with the Stat it rests on written down.
func (r *recordingFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	r.note(p, false)
	return r.overlayFS.CleanedAbs(p)
}

// ReadDir lists a folder; a build that lists is not remembered.
func (r *recordingFS) ReadDir(p string) ([]string, error) {
	r.opaque = true
	return r.overlayFS.ReadDir(p)
}

// Glob matches a pattern; a build that globs is not remembered.
func (r *recordingFS) Glob(pattern string) ([]string, error) {
	r.opaque = true
	return r.overlayFS.Glob(pattern)
}

// Walk walks a tree; a build that walks is not remembered.
func (r *recordingFS) Walk(p string, walkFn filepath.WalkFunc) error {
	r.opaque = true
	return r.overlayFS.Walk(p, walkFn)
}

var _ filesys.FileSystem = (*recordingFS)(nil)
