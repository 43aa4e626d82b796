package gitrepo

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

const (
	// maxLazyFetches is how many folders' blobs a snapshot fetches one
	// folder at a time before it fetches every blob of the head at once
	// (an overlay glob reading thousands of folders costs one request).
	maxLazyFetches = 8
	// maxBlobsPerFetch bounds the wants of one folder's fetch.
	maxBlobsPerFetch = 1000
	// maxWantsPerRequest bounds the wants of one request of the fetch of
	// every file (about 50 bytes each on the wire).
	maxWantsPerRequest = 20000
)

// blobSource hands out the blobs of a snapshot fetched without them
// (partial: the server filtered blobs out), fetching a folder's missing
// blobs in one request the first time one of them is read.
type blobSource struct {
	r    *Remote
	ctx  context.Context // the Fetch call's: FS reads have none of their own
	st   *lockedStore
	head plumbing.Hash

	mu      sync.Mutex
	partial bool
	fetches int
}

func (b *blobSource) has(h plumbing.Hash) bool {
	return b.st.HasEncodedObject(h) == nil
}

// ensure makes blob h, an entry of tree dir, readable.
func (b *blobSource) ensure(dir *object.Tree, h plumbing.Hash) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.has(h) {
		return nil
	}
	if !b.partial {
		return fmt.Errorf("blob %s: %w", h, plumbing.ErrObjectNotFound)
	}
	if b.fetches >= maxLazyFetches {
		return b.fetchAll()
	}
	wants := []plumbing.Hash{h}
	for _, e := range dir.Entries {
		if len(wants) >= maxBlobsPerFetch {
			break
		}
		if e.Mode.IsFile() && e.Hash != h && !b.has(e.Hash) {
			wants = append(wants, e.Hash)
		}
	}
	if err := b.fetch("fetching files from", fetchSpec{wants: wants}); err != nil {
		return err
	}
	b.fetches++
	if !b.has(h) {
		return fmt.Errorf("blob %s: the server did not send it: %w", h, plumbing.ErrObjectNotFound)
	}
	return nil
}

// fetchAll fetches every blob of the head that is missing, by SHA, as git
// fills in a blobless clone: the commit and the trees, which the snapshot
// holds already, are not sent again.
func (b *blobSource) fetchAll() error {
	wants, err := b.missing()
	if err != nil {
		return fmt.Errorf("listing the files of %s: %w", short(b.head), err)
	}
	for len(wants) > 0 {
		n := min(len(wants), maxWantsPerRequest)
		if err := b.fetch("fetching every file of", fetchSpec{wants: wants[:n]}); err != nil {
			return err
		}
		wants = wants[n:]
	}
	b.partial = false
	b.r.logf("fetched every file of %s", short(b.head))
	return nil
}

// missing lists the blobs of the head's tree that the store lacks, each
// once, in tree order.
func (b *blobSource) missing() ([]plumbing.Hash, error) {
	c, err := object.GetCommit(b.st, b.head)
	if err != nil {
		return nil, err
	}
	var wants []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	var walk func(h plumbing.Hash) error
	walk = func(h plumbing.Hash) error {
		if seen[h] {
			return nil
		}
		seen[h] = true
		t, err := object.GetTree(b.st, h)
		if err != nil {
			return fmt.Errorf("reading tree %s: %w", h, err)
		}
		for _, e := range t.Entries {
			switch {
			case e.Mode == filemode.Dir:
				if err := walk(e.Hash); err != nil {
					return err
				}
			case e.Mode.IsFile() && !seen[e.Hash]:
				seen[e.Hash] = true
				if !b.has(e.Hash) {
					wants = append(wants, e.Hash)
				}
			}
		}
		return nil
	}
	return wants, walk(c.TreeHash)
}

// fetch runs spec into a storage of its own, then adds what came to the
// snapshot's, so readers never see a storage being filled.
func (b *blobSource) fetch(what string, spec fetchSpec) error {
	st := memory.NewStorage()
	if _, err := retry(b.ctx, b.r, func() (fetchResult, error) {
		return b.r.fetchPack(b.ctx, st, spec)
	}); err != nil {
		return err
	}
	if err := b.st.absorb(st); err != nil {
		return fmt.Errorf("%s %s: storing the objects: %w", what, b.r.display, err)
	}
	return nil
}
