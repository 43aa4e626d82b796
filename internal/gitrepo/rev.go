package gitrepo

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// FetchRev reads commit rev, which branch's history holds, and its trees
// into memory, as Fetch reads a head: depth 1, blobs read on demand where
// the server can filter. It asks for the commit by SHA (GitHub and git
// servers with uploadpack.allowReachableSHA1InWant allow it); where the
// server refuses, it fetches branch's whole history and takes rev from it.
// The snapshot is for reading: do not Commit on it.
func (r *Remote) FetchRev(ctx context.Context, branch, rev string) (*Snapshot, error) {
	if err := checkBranch(branch); err != nil {
		return nil, err
	}
	h, err := parseSHA("revision", rev)
	if err != nil {
		return nil, err
	}
	st := memory.NewStorage()
	res, err := retry(ctx, r, func() (fetchResult, error) {
		return r.fetchPack(ctx, st, fetchSpec{wants: []plumbing.Hash{h}, depth: 1, partial: true})
	})
	if err != nil {
		r.logf("fetching %s of %s by SHA failed (%v); fetching the history of %s", short(h), r.display, err, branch)
		st = memory.NewStorage()
		if res, err = retry(ctx, r, func() (fetchResult, error) {
			return r.fetchPack(ctx, st, fetchSpec{branch: branch, partial: true})
		}); err != nil {
			return nil, err
		}
	}
	if _, err := st.EncodedObject(plumbing.CommitObject, h); err != nil {
		return nil, fmt.Errorf("reading commit %s of branch %q: %w", short(h), branch, ErrNotFound)
	}
	r.logf("fetched %s commit %s of branch %s", r.display, short(h), branch)
	objects := &lockedStore{st: st}
	return &Snapshot{
		r: r, branch: branch, head: h, storage: objects,
		made: map[plumbing.Hash]madeCommit{}, ours: map[plumbing.Hash]bool{},
		blobs: &blobSource{r: r, ctx: ctx, st: objects, head: h, partial: res.partial},
	}, nil
}
