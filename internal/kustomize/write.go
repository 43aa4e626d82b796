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
	"sync"
)

// WriteFiles writes the edits inside root: only files whose content
// changes, each through a temporary file renamed over it, keeping its
// mode. It refuses a path that is a symlink or no longer holds the
// content the edit was made from. Files are written in parallel; the
// first failure in edit order is returned.
func WriteFiles(root *os.Root, edits []FileEdit) error {
	errs := make([]error, len(edits))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0)*4) // creating files waits on the disk
	var wg sync.WaitGroup
	for i, e := range edits {
		if bytes.Equal(e.Before, e.After) {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = writeFile(root, e)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root *os.Root, e FileEdit) error {
	p := path.Clean(e.Path)
	// Work in the file's folder: one walk from the root, then every call
	// is a single system call relative to the folder.
	dir, err := root.OpenRoot(path.Dir(p))
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	defer dir.Close()
	base := path.Base(p)
	fi, err := dir.Lstat(base)
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return badInput("make the kustomization file a regular file", "%q is a symlink; gitops-promote does not write through symlinks", p)
	}
	if !fi.Mode().IsRegular() {
		return badInput("", "%q is not a regular file", p)
	}
	current, err := dir.ReadFile(base)
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	if !bytes.Equal(current, e.Before) {
		return fmt.Errorf("writing %q: the file changed since it was read; run again", p)
	}
	tmp, name, err := createTemp(dir, base, fi.Mode().Perm())
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	// No fsync: like git in a work tree (core.fsync is off by default), the
	// rename is what must be atomic, and a thousand syncs would cost more
	// than the whole edit.
	_, err = tmp.Write(e.After)
	if err == nil {
		// The umask may have narrowed the mode at creation.
		err = tmp.Chmod(fi.Mode().Perm())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = dir.Rename(name, base)
	}
	if err != nil {
		_ = dir.Remove(name)
		return fmt.Errorf("writing %q: %w", p, err)
	}
	return nil
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
