package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// Push lands sha, a commit Commit made on this snapshot, on branch as a
// fast-forward of the snapshot's head; it never forces. The server checks
// the old value atomically, so a push that lost a race is refused rather
// than applied.
//
// Errors: ErrNonFastForward when the branch moved (fetch, re-edit, push
// again), *ProtectedError for GH006/GH013, ErrAuth, ErrNotFound, and
// *NetworkError once the bounded retries of transport faults are spent. A
// push whose answer was lost but which landed is found on the retry and is
// success.
func (s *Snapshot) Push(ctx context.Context, sha, branch string) error {
	h, mc, err := s.madeCommit(sha, branch)
	if err != nil {
		return err
	}
	return s.push(ctx, h, mc, branch, false)
}

// PushForce sets branch to sha whatever it holds now, with a lease: the
// value the server advertises at the start of the push is the only one it
// may replace. It is for the pull-request branch this tool owns, never the
// branch the snapshot was fetched from (that is refused).
func (s *Snapshot) PushForce(ctx context.Context, sha, branch string) error {
	if branch == s.branch {
		return &BadInputError{What: "branch", Value: branch, Why: "force push is only for the pull-request branch, never the target branch"}
	}
	h, mc, err := s.madeCommit(sha, branch)
	if err != nil {
		return err
	}
	return s.push(ctx, h, mc, branch, true)
}

func (s *Snapshot) madeCommit(sha, branch string) (plumbing.Hash, madeCommit, error) {
	if err := checkBranch(branch); err != nil {
		return plumbing.ZeroHash, madeCommit{}, err
	}
	h := plumbing.NewHash(sha)
	mc, ok := s.made[h]
	if !ok || h.String() != strings.ToLower(sha) {
		// A caller's mistake, not the person's input: no BadInputError.
		return h, mc, fmt.Errorf("pushing commit %q: it was not made by Commit on this snapshot (of %s at %s)", sha, s.branch, short(s.head))
	}
	return h, mc, nil
}

// push lands h with gitrepo's retries of network faults. A fault after the
// pack was sent (a cut, a lost or missing answer) leaves the outcome open;
// the next attempt then reads the branch first: at h, or at a commit whose
// history holds h, means the push landed.
func (s *Snapshot) push(ctx context.Context, h plumbing.Hash, mc madeCommit, branch string, force bool) error {
	op := fmt.Sprintf("pushing %s to branch %q of %s", h.String()[:12], branch, s.r.display)
	unsure := false
	_, err := retry(ctx, s.r, func() (struct{}, error) {
		sent := false
		_, err := exchange(ctx, s.r, op, func(ctx context.Context) (struct{}, error) {
			var err error
			sent, err = s.pushOnce(ctx, op, h, mc, branch, force, unsure)
			return struct{}{}, err
		})
		var ne *NetworkError
		if sent && errors.As(err, &ne) {
			unsure = true
		}
		return struct{}{}, err
	})
	if err != nil {
		var ne *NetworkError
		if unsure && errors.As(err, &ne) {
			return &NetworkError{Op: op, Err: fmt.Errorf("%w (the push went out but no answer came: it may have landed)", ne.Err), Sent: true}
		}
		return err
	}
	s.r.logf("pushed %s to %s branch %s", h, s.r.display, branch)
	return nil
}

// pushOnce runs one receive-pack exchange. sent says whether the pack went
// out (a fault after that leaves the outcome open); unsure says an earlier
// attempt's outcome is open, so a branch that moved is checked for h.
func (s *Snapshot) pushOnce(ctx context.Context, op string, h plumbing.Hash, mc madeCommit, branch string, force, unsure bool) (sent bool, err error) {
	sess, err := s.r.transport.NewReceivePackSession(s.r.ep, s.r.auth())
	if err != nil {
		return false, classifyTransport(op, err)
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = classifyTransport(op, cerr)
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return false, classifyTransport(op, err)
	}
	cur, err := remoteBranch(ar, branch)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if cur == h {
		// An earlier attempt landed but its answer was lost.
		s.r.logf("branch %s already at %s: the earlier push landed", branch, h)
		return false, nil
	}
	if unsure && !cur.IsZero() && cur != mc.parent && !force {
		// The branch moved: by our lost push and commits on top of it, or by
		// someone else's push instead of ours.
		landed, err := s.r.Contains(ctx, branch, cur.String(), h.String())
		if err != nil {
			return false, fmt.Errorf("%s: checking whether the earlier push landed: %w", op, err)
		}
		if landed {
			s.r.logf("branch %s is at %s, which holds %s: the earlier push landed", branch, short(cur), short(h))
			return false, nil
		}
	}
	old := mc.parent
	if force {
		old = cur
	} else if cur != mc.parent {
		return false, fmt.Errorf("%s: %w (it is at %s, the commit is on %s)", op, ErrNonFastForward, short(cur), short(mc.parent))
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: plumbing.NewBranchReferenceName(branch), Old: old, New: h}}
	switch {
	case ar.Capabilities.Supports(capability.Sideband64k):
		err = req.Capabilities.Set(capability.Sideband64k)
	case ar.Capabilities.Supports(capability.Sideband):
		err = req.Capabilities.Set(capability.Sideband)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	var pack bytes.Buffer
	enc := packfile.NewEncoder(&pack, s.storage, !ar.Capabilities.Supports(capability.OFSDelta))
	if _, err := enc.Encode(unique(mc.objects), 10); err != nil {
		return false, fmt.Errorf("%s: packing %d objects: %w", op, len(mc.objects), err)
	}
	req.Packfile = io.NopCloser(&pack)
	remote := &lineCollector{}
	req.Progress = remote
	rs, err := sess.ReceivePack(ctx, req)
	lines := remote.Lines()
	for _, l := range lines {
		if strings.TrimSpace(l) != "" { // the server's blank spacer lines say nothing in a log
			s.r.logf("remote: %s", l)
		}
	}
	return true, classifyPush(op, branch, err, rs, lines)
}

// classifyPush turns a refused push into the package's typed errors.
func classifyPush(op, branch string, err error, rs *packp.ReportStatus, lines []string) error {
	if err == nil {
		return nil
	}
	reason := ""
	if rs != nil {
		for _, cs := range rs.CommandStatuses {
			if cs.Error() != nil {
				reason = cs.Status
			}
		}
		if reason == "" && rs.UnpackStatus != "ok" {
			reason = "unpack " + rs.UnpackStatus
		}
	}
	all := err.Error() + "\n" + strings.Join(lines, "\n")
	switch {
	case strings.Contains(all, "GH013") || strings.Contains(all, "push declined due to repository rule violations"):
		return &ProtectedError{Branch: branch, Ruleset: true, ServerLines: lines, Reason: reason}
	case strings.Contains(all, "GH006") || strings.Contains(all, "protected branch hook declined"):
		return &ProtectedError{Branch: branch, ServerLines: lines, Reason: reason}
	case lostRace(all):
		return fmt.Errorf("%s: %w (server said: %s)", op, ErrNonFastForward, firstNonEmpty(reason, err.Error()))
	case rs != nil:
		// Refused for another reason (a hook, a server policy): quote it.
		words := firstNonEmpty(strings.Join(nonEmpty(lines), "; "), reason)
		return fmt.Errorf("%s: refused: %s: %w", op, words, err)
	}
	return classifyTransport(op, err)
}

// lostRace reports whether the server's words mean the ref moved under us.
func lostRace(s string) bool {
	for _, m := range []string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref",
		"incorrect old value", "stale info", "failed to lock"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// lineCollector gathers the server's progress channel as lines.
type lineCollector struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	lastCR  bool
}

func (c *lineCollector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range p {
		switch {
		case b == '\n' && c.lastCR: // "\r\n" ends one line
		case b == '\n' || b == '\r':
			c.flush(b == '\n')
		default:
			c.partial = append(c.partial, b)
		}
		c.lastCR = b == '\r'
	}
	return len(p), nil
}

// flush ends the current line; a carriage return ends a progress update,
// kept only when it has text.
func (c *lineCollector) flush(newline bool) {
	line := strings.TrimRight(string(c.partial), " ")
	c.partial = c.partial[:0]
	line = strings.TrimPrefix(line, "remote: ")
	if newline || line != "" {
		c.lines = append(c.lines, line)
	}
}

// Lines returns the lines received, a last unterminated one included.
func (c *lineCollector) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.flush(true)
	}
	return append([]string(nil), c.lines...)
}

func unique(hs []plumbing.Hash) []plumbing.Hash {
	seen := make(map[plumbing.Hash]bool, len(hs))
	out := make([]plumbing.Hash, 0, len(hs))
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "(no branch)"
	}
	return h.String()[:12]
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
