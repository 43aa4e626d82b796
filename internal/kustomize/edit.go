package kustomize

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

// Request says what to set in which overlays.
type Request struct {
	// Overlays are folders or globs (apps/*/overlays/production), relative
	// to the root, each holding one kustomization file.
	Overlays []string
	// Images are the images to set. With PromoteFrom they are bare names
	// limiting the copy; empty copies every entry of the source.
	Images []image.Ref
	// PromoteFrom is an overlay whose images: entries are copied into
	// Overlays.
	PromoteFrom string
}

// Change is one image changed in one file. Old is "" where the file had no
// entry for the image.
type Change struct {
	File  string `json:"file"`
	Image string `json:"image"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// FileEdit is the new content of one file. Path is a slash path relative
// to the root.
type FileEdit struct {
	Path   string
	Before []byte
	After  []byte
}

// Result is what Edit would change. Nothing to change: Files is empty.
type Result struct {
	Changes  []Change
	Files    []FileEdit
	Warnings []string
	// Overlays are the overlay folders the request resolved to.
	Overlays []string
}

// Edit works out the new content of the kustomization file of every
// overlay of req, reading through fsys and writing nothing. Errors from
// what the person gave implement BadInput() bool.
func Edit(fsys fs.FS, req Request) (*Result, error) {
	ovs, err := resolveOverlays(fsys, req.Overlays)
	if err != nil {
		return nil, err
	}
	targets, err := targetsOf(fsys, req)
	if err != nil {
		return nil, err
	}
	plain := newPlainOK(targets)
	res := &Result{}
	var todo []overlay
	seen := map[string]bool{}
	for _, o := range ovs {
		res.Overlays = append(res.Overlays, o.dir)
		if !seen[o.file] {
			seen[o.file] = true
			todo = append(todo, o)
		}
	}
	// Files are independent: edit them in parallel, report in order.
	type outcome struct {
		edit     *FileEdit
		changes  []Change
		warnings []string
		err      error
	}
	outs := make([]outcome, len(todo))
	parallel(len(todo), func(i int) {
		out := &outs[i]
		data, err := readFile(fsys, todo[i])
		if err != nil {
			out.err = err
			return
		}
		out.edit, out.changes, out.warnings, out.err = editFile(todo[i].file, data, targets, plain)
	})
	for _, out := range outs {
		if out.err != nil {
			return nil, out.err
		}
		res.Warnings = append(res.Warnings, out.warnings...)
		if out.edit != nil {
			res.Files = append(res.Files, *out.edit)
			res.Changes = append(res.Changes, out.changes...)
		}
	}
	return res, nil
}

// editFile applies targets to one file and checks the result reads back
// as intended.
func editFile(p string, data []byte, targets []target, plain plainOK) (*FileEdit, []Change, []string, error) {
	f, err := parseFile(p, data)
	if err != nil {
		return nil, nil, nil, err
	}
	f.plain = plain
	patches, changes, warnings, err := f.plan(targets)
	if err != nil || len(patches) == 0 {
		return nil, nil, warnings, err
	}
	after, err := apply(data, patches)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("editing %q: %w", p, err)
	}
	if err := verify(p, f, after, targets); err != nil {
		return nil, nil, nil, err
	}
	return &FileEdit{Path: p, Before: data, After: after}, changes, warnings, nil
}

// verify parses the edited bytes and checks that every target reads back
// as set and that no other entry moved: a safety net under the splicing.
func verify(p string, before *kfile, after []byte, targets []target) error {
	g, err := parseFile(p, after)
	if err != nil {
		return fmt.Errorf("editing %q: the edit does not parse (%w); please report this", p, err)
	}
	want := map[string]state{}
	for name, items := range before.byName {
		want[name] = items[0].state()
	}
	for _, t := range targets {
		want[t.name] = t.apply(want[t.name])
	}
	for name, w := range want {
		items := g.byName[name]
		if len(items) == 0 || items[0].state() != w {
			return fmt.Errorf("editing %q: image %q does not read back as %q; please report this", p, name, w.ref(name))
		}
	}
	return nil
}

// targetsOf checks the images of req and turns them into targets.
func targetsOf(fsys fs.FS, req Request) ([]target, error) {
	names := map[string]bool{}
	for _, r := range req.Images {
		if names[r.Name] {
			return nil, badInput("give each image once", "image %q is given twice", r.Name)
		}
		names[r.Name] = true
	}
	if req.PromoteFrom != "" {
		return promoteTargets(fsys, req)
	}
	if len(req.Images) == 0 {
		return nil, badInput("give images to set, or promote-from", "no image given")
	}
	var targets []target
	for _, r := range req.Images {
		parsed, err := image.Parse(r.String())
		if err != nil {
			return nil, err
		}
		if parsed != r {
			return nil, badInput("", "image %q: not a valid argument", r.String())
		}
		targets = append(targets, fromRef(r))
	}
	return targets, nil
}

// promoteTargets reads the source overlay and copies its entries, all or
// those named.
func promoteTargets(fsys fs.FS, req Request) ([]target, error) {
	only := map[string]bool{}
	for _, r := range req.Images {
		if r.NewName != "" || r.Tag != "" || r.Digest != "" {
			return nil, badInput("with promote-from, list bare image names to limit the copy",
				"image %q: with promote-from only a name is allowed", r.String())
		}
		if _, err := image.ParseName(r.Name); err != nil {
			return nil, err
		}
		only[r.Name] = true
	}
	ovs, err := resolveOverlays(fsys, []string{req.PromoteFrom})
	if err != nil {
		return nil, err
	}
	if len(ovs) != 1 {
		var dirs []string
		for _, o := range ovs {
			dirs = append(dirs, o.dir)
		}
		return nil, badInput("name one source overlay", "promote-from %q matches %d folders: %s",
			req.PromoteFrom, len(ovs), strings.Join(dirs, ", "))
	}
	p := ovs[0].file
	data, err := readFile(fsys, ovs[0])
	if err != nil {
		return nil, err
	}
	src, err := parseFile(p, data)
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, it := range src.items {
		if it.name == "" || src.byName[it.name][0] != it || (len(only) > 0 && !only[it.name]) {
			continue
		}
		targets = append(targets, fromEntry(it.name, it.state()))
	}
	for _, r := range req.Images {
		if len(src.byName[r.Name]) == 0 {
			return nil, badInput("name images that the source overlay lists",
				"image %q is not in the images of %q", r.Name, p)
		}
	}
	if len(targets) == 0 {
		return nil, badInput("", "promote-from %q: %q lists no images", req.PromoteFrom, p)
	}
	return targets, nil
}
