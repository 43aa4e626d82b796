package kustomize

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
)

// WriteFiles writes the edits inside root, all or nothing: only files whose
// content changes, each first written in full to a temporary file beside
// it (keeping its mode), then every temporary file renamed over its
// target. It refuses a path that is a symlink or no longer holds the
// content the edit was made from. When any file cannot be written, no
// target is touched and the *WriteError says nothing was changed; when a
// rename fails, the files already renamed get their old content back, and
// a file that cannot be restored is named in Changed.
func WriteFiles(root *os.Root, edits []FileEdit) error {
	return writeAll(root, edits, (*os.Root).Rename)
}

// WriteError is a failed WriteFiles: Err says why; Changed lists the files
// that hold the new content anyway (empty: nothing was changed).
type WriteError struct {
	Changed []string
	Err     error
}

// Error says what failed and what was changed.
func (e *WriteError) Error() string {
	msg := oneLine(e.Err.Error())
	if len(e.Changed) == 0 {
		return "nothing was changed: " + msg
	}
	return fmt.Sprintf("%s; these files hold the new content and could not be restored: %s", msg, strings.Join(e.Changed, ", "))
}

// Unwrap returns the cause.
func (e *WriteError) Unwrap() error { return e.Err }

// staged is an edit written to a temporary file beside its target.
type staged struct {
	dir  *os.Root
	base string // the target's name in dir
	tmp  string // the temporary file's name in dir
	path string // the target's path from the root
	edit FileEdit
	mode fs.FileMode
}

func writeAll(root *os.Root, edits []FileEdit, rename func(*os.Root, string, string) error) error {
	var todo []FileEdit
	for _, e := range edits {
		if !bytes.Equal(e.Before, e.After) {
			todo = append(todo, e)
		}
	}
	out := make([]*staged, len(todo))
	errs := make([]error, len(todo))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0)*4) // creating files waits on the disk
	var wg sync.WaitGroup
	for i, e := range todo {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = stage(root, e, e.After)
		})
	}
	wg.Wait()
	defer func() {
		for _, s := range out {
			if s != nil {
				_ = s.dir.Remove(s.tmp) // gone already once renamed
				_ = s.dir.Close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return &WriteError{Err: err}
	}
	for i, s := range out {
		if err := rename(s.dir, s.tmp, s.base); err != nil {
			err = fmt.Errorf("writing %q: %w", s.path, err)
			return &WriteError{Err: err, Changed: restore(out[:i], rename)}
		}
	}
	return nil
}

// restore puts the old content back into files already renamed over; it
// returns those it could not restore.
func restore(done []*staged, rename func(*os.Root, string, string) error) []string {
	var left []string
	for _, s := range done {
		tmp, name, err := createTemp(s.dir, s.base, s.mode)
		if err == nil {
			err = fill(tmp, s.edit.Before, s.mode)
		}
		if err == nil {
			err = rename(s.dir, name, s.base)
		}
		if err != nil {
			if name != "" {
				_ = s.dir.Remove(name)
			}
			left = append(left, s.path)
		}
	}
	return left
}

// stage checks the target and writes content to a temporary file beside it.
func stage(root *os.Root, e FileEdit, content []byte) (*staged, error) {
	p := path.Clean(e.Path)
	// Work in the file's folder: one walk from the root, then every call
	// is a single system call relative to the folder.
	dir, err := root.OpenRoot(path.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("writing %q: %w", p, err)
	}
	s, err := stageIn(dir, p, e, content)
	if err != nil {
		_ = dir.Close()
		return nil, err
	}
	return s, nil
}

func stageIn(dir *os.Root, p string, e FileEdit, content []byte) (*staged, error) {
	base := path.Base(p)
	fi, err := dir.Lstat(base)
	if err != nil {
		return nil, fmt.Errorf("writing %q: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, badInput("make the kustomization file a regular file", "%q is a symlink; gitops-promote does not write through symlinks", p)
	}
	if !fi.Mode().IsRegular() {
		return nil, badInput("", "%q is not a regular file", p)
	}
	current, err := dir.ReadFile(base)
	if err != nil {
		return nil, fmt.Errorf("writing %q: %w", p, err)
	}
	if !bytes.Equal(current, e.Before) {
		return nil, fmt.Errorf("writing %q: the file changed since it was read; run again", p)
	}
	tmp, name, err := createTemp(dir, base, fi.Mode().Perm())
	if err != nil {
		return nil, fmt.Errorf("writing %q: %w", p, err)
	}
	if err := fill(tmp, content, fi.Mode().Perm()); err != nil {
		_ = dir.Remove(name)
		return nil, fmt.Errorf("writing %q: %w", p, err)
	}
	return &staged{dir: dir, base: base, tmp: name, path: p, edit: e, mode: fi.Mode().Perm()}, nil
}

// fill writes content into tmp with mode and closes it.
func fill(tmp *os.File, content []byte, mode fs.FileMode) error {
	// No fsync: like git in a work tree (core.fsync is off by default), the
	// rename is what must be atomic, and a thousand syncs would cost more
	// than the whole edit.
	_, err := tmp.Write(content)
	if err == nil {
		// The umask may have narrowed the mode at creation.
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return err
}

// createTemp creates a new file next to base in dir and returns it with
// its name.
func createTemp(dir *os.Root, base string, mode fs.FileMode) (*os.File, string, error) {
	for range 10 {
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := "." + base + "." + hex.EncodeToString(b[:]) + ".tmp"
		f, err := dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return f, name, nil
	}
	return nil, "", errors.New("no free temporary name")
}
