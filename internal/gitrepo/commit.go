package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// File is the new content of one file, by slash path from the repository
// root.
type File struct {
	Path    string
	Content []byte
}

// Signature is a git author or committer.
type Signature struct {
	Name, Email string
}

// String is the "Name <email>" form.
func (s Signature) String() string { return s.Name + " <" + s.Email + ">" }

// ParseSignature reads "Name <email>". Errors are *BadInputError.
func ParseSignature(s string) (Signature, error) {
	bad := func(why string) (Signature, error) {
		return Signature{}, &BadInputError{What: "author", Value: s, Why: why}
	}
	t := strings.TrimSpace(s)
	open := strings.LastIndex(t, "<")
	if open < 0 || !strings.HasSuffix(t, ">") {
		return bad(`want "Name <email>"`)
	}
	name := strings.TrimSpace(t[:open])
	email := strings.TrimSpace(t[open+1 : len(t)-1])
	switch {
	case name == "":
		return bad("the name is empty")
	case strings.ContainsAny(t, "\n\r\x00"):
		return bad("it holds a line break")
	case strings.ContainsAny(name, "<>"):
		return bad("the name holds '<', '>' or a line break")
	case email == "":
		return bad("the email is empty")
	case strings.ContainsAny(email, "<> \t\n\r\x00"):
		return bad("the email holds a space, '<' or '>'")
	case strings.Count(email, "@") < 1 || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@"):
		return bad("the email is not user@host")
	}
	return Signature{Name: name, Email: email}, nil
}

// Commit makes a commit on top of the snapshot's head holding files, with
// author and committer both sig, and returns its SHA. It writes the new blobs
// and only the trees along the changed paths; everything else is shared with
// the head. Files that leave the tree as it is give ErrNoChange: there are no
// empty commits. Each call starts again from the head.
func (s *Snapshot) Commit(files []File, msg string, sig Signature) (string, error) {
	if sig.Name == "" || sig.Email == "" {
		return "", &BadInputError{What: "author", Value: sig.String(), Why: "name and email are required"}
	}
	if strings.TrimSpace(msg) == "" {
		return "", &BadInputError{What: "commit message", Value: msg, Why: "empty"}
	}
	root := &dirChange{dirs: map[string]*dirChange{}, files: map[string][]byte{}}
	for _, f := range files {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return "", &BadInputError{What: "file path", Value: f.Path, Why: "want a clean slash path inside the repository"}
		}
		if err := root.add(strings.Split(f.Path, "/"), f.Content); err != nil {
			return "", fmt.Errorf("committing %q: %w", f.Path, err)
		}
	}
	head, err := object.GetCommit(s.storage, s.head)
	if err != nil {
		return "", fmt.Errorf("reading head commit %s: %w", s.head, err)
	}
	w := &treeWriter{s: s}
	tree, err := w.write(head.TreeHash, root, "")
	if err != nil {
		return "", err
	}
	if tree == head.TreeHash {
		return "", ErrNoChange
	}
	when := s.r.now()
	c := &object.Commit{
		Author:       object.Signature{Name: sig.Name, Email: sig.Email, When: when},
		Committer:    object.Signature{Name: sig.Name, Email: sig.Email, When: when},
		Message:      msg,
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{s.head},
	}
	h, err := w.store(c)
	if err != nil {
		return "", fmt.Errorf("writing the commit: %w", err)
	}
	s.made[h] = madeCommit{parent: s.head, objects: w.created}
	s.r.logf("committed %s on %s (%d new objects)", h, s.head, len(w.created))
	return h.String(), nil
}

// dirChange is the set of changes inside one directory.
type dirChange struct {
	dirs  map[string]*dirChange
	files map[string][]byte
}

func (d *dirChange) add(parts []string, content []byte) error {
	name := parts[0]
	if len(parts) == 1 {
		if _, ok := d.dirs[name]; ok {
			return errors.New("the path is also a directory of another file")
		}
		if _, ok := d.files[name]; ok {
			return errors.New("the file is given twice")
		}
		d.files[name] = content
		return nil
	}
	if _, ok := d.files[name]; ok {
		return errors.New("a parent directory is also given as a file")
	}
	sub := d.dirs[name]
	if sub == nil {
		sub = &dirChange{dirs: map[string]*dirChange{}, files: map[string][]byte{}}
		d.dirs[name] = sub
	}
	return sub.add(parts[1:], content)
}

type treeWriter struct {
	s       *Snapshot
	created []plumbing.Hash
}

// encoder is what object.Blob-less git objects (trees, commits) share.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (w *treeWriter) store(o encoder) (plumbing.Hash, error) {
	obj := w.s.storage.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.save(obj)
}

func (w *treeWriter) save(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if _, err := w.s.storage.EncodedObject(obj.Type(), h); err == nil {
		// Fetched objects are on the server; ones an earlier Commit made
		// may not be, so they go with this commit too.
		if w.s.ours[h] {
			w.created = append(w.created, h)
		}
		return h, nil
	}
	if _, err := w.s.storage.SetEncodedObject(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	w.s.ours[h] = true
	w.created = append(w.created, h)
	return h, nil
}

func (w *treeWriter) blob(content []byte) (plumbing.Hash, error) {
	obj := w.s.storage.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	wr, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wr.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := wr.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.save(obj)
}

// write returns the hash of tree old (ZeroHash: none) with changes applied.
func (w *treeWriter) write(old plumbing.Hash, changes *dirChange, dir string) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if !old.IsZero() {
		t, err := object.GetTree(w.s.storage, old)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("reading tree %q: %w", dir, err)
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	for name, content := range changes.files {
		p := join(dir, name)
		mode := filemode.Regular
		if e, ok := entries[name]; ok {
			switch e.Mode {
			case filemode.Regular, filemode.Executable:
				mode = e.Mode
			default:
				return plumbing.ZeroHash, fmt.Errorf("writing %q: the repository holds %s there", p, describe(e.Mode))
			}
		}
		h, err := w.blob(content)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("writing blob %q: %w", p, err)
		}
		entries[name] = object.TreeEntry{Name: name, Mode: mode, Hash: h}
	}
	for name, sub := range changes.dirs {
		p := join(dir, name)
		var oldSub plumbing.Hash
		if e, ok := entries[name]; ok {
			if e.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("writing under %q: the repository holds %s there", p, describe(e.Mode))
			}
			oldSub = e.Hash
		}
		h, err := w.write(oldSub, sub, p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	// Git's order: names compared as if a directory's ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	h, err := w.store(t)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("writing tree %q: %w", dir, err)
	}
	return h, nil
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
