package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned by the writing methods of overlayFS.
var errReadOnly = errors.New("read-only file system")

// overlayFS is a read-only kustomize filesys.FileSystem over an fs.FS,
// with some files replaced by edited bytes. It reads lazily: only what
// kustomize asks for, each file and each Stat once however many builds
// ask (a base shared by a thousand overlays is read once). It is safe for
// parallel builds. Paths are absolute, "/" being the root of fsys.
type overlayFS struct {
	fsys  fs.FS
	files map[string][]byte // slash path relative to the root -> content

	reads  sync.Map // relative path -> *cached[[]byte]
	stats  sync.Map // relative path -> *cached[fs.FileInfo]
	schema atomic.Bool
}

// cached is one answer of fsys, computed once.
type cached[T any] struct {
	once sync.Once
	val  T
	err  error
}

// load returns the answer for key in m, computing it with fn the first
// time; concurrent callers for the same key wait for that one call.
func load[T any](m *sync.Map, key string, fn func() (T, error)) (T, error) {
	v, _ := m.LoadOrStore(key, &cached[T]{})
	c := v.(*cached[T])
	c.once.Do(func() { c.val, c.err = fn() })
	return c.val, c.err
}

var _ filesys.FileSystem = (*overlayFS)(nil)

func newOverlayFS(fsys fs.FS, edits []FileEdit) *overlayFS {
	o := &overlayFS{fsys: fsys, files: map[string][]byte{}}
	for _, e := range edits {
		o.files[path.Clean(e.Path)] = e.After
	}
	return o
}

// namesSchema reports whether a kustomization file read so far mentions
// openapi: kustomize then changes its process-wide schema during a build.
func (o *overlayFS) namesSchema() bool { return o.schema.Load() }

// noteRead watches the kustomization files kustomize reads for openapi.
func (o *overlayFS) noteRead(r string, data []byte) {
	if slices.Contains(fileNames, path.Base(r)) && bytes.Contains(data, []byte("openapi")) {
		o.schema.Store(true)
	}
}

// rel turns a kustomize path into an fs.FS path.
func (o *overlayFS) rel(p string) (string, error) {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	r := strings.TrimPrefix(path.Clean(p), "/")
	if r == "" {
		r = "."
	}
	if !fs.ValidPath(r) {
		return "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	return r, nil
}

func (o *overlayFS) stat(p string) (fs.FileInfo, string, error) {
	r, err := o.rel(p)
	if err != nil {
		return nil, "", err
	}
	if data, ok := o.files[r]; ok {
		return memInfo{name: path.Base(r), size: int64(len(data))}, r, nil
	}
	fi, err := load(&o.stats, r, func() (fs.FileInfo, error) { return fs.Stat(o.fsys, r) })
	return fi, r, err
}

// Create is not supported: the build only reads.
func (o *overlayFS) Create(p string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir is not supported: the build only reads.
func (o *overlayFS) Mkdir(p string) error { return errReadOnly }

// MkdirAll is not supported: the build only reads.
func (o *overlayFS) MkdirAll(p string) error { return errReadOnly }

// RemoveAll is not supported: the build only reads.
func (o *overlayFS) RemoveAll(p string) error { return errReadOnly }

// WriteFile is not supported: the build only reads.
func (o *overlayFS) WriteFile(p string, data []byte) error { return errReadOnly }

// Open opens a file for reading.
func (o *overlayFS) Open(p string) (filesys.File, error) {
	data, err := o.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(p), size: int64(len(data))}}, nil
}

// IsDir reports whether p is a folder.
func (o *overlayFS) IsDir(p string) bool {
	fi, _, err := o.stat(p)
	return err == nil && fi.IsDir()
}

// ReadDir lists the names in a folder.
func (o *overlayFS) ReadDir(p string) ([]string, error) {
	r, err := o.rel(p)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(o.fsys, r)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// CleanedAbs splits p into a confirmed folder and a file name ("" when p
// is a folder).
func (o *overlayFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	fi, r, err := o.stat(p)
	if err != nil {
		return "", "", fmt.Errorf("unable to clean %q: %w", p, err)
	}
	if fi.IsDir() {
		return filesys.ConfirmedDir(path.Join("/", r)), "", nil
	}
	return filesys.ConfirmedDir(path.Join("/", path.Dir(r))), path.Base(r), nil
}

// Exists reports whether p exists.
func (o *overlayFS) Exists(p string) bool {
	_, _, err := o.stat(p)
	return err == nil
}

// Glob returns the paths matching pattern.
func (o *overlayFS) Glob(pattern string) ([]string, error) {
	r, err := o.rel(pattern)
	if err != nil {
		return nil, err
	}
	matches, err := fs.Glob(o.fsys, r)
	if err != nil {
		return nil, err
	}
	for i, m := range matches {
		matches[i] = path.Join("/", m)
	}
	sort.Strings(matches)
	return matches, nil
}

// ReadFile returns the edited content of p, or what fsys holds.
func (o *overlayFS) ReadFile(p string) ([]byte, error) {
	r, err := o.rel(p)
	if err != nil {
		return nil, err
	}
	data, ok := o.files[r]
	if !ok {
		data, err = load(&o.reads, r, func() ([]byte, error) { return fs.ReadFile(o.fsys, r) })
		if err != nil {
			return nil, err
		}
	}
	o.noteRead(r, data)
	// kustomize owns what it is given; the cache keeps its own copy.
	return bytes.Clone(data), nil
}

// Walk walks the tree under p in lexical order.
func (o *overlayFS) Walk(p string, walkFn filepath.WalkFunc) error {
	r, err := o.rel(p)
	if err != nil {
		return err
	}
	return fs.WalkDir(o.fsys, r, func(q string, d fs.DirEntry, err error) error {
		abs := path.Join("/", q)
		if err != nil {
			return walkFn(abs, nil, err)
		}
		fi, _, err := o.stat(abs)
		return walkFn(abs, fi, err)
	})
}

type memInfo struct {
	name string
	size int64
}

func (m memInfo) Name() string       { return m.name }
func (m memInfo) Size() int64        { return m.size }
func (m memInfo) Mode() fs.FileMode  { return 0o644 }
func (m memInfo) ModTime() time.Time { return time.Time{} }
func (m memInfo) IsDir() bool        { return false }
func (m memInfo) Sys() any           { return nil }

// memFile is a read-only filesys.File over bytes.
type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Write([]byte) (int, error)  { return 0, errReadOnly }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (os.FileInfo, error) { return f.info, nil }

var _ io.ReadWriteCloser = (*memFile)(nil)
