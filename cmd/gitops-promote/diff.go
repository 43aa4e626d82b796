package main

import (
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// writeDiff writes a unified diff (git format, three lines of context) of
// the edited files, through go-git's line diff and unified encoder.
func writeDiff(w io.Writer, edits []kustomize.FileEdit) error {
	p := patch{}
	for _, e := range edits {
		fp := filePatch{
			from: file{path: e.Path, hash: plumbing.ComputeHash(plumbing.BlobObject, e.Before)},
			to:   file{path: e.Path, hash: plumbing.ComputeHash(plumbing.BlobObject, e.After)},
		}
		for _, d := range diff.Do(string(e.Before), string(e.After)) {
			op := fdiff.Equal
			switch d.Type {
			case diffmatchpatch.DiffInsert:
				op = fdiff.Add
			case diffmatchpatch.DiffDelete:
				op = fdiff.Delete
			}
			fp.chunks = append(fp.chunks, chunk{content: d.Text, op: op})
		}
		p.files = append(p.files, fp)
	}
	if err := fdiff.NewUnifiedEncoder(w, fdiff.DefaultContextLines).Encode(p); err != nil {
		return fmt.Errorf("writing the diff: %w", err)
	}
	return nil
}

type patch struct{ files []fdiff.FilePatch }

func (p patch) FilePatches() []fdiff.FilePatch { return p.files }
func (p patch) Message() string                { return "" }

type filePatch struct {
	from, to file
	chunks   []fdiff.Chunk
}

func (f filePatch) IsBinary() bool               { return false }
func (f filePatch) Files() (from, to fdiff.File) { return f.from, f.to }
func (f filePatch) Chunks() []fdiff.Chunk        { return f.chunks }

type file struct {
	path string
	hash plumbing.Hash
}

func (f file) Hash() plumbing.Hash     { return f.hash }
func (f file) Mode() filemode.FileMode { return filemode.Regular }
func (f file) Path() string            { return f.path }

type chunk struct {
	content string
	op      fdiff.Operation
}

func (c chunk) Content() string       { return c.content }
func (c chunk) Type() fdiff.Operation { return c.op }
