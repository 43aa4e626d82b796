package gitrepo

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Contains reports whether ancestor is rev itself or in rev's history, by
// walking the parents of rev in branch's history fetched with growing depth
// (50 commits, 200, then all; commits only where the server can filter):
// never by timestamps. A rev that is not in
// branch's history at all gives false.
func (r *Remote) Contains(ctx context.Context, branch, rev, ancestor string) (bool, error) {
	if err := checkBranch(branch); err != nil {
		return false, err
	}
	revH, err := parseSHA("revision", rev)
	if err != nil {
		return false, err
	}
	ancH, err := parseSHA("commit", ancestor)
	if err != nil {
		return false, err
	}
	if revH == ancH {
		return true, nil
	}
	// The history depths fetched in turn; 0 is all of it.
	for _, depth := range []int{50, 200, 0} {
		st := memory.NewStorage()
		if _, err := retry(ctx, r, func() (fetchResult, error) {
			// Commits only (tree:0) where the server can filter.
			return r.fetchPack(ctx, st, fetchSpec{branch: branch, depth: depth, commitsOnly: true})
		}); err != nil {
			return false, err
		}
		found, complete, err := reaches(st, revH, ancH)
		if err != nil {
			return false, fmt.Errorf("walking the history of %s: %w", short(revH), err)
		}
		if found || complete {
			r.logf("%s contains %s: %v (history depth %d)", short(revH), short(ancH), found, depth)
			return found, nil
		}
	}
	return false, nil
}

// reaches walks from rev through parents in st. complete is false when the
// walk hit the edge of a shallow history (or rev itself was beyond it).
func reaches(st *memory.Storage, rev, target plumbing.Hash) (found, complete bool, err error) {
	shallow, err := st.Shallow()
	if err != nil {
		return false, false, err
	}
	isShallow := len(shallow) > 0
	edge := map[plumbing.Hash]bool{}
	for _, h := range shallow {
		edge[h] = true
	}
	if _, err := st.EncodedObject(plumbing.CommitObject, rev); err != nil {
		// rev is older than the fetched history, or not on the branch.
		return false, !isShallow, nil
	}
	seen := map[plumbing.Hash]bool{rev: true}
	queue := []plumbing.Hash{rev}
	complete = true
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == target {
			return true, true, nil
		}
		if edge[h] {
			complete = false
			continue
		}
		c, err := object.GetCommit(st, h)
		if err != nil {
			if isShallow {
				complete = false
				continue
			}
			return false, false, fmt.Errorf("reading commit %s: %w", h, err)
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return false, complete, nil
}

func parseSHA(what, s string) (plumbing.Hash, error) {
	if len(s) != 40 || !plumbing.IsHash(s) {
		return plumbing.ZeroHash, &BadInputError{What: what, Value: s, Why: "want a full 40-hex commit SHA"}
	}
	return plumbing.NewHash(s), nil
}
