package kustomize

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// MaxFileSize is the largest kustomization file Edit reads (1 MiB).
const MaxFileSize = 1 << 20

// fileNames are the names kustomize recognises, in its order
// (konfig.RecognizedKustomizationFileNames).
var fileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// cleanOverlay turns an overlay argument into a slash path relative to the
// root, refusing absolute paths and any ".." element.
func cleanOverlay(arg string) (string, error) {
	p := strings.TrimSpace(arg)
	if p == "" {
		return "", badInput("", "overlay %q: empty path", arg)
	}
	if strings.Contains(p, `\`) {
		return "", badInput("write paths with '/'", "overlay %q: holds a backslash", arg)
	}
	if strings.HasPrefix(p, "/") {
		return "", badInput("overlays are relative to the config repository root", "overlay %q: absolute path", arg)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return "", badInput("overlays must stay inside the config repository", "overlay %q: \"..\" leads outside the root", arg)
		}
	}
	p = path.Clean(p)
	if !fs.ValidPath(p) {
		return "", badInput("", "overlay %q: not a valid path", arg)
	}
	return p, nil
}

// overlay is one resolved overlay folder and its kustomization file.
type overlay struct {
	dir     string
	file    string
	symlink bool // the kustomization file is a symlink
}

// resolveOverlays expands globs and finds the kustomization file of each
// folder, keeping the order of first appearance and dropping repeats. It
// reads each folder once: on a tree of thousands of overlays the system
// calls are most of the cost.
func resolveOverlays(fsys fs.FS, args []string) ([]overlay, error) {
	var out []overlay
	seen := map[string]bool{}
	add := func(o overlay) {
		if !seen[o.dir] {
			seen[o.dir] = true
			out = append(out, o)
		}
	}
	for _, arg := range args {
		p, err := cleanOverlay(arg)
		if err != nil {
			return nil, err
		}
		if !hasMeta(p) {
			entries, err := fs.ReadDir(fsys, p)
			if err != nil {
				return nil, dirError(fsys, arg, p, err)
			}
			o, err := kustomizationIn(p, entries)
			if err != nil {
				return nil, err
			}
			add(o)
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, badInput("", "overlay pattern %q: %v", arg, err)
		}
		matches, err := globDirs(fsys, p)
		if err != nil {
			return nil, err
		}
		// Read the candidate folders in parallel: each read is a walk from
		// the root through os.Root.
		type listing struct {
			entries []fs.DirEntry
			ok      bool
			err     error
		}
		lists := make([]listing, len(matches))
		parallel(len(matches), func(i int) {
			if !seen[matches[i]] {
				l := &lists[i]
				l.entries, l.ok, l.err = readDir(fsys, matches[i])
			}
		})
		matched := false
		for i, m := range matches {
			if seen[m] {
				matched = true
				continue
			}
			l := lists[i]
			if l.err != nil {
				return nil, l.err
			}
			if !l.ok {
				continue
			}
			o, err := kustomizationIn(m, l.entries)
			if err != nil {
				return nil, err
			}
			add(o)
			matched = true
		}
		if !matched {
			return nil, badInput("check the pattern against the folders of the config repository",
				"overlay pattern %q matches no folder", arg)
		}
	}
	if len(out) == 0 {
		return nil, badInput("name at least one overlay folder", "no overlay given")
	}
	return out, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

// globDirs expands a valid pattern to the folders it may match, as
// fs.Glob does but without a Stat per literal element: the caller reads
// each candidate folder anyway, and on a tree of thousands of overlays
// (through os.Root, a walk per call) the calls are most of the cost.
func globDirs(fsys fs.FS, pattern string) ([]string, error) {
	cands := []string{"."}
	for _, part := range strings.Split(pattern, "/") {
		var next []string
		for _, c := range cands {
			if !hasMeta(part) {
				next = append(next, path.Join(c, part))
				continue
			}
			entries, ok, err := readDir(fsys, c)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if !ok || (!e.IsDir() && e.Type()&fs.ModeSymlink == 0) {
					continue
				}
				if m, _ := path.Match(part, e.Name()); m {
					next = append(next, path.Join(c, e.Name()))
				}
			}
		}
		cands = next
	}
	return cands, nil
}

// readDir reads a folder; ok is false where p is missing or not a folder.
func readDir(fsys fs.FS, p string) ([]fs.DirEntry, bool, error) {
	entries, err := fs.ReadDir(fsys, p)
	if err == nil {
		return entries, true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if escapes(err) {
		return nil, false, escapeError(p)
	}
	if fi, serr := fs.Stat(fsys, p); serr == nil && !fi.IsDir() {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("reading folder %q: %w", p, err)
}

// escapes reports os.Root's refusal of a path that leads out of the root
// (a symlink pointing outside). The os package does not export that
// error, so its text is what there is to match.
func escapes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

func escapeError(p string) error {
	return badInput("overlays must stay inside the config repository; replace the symlink by the folder",
		"overlay %q leads outside the config repository (a symlink)", p)
}

// dirError explains why a named overlay folder could not be read.
func dirError(fsys fs.FS, arg, p string, err error) error {
	if escapes(err) {
		return escapeError(p)
	}
	fi, serr := fs.Stat(fsys, p)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return badInput("overlays are folders relative to the config repository root", "overlay %q: no such folder", arg)
	case serr == nil && !fi.IsDir():
		return badInput("name the folder that holds the kustomization file", "overlay %q: not a folder", arg)
	}
	return fmt.Errorf("reading overlay %q: %w", arg, err)
}

// kustomizationIn picks the one kustomization file among a folder's
// entries.
func kustomizationIn(dir string, entries []fs.DirEntry) (overlay, error) {
	var found []string
	o := overlay{dir: dir}
	for _, name := range fileNames {
		for _, e := range entries {
			if e.Name() != name {
				continue
			}
			p := path.Join(dir, name)
			if e.IsDir() {
				return o, badInput("", "%q is a folder, not a kustomization file", p)
			}
			found = append(found, p)
			o.file, o.symlink = p, e.Type()&fs.ModeSymlink != 0
		}
	}
	switch len(found) {
	case 0:
		return o, badInput("each overlay needs a kustomization.yaml",
			"overlay %q has no kustomization file (%s)", dir, strings.Join(fileNames, ", "))
	case 1:
		return o, nil
	default:
		return o, badInput("keep one kustomization file per folder, as kustomize requires",
			"overlay %q has more than one kustomization file: %s", dir, strings.Join(found, ", "))
	}
}

// readFile reads the kustomization file of an overlay, refusing a
// symlink, a file over MaxFileSize and content that is not UTF-8.
func readFile(fsys fs.FS, o overlay) ([]byte, error) {
	p := o.file
	if o.symlink {
		return nil, badInput("make the kustomization file a regular file", "%q is a symlink; gitops-promote does not edit through symlinks", p)
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", p, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, badInput("", "%q is over 1 MiB; a kustomization file that big is not supported", p)
	}
	if !utf8.Valid(data) {
		return nil, badInput("save the file as UTF-8", "%q is not UTF-8 text", p)
	}
	return data, nil
}

// parallel calls fn(0..n-1) on as many goroutines as there are CPUs and
// returns when all are done.
func parallel(n int, fn func(i int)) {
	parallelWith(n, func() struct{} { return struct{}{} }, func(_ struct{}, i int) { fn(i) })
}

// parallelWith is parallel where each goroutine first makes a state of its
// own with newState (a value that must not be shared) and hands it to fn.
func parallelWith[S any](n int, newState func() S, fn func(s S, i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			s := newState()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(s, i)
			}
		})
	}
	wg.Wait()
}
