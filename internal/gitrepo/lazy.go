package gitrepo

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
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
		if err := b.fetch("fetching every file of", fetchSpec{wants: []plumbing.Hash{b.head}, depth: 1}); err != nil {
			return err
		}
		b.partial = false
		b.r.logf("fetched every file of %s", short(b.head))
		return nil
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

// fetch runs spec into a storage of its own, then adds what came to the
// snapshot's, so readers never see a storage being filled.
func (b *blobSource) fetch(what string, spec fetchSpec) error {
	st := memory.NewStorage()
	if _, err := retry(b.ctx, b.r, what, func() (fetchResult, error) {
		return b.r.fetchPack(b.ctx, st, spec)
	}); err != nil {
		return err
	}
	if err := b.st.absorb(st); err != nil {
		return fmt.Errorf("%s %s: storing the objects: %w", what, b.r.display, err)
	}
	return nil
}
