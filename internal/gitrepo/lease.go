package gitrepo

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// HeadMessage returns the full message of the fetched head commit: the pull
// request path reads its own marker (a trailer) there.
func (s *Snapshot) HeadMessage() (string, error) {
	c, err := object.GetCommit(s.storage, s.head)
	if err != nil {
		return "", fmt.Errorf("reading commit %s of branch %q: %w", short(s.head), s.branch, err)
	}
	return c.Message, nil
}

// PushLease sets branch (never the snapshot's own branch) to sha, a commit
// Commit made, only while the server still has it at lease: the head the
// caller read ("" = the branch must not exist yet). Anything else there, a
// commit pushed meanwhile by someone or another run, is kept and the push is
// ErrNonFastForward, as `git push --force-with-lease=branch:lease` does.
func (s *Snapshot) PushLease(ctx context.Context, sha, branch, lease string) error {
	if branch == s.branch {
		return &BadInputError{What: "branch", Value: branch, Why: "a lease push is only for the pull-request branch, never the target branch"}
	}
	h, mc, err := s.madeCommit(sha, branch)
	if err != nil {
		return err
	}
	mc.parent = plumbing.ZeroHash // a copy: the map keeps the real parent
	if lease != "" {
		mc.parent = plumbing.NewHash(lease)
	}
	// A non-force push sends old=parent and refuses when the server's value
	// differs: with the lease as "parent" that is the compare-and-swap.
	return s.push(ctx, h, mc, branch, false)
}
