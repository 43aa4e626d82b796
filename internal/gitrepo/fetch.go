package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Snapshot is the head commit of one branch, fetched into memory, plus the
// commits made on top of it. Its FS may be read from several goroutines;
// Commit and Push must not run concurrently with anything else.
type Snapshot struct {
	r       *Remote
	branch  string
	head    plumbing.Hash
	storage *lockedStore
	made    map[plumbing.Hash]madeCommit
	ours    map[plumbing.Hash]bool // objects Commit made
	blobs   *blobSource
}

// madeCommit is a commit Snapshot.Commit made: its parent and the objects
// the server does not have yet.
type madeCommit struct {
	parent  plumbing.Hash
	objects []plumbing.Hash
}

// Fetch reads the head commit of branch and its trees (depth 1, that branch
// only) into memory. Where the server can filter (as GitHub can), blobs are
// left out and fetched a folder at a time when FS first reads one, with
// ctx; otherwise they come with the trees. A missing branch is ErrNotFound.
func (r *Remote) Fetch(ctx context.Context, branch string) (*Snapshot, error) {
	if err := checkBranch(branch); err != nil {
		return nil, err
	}
	st := memory.NewStorage()
	res, err := retry(ctx, r, func() (fetchResult, error) {
		return r.fetchPack(ctx, st, fetchSpec{branch: branch, depth: 1, partial: true})
	})
	if err != nil {
		return nil, err
	}
	kind := "with its files"
	if res.partial {
		kind = "without file contents (read on demand)"
	}
	r.logf("fetched %s branch %s at %s %s", r.display, branch, res.head, kind)
	objects := &lockedStore{st: st}
	return &Snapshot{
		r: r, branch: branch, head: res.head, storage: objects,
		made: map[plumbing.Hash]madeCommit{}, ours: map[plumbing.Hash]bool{},
		blobs: &blobSource{r: r, ctx: ctx, st: objects, head: res.head, partial: res.partial},
	}, nil
}

// Head is the full SHA of the fetched head commit.
func (s *Snapshot) Head() string { return s.head.String() }

// Branch is the branch the snapshot was fetched from.
func (s *Snapshot) Branch() string { return s.branch }

// fetchSpec says what one upload-pack request asks for.
type fetchSpec struct {
	branch string          // resolve this branch's head and want it, or
	wants  []plumbing.Hash // want these objects (they must be reachable)
	depth  int             // commits of history; 0: all
	// partial asks the server to leave blobs out when it can (and can hand
	// them out by SHA later); the answer says whether it did.
	partial bool
	// commitsOnly asks the server to leave trees and blobs out when it can.
	commitsOnly bool
}

// fetchResult is what fetchPack got.
type fetchResult struct {
	head    plumbing.Hash // the branch head, when spec.branch was given
	partial bool          // blobs were left out
}

// fetchPack runs one upload-pack exchange, under the request ceiling, and
// stores the pack in st.
func (r *Remote) fetchPack(ctx context.Context, st *memory.Storage, spec fetchSpec) (fetchResult, error) {
	op := "fetching from " + r.display
	if spec.branch != "" {
		op = fmt.Sprintf("fetching branch %q of %s", spec.branch, r.display)
	}
	return exchange(ctx, r, op, func(ctx context.Context) (fetchResult, error) {
		return r.fetchPackOnce(ctx, op, st, spec)
	})
}

func (r *Remote) fetchPackOnce(ctx context.Context, op string, st *memory.Storage, spec fetchSpec) (res fetchResult, err error) {
	sess, err := r.transport.NewUploadPackSession(r.ep, r.auth())
	if err != nil {
		return res, classifyTransport(op, err)
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = classifyTransport(op, cerr)
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return res, classifyTransport(op, err)
	}
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	// Without haves, a thin pack could only refer to objects we lack.
	req.Capabilities.Delete(capability.ThinPack)
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
	}
	req.Wants = spec.wants
	if spec.branch != "" {
		if res.head, err = branchHash(ar, spec.branch); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
		req.Wants = []plumbing.Hash{res.head}
	}
	if spec.depth > 0 {
		req.Depth = packp.DepthCommits(spec.depth)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
	}
	// Blobs are left out only where the server can hand them out one by one
	// later (filter plus wants by SHA), as GitHub can.
	if spec.partial && ar.Capabilities.Supports(capability.Filter) && ar.Capabilities.Supports(capability.AllowReachableSHA1InWant) {
		if err := req.Capabilities.Set(capability.Filter); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
		req.Filter = packp.FilterBlobNone()
		res.partial = true
	}
	if spec.commitsOnly && ar.Capabilities.Supports(capability.Filter) {
		if err := req.Capabilities.Set(capability.Filter); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
		req.Filter = packp.FilterTreeDepth(0)
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return res, classifyTransport(op, err)
	}
	defer func() { _ = resp.Close() }() // a close error after a full read changes nothing
	var pack io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		pack = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		pack = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	if err := packfile.UpdateObjectStorage(st, pack); err != nil {
		return res, classifyTransport(op, err)
	}
	if len(resp.Shallows) > 0 {
		if err := st.SetShallow(resp.Shallows); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
	}
	return res, nil
}

// branchHash finds branch in the server's advertised references.
func branchHash(ar *packp.AdvRefs, branch string) (plumbing.Hash, error) {
	refs, err := ar.AllReferences()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading advertised references: %w", err)
	}
	ref, err := refs.Reference(plumbing.NewBranchReferenceName(branch))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, fmt.Errorf("branch %q: %w", branch, ErrNotFound)
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading branch %q: %w", branch, err)
	}
	return ref.Hash(), nil
}

// remoteBranch returns the hash branch points at on the server in an open
// session's advertisement, or ZeroHash when it does not exist.
func remoteBranch(ar *packp.AdvRefs, branch string) (plumbing.Hash, error) {
	h, err := branchHash(ar, branch)
	if errors.Is(err, ErrNotFound) {
		return plumbing.ZeroHash, nil
	}
	return h, err
}

func checkBranch(branch string) error {
	if branch == "" || !plumbing.NewBranchReferenceName(branch).IsBranch() {
		return &BadInputError{What: "branch", Value: branch, Why: "empty"}
	}
	for _, c := range branch {
		if c <= ' ' || c == 0x7f || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' || c == '\\' {
			return &BadInputError{What: "branch", Value: branch, Why: "not a valid branch name"}
		}
	}
	return nil
}

// DefaultBranch returns the branch the server's HEAD points at.
func (r *Remote) DefaultBranch(ctx context.Context) (string, error) {
	op := "reading the default branch of " + r.display
	return retry(ctx, r, func() (string, error) {
		return exchange(ctx, r, op, func(ctx context.Context) (string, error) { return r.defaultBranchOnce(ctx, op) })
	})
}

func (r *Remote) defaultBranchOnce(ctx context.Context, op string) (branch string, err error) {
	sess, err := r.transport.NewUploadPackSession(r.ep, r.auth())
	if err != nil {
		return "", classifyTransport(op, err)
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = classifyTransport(op, cerr)
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return "", classifyTransport(op, err)
	}
	for _, v := range ar.Capabilities.Get(capability.SymRef) {
		if target, ok := strings.CutPrefix(v, "HEAD:"); ok {
			if name := plumbing.ReferenceName(target); name.IsBranch() {
				return name.Short(), nil
			}
		}
	}
	return "", fmt.Errorf("%s: the server names no HEAD branch: %w", op, ErrNotFound)
}
