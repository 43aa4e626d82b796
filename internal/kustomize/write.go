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
)

// WriteFiles writes the edits inside root: only files whose content
// changes, each through a temporary file renamed over it, keeping its
// mode. It refuses a path that is a symlink or no longer holds the
// content the edit was made from.
func WriteFiles(root *os.Root, edits []FileEdit) error {
	for _, e := range edits {
		if bytes.Equal(e.Before, e.After) {
			continue
		}
		if err := writeFile(root, e); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root *os.Root, e FileEdit) error {
	p := path.Clean(e.Path)
	fi, err := root.Lstat(p)
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return badInput("make the kustomization file a regular file", "%q is a symlink; gitops-promote does not write through symlinks", p)
	}
	if !fi.Mode().IsRegular() {
		return badInput("", "%q is not a regular file", p)
	}
	current, err := root.ReadFile(p)
	if err != nil {
		return fmt.Errorf("writing %q: %w", p, err)
	}
	if !bytes.Equal(current, e.Before) {
		return fmt.Errorf("writing %q: the file changed since it was read; run again", p)
	}
	tmp, name, err := createTemp(root, p, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = tmp.Write(e.After)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The umask may have narrowed the mode at creation.
		err = root.Chmod(name, fi.Mode().Perm())
	}
	if err == nil {
		err = root.Rename(name, p)
	}
	if err != nil {
		_ = root.Remove(name)
		return fmt.Errorf("writing %q: %w", p, err)
	}
	return nil
}

// createTemp creates a new file next to p, inside root, and returns it
// with its path in root.
func createTemp(root *os.Root, p string, mode fs.FileMode) (*os.File, string, error) {
	for range 10 {
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := path.Join(path.Dir(p), "."+path.Base(p)+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("writing %q: %w", p, err)
		}
		return f, name, nil
	}
	return nil, "", fmt.Errorf("writing %q: no free temporary name", p)
}
