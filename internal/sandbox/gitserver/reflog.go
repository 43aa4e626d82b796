package gitserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RefUpdate is one update of a branch as the server logged it in the
// branch's reflog: every push, seed and commit the server applied.
type RefUpdate struct {
	Old, New string // full SHAs; Old is all zeros when the branch was created
	Message  string // e.g. "push"
}

const zeroSHA = "0000000000000000000000000000000000000000"

// RefUpdates returns the updates of branch in repo, oldest first, from the
// reflog git keeps for it (core.logAllRefUpdates, set by CreateRepo).
func (s *Server) RefUpdates(repo, branch string) ([]RefUpdate, error) {
	if !s.exists(repo) {
		return nil, fmt.Errorf("reading the reflog of %q: %w", repo, errNotFound)
	}
	b, err := os.ReadFile(filepath.Join(s.BareDir(repo), "logs", "refs", "heads", filepath.FromSlash(branch)))
	if err != nil {
		return nil, fmt.Errorf("reading the reflog of branch %q of %q: %w", branch, repo, err)
	}
	var out []RefUpdate
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// "<old> <new> <name> <<email>> <time> <tz>\t<message>"
		head, msg, _ := strings.Cut(sc.Text(), "\t")
		f := strings.Fields(head)
		if len(f) < 2 {
			return nil, fmt.Errorf("reading the reflog of branch %q of %q: malformed line %q", branch, repo, sc.Text())
		}
		out = append(out, RefUpdate{Old: f[0], New: f[1], Message: msg})
	}
	return out, sc.Err()
}

// FastForwardOnly checks from the server's reflog that every update of
// branch since it was created was a fast-forward: the old head is in the
// history of the new one (nothing was force-pushed, nothing lost). It
// returns the number of updates checked.
func (s *Server) FastForwardOnly(ctx context.Context, repo, branch string) (int, error) {
	ups, err := s.RefUpdates(repo, branch)
	if err != nil {
		return 0, err
	}
	var bad []error
	for _, u := range ups {
		if u.Old == zeroSHA {
			continue
		}
		if _, err := s.git(ctx, repo, nil, nil, "merge-base", "--is-ancestor", u.Old, u.New); err != nil {
			bad = append(bad, fmt.Errorf("%s -> %s (%s) is not a fast-forward", u.Old[:12], u.New[:12], u.Message))
		}
	}
	return len(ups), errors.Join(bad...)
}
