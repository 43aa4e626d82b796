package kustomize

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
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

// resolveOverlays expands globs and checks each folder, keeping the order
// of first appearance and dropping repeats.
func resolveOverlays(fsys fs.FS, args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, arg := range args {
		p, err := cleanOverlay(arg)
		if err != nil {
			return nil, err
		}
		if !hasMeta(p) {
			if err := checkDir(fsys, arg, p); err != nil {
				return nil, err
			}
			add(p)
			continue
		}
		matches, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, badInput("", "overlay pattern %q: %v", arg, err)
		}
		var dirs []string
		for _, m := range matches {
			if fi, err := fs.Stat(fsys, m); err == nil && fi.IsDir() {
				dirs = append(dirs, m)
			}
		}
		if len(dirs) == 0 {
			return nil, badInput("check the pattern against the folders of the config repository",
				"overlay pattern %q matches no folder", arg)
		}
		for _, d := range dirs {
			add(d)
		}
	}
	if len(out) == 0 {
		return nil, badInput("name at least one overlay folder", "no overlay given")
	}
	return out, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

func checkDir(fsys fs.FS, arg, p string) error {
	fi, err := fs.Stat(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return badInput("overlays are folders relative to the config repository root", "overlay %q: no such folder", arg)
	}
	if err != nil {
		return fmt.Errorf("reading overlay %q: %w", arg, err)
	}
	if !fi.IsDir() {
		return badInput("name the folder that holds the kustomization file", "overlay %q: not a folder", arg)
	}
	return nil
}

// findFile returns the path of the one kustomization file in dir.
func findFile(fsys fs.FS, dir string) (string, error) {
	var found []string
	for _, name := range fileNames {
		p := path.Join(dir, name)
		fi, err := fs.Stat(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("looking for %q: %w", p, err)
		}
		if fi.IsDir() {
			return "", badInput("", "%q is a folder, not a kustomization file", p)
		}
		found = append(found, p)
	}
	switch len(found) {
	case 0:
		return "", badInput("each overlay needs a kustomization.yaml",
			"overlay %q has no kustomization file (%s)", dir, strings.Join(fileNames, ", "))
	case 1:
		return found[0], nil
	default:
		return "", badInput("keep one kustomization file per folder, as kustomize requires",
			"overlay %q has more than one kustomization file: %s", dir, strings.Join(found, ", "))
	}
}

// readFile reads a kustomization file, refusing symlinks (where fsys can
// tell), files over MaxFileSize and content that is not UTF-8.
func readFile(fsys fs.FS, p string) ([]byte, error) {
	if _, ok := fsys.(fs.ReadLinkFS); ok {
		fi, err := fs.Lstat(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, badInput("make the kustomization file a regular file", "%q is a symlink; gitops-promote does not edit through symlinks", p)
		}
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
