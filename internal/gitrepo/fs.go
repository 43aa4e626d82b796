package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FS returns the head commit's tree as a read-only file system: slash paths
// relative to the repository root, blobs read only when a file is opened.
// It implements fs.ReadFileFS, fs.ReadDirFS and fs.StatFS, so fs.Glob and
// fs.WalkDir work on it. Symbolic links and submodules cannot be opened.
func (s *Snapshot) FS() fs.FS {
	return &treeFS{storage: s.storage, blobs: s.blobs, commit: s.head, trees: map[plumbing.Hash]*object.Tree{}}
}

type treeFS struct {
	storage *lockedStore
	blobs   *blobSource
	commit  plumbing.Hash

	mu    sync.Mutex
	root  *object.Tree
	trees map[plumbing.Hash]*object.Tree
}

var (
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
)

// entry is what a path names: a tree entry, or the root tree.
type entry struct {
	name   string
	mode   filemode.FileMode
	hash   plumbing.Hash
	parent plumbing.Hash // the tree holding the entry
}

func (t *treeFS) lookup(op, name string) (entry, error) {
	if !fs.ValidPath(name) {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.root == nil {
		c, err := object.GetCommit(t.storage, t.commit)
		if err != nil {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("reading commit %s: %w", t.commit, err)}
		}
		if t.root, err = t.tree(c.TreeHash); err != nil {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
	}
	cur := entry{name: ".", mode: filemode.Dir, hash: t.root.Hash}
	if name == "." {
		return cur, nil
	}
	for _, part := range strings.Split(name, "/") {
		if cur.mode != filemode.Dir {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		tree, err := t.tree(cur.hash)
		if err != nil {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		i := slices.IndexFunc(tree.Entries, func(e object.TreeEntry) bool { return e.Name == part })
		if i < 0 {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		e := tree.Entries[i]
		cur = entry{name: e.Name, mode: e.Mode, hash: e.Hash, parent: tree.Hash}
	}
	return cur, nil
}

// tree decodes a tree once. Called with t.mu held.
func (t *treeFS) tree(h plumbing.Hash) (*object.Tree, error) {
	if tr, ok := t.trees[h]; ok {
		return tr, nil
	}
	tr, err := object.GetTree(t.storage, h)
	if err != nil {
		return nil, fmt.Errorf("reading tree %s: %w", h, err)
	}
	t.trees[h] = tr
	return tr, nil
}

// info describes e. The size of a blob not fetched yet is learnt (and the
// blob fetched) only when Size is called.
func (t *treeFS) info(e entry) (fileInfo, error) {
	fi := fileInfo{name: e.name, mode: e.mode}
	if !e.mode.IsFile() {
		return fi, nil
	}
	if obj, err := t.storage.EncodedObject(plumbing.BlobObject, e.hash); err == nil {
		fi.size = obj.Size()
		return fi, nil
	}
	fi.sizeOf = func() int64 {
		data, err := t.blob(e)
		if err != nil {
			return 0
		}
		return int64(len(data))
	}
	return fi, nil
}

func (t *treeFS) Open(name string) (fs.File, error) {
	e, err := t.lookup("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(e)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	switch e.mode {
	case filemode.Dir:
		entries, err := t.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dirFile{info: fi, entries: entries}, nil
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
		data, err := t.blob(e)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		fi.size, fi.sizeOf = int64(len(data)), nil
		return &blobFile{info: fi, Reader: bytes.NewReader(data)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%s is not followed: %w", describe(e.mode), fs.ErrInvalid)}
}

func (t *treeFS) ReadFile(name string) ([]byte, error) {
	e, err := t.lookup("read", name)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsFile() || e.mode == filemode.Symlink {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%s: %w", describe(e.mode), fs.ErrInvalid)}
	}
	data, err := t.blob(e)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	e, err := t.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(e)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fi, nil
}

func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := t.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if e.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	t.mu.Lock()
	tree, err := t.tree(e.hash)
	t.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for _, te := range tree.Entries {
		fi, err := t.info(entry{name: te.Name, mode: te.Mode, hash: te.Hash, parent: tree.Hash})
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: path.Join(name, te.Name), Err: err}
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	// Git orders a directory as if its name ended in "/"; fs wants names.
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// blob reads e's content, fetching it (with its folder's other missing
// blobs) when the snapshot was fetched without blobs.
func (t *treeFS) blob(e entry) ([]byte, error) {
	h := e.hash
	if t.blobs != nil && !t.blobs.has(h) {
		t.mu.Lock()
		dir, err := t.tree(e.parent)
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if err := t.blobs.ensure(dir, h); err != nil {
			return nil, fmt.Errorf("fetching blob %s: %w", h, err)
		}
	}
	obj, err := t.storage.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	return data, nil
}

func describe(m filemode.FileMode) string {
	switch m {
	case filemode.Symlink:
		return "a symbolic link"
	case filemode.Submodule:
		return "a submodule"
	case filemode.Dir:
		return "a directory"
	}
	return "not a regular file"
}

type fileInfo struct {
	name   string
	mode   filemode.FileMode
	size   int64
	sizeOf func() int64 // set while the blob is not fetched
}

func (fi fileInfo) Name() string { return fi.name }

// Size is the blob's length; for a blob not fetched yet it fetches it (0 if
// that fails).
func (fi fileInfo) Size() int64 {
	if fi.sizeOf != nil {
		return fi.sizeOf()
	}
	return fi.size
}
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode == filemode.Dir }
func (fi fileInfo) Sys() any           { return nil }
func (fi fileInfo) Mode() fs.FileMode {
	switch fi.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	}
	return 0o644
}

type blobFile struct {
	info fileInfo
	*bytes.Reader
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Close() error               { return nil }

type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	offset  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return rest[:n], nil
}
