package gitrepo

import (
	"errors"
	"fmt"
	"strings"
)

// kindError is a sentinel error that carries a what-to-do sentence.
type kindError struct {
	msg  string
	hint string
}

func (e *kindError) Error() string { return e.msg }

// Hint says what a person should do about the error.
func (e *kindError) Hint() string { return e.hint }

var (
	// ErrNonFastForward means the branch moved on the server since the
	// snapshot was fetched (another pipeline pushed first). It stands for
	// every shape of a lost race: non-fast-forward, fetch first, failed to
	// update ref, cannot lock ref, incorrect old value. Fetch again, redo the
	// edit and push again.
	ErrNonFastForward error = &kindError{
		msg:  "non-fast-forward: the branch moved on the server",
		hint: "another change landed first; run again to re-apply the edit on the new head",
	}
	// ErrAuth means the server refused the token (HTTP 401 or 403). It is
	// never retried.
	ErrAuth error = &kindError{
		msg:  "the server refused the token",
		hint: "check that the token is valid and may write to the repository (contents: write)",
	}
	// ErrNotFound means the repository, branch or commit does not exist, or
	// the token may not see it.
	ErrNotFound error = &kindError{
		msg:  "not found",
		hint: "check repository, repository-url and branch, and that the token can read the repository",
	}
	// ErrNoChange is returned by Snapshot.Commit when the files given leave
	// the tree as it is: there is nothing to commit (never an empty commit).
	ErrNoChange = errors.New("nothing to commit: the tree is unchanged")
	// ErrProtectedBranch matches every *ProtectedError with errors.Is.
	ErrProtectedBranch error = &kindError{
		msg:  "protected branch",
		hint: protectedHint,
	}
)

const protectedHint = "the branch only takes changes through a pull request: use `mode: pull-request` (or `auto`) to land through one"

// ProtectedError is a push refused by branch protection: a classic branch
// protection rule (GH006, "protected branch hook declined") or a repository
// ruleset (GH013, "push declined due to repository rule violations").
type ProtectedError struct {
	// Branch is the branch the push was refused for.
	Branch string
	// Ruleset is true for a ruleset refusal (GH013), false for GH006.
	Ruleset bool
	// ServerLines are the server's own "remote:" lines, prefix removed.
	ServerLines []string
	// Reason is the server's status for the ref, e.g. "protected branch hook declined".
	Reason string
}

// Error quotes the server's words.
func (e *ProtectedError) Error() string {
	kind := "branch protection"
	if e.Ruleset {
		kind = "repository rules"
	}
	var quoted []string
	for _, l := range e.ServerLines {
		if l = strings.TrimSpace(l); l != "" {
			quoted = append(quoted, l)
		}
	}
	if e.Reason != "" {
		quoted = append(quoted, "("+e.Reason+")")
	}
	return fmt.Sprintf("push to branch %q refused by %s: %s", e.Branch, kind, strings.Join(quoted, " "))
}

// Hint says to land through a pull request.
func (e *ProtectedError) Hint() string { return protectedHint }

// Is makes errors.Is(err, ErrProtectedBranch) true.
func (e *ProtectedError) Is(target error) bool { return target == ErrProtectedBranch }

// NetworkError is a fault of the transport (a 5xx answer, a cut connection,
// a timeout) that outlived the retries inside this package. It is worth
// retrying later.
type NetworkError struct {
	Op  string // what was being done, e.g. "pushing"
	Err error
	// Sent is true for a push whose pack went out before the fault: the
	// server may have applied it (its answer was lost).
	Sent bool
}

func (e *NetworkError) Error() string { return e.Op + ": network error: " + e.Err.Error() }

// Unwrap returns the transport's error.
func (e *NetworkError) Unwrap() error { return e.Err }

// Temporary is true: the operation may succeed if tried again.
func (e *NetworkError) Temporary() bool { return true }

// MayHaveLanded is true when the fault came after a push went out: read
// the branch before pushing anew.
func (e *NetworkError) MayHaveLanded() bool { return e.Sent }

// BadInputError is an argument that cannot be right whatever the server
// says (a malformed signature, a path outside the repository).
type BadInputError struct {
	What  string // e.g. "author"
	Value string
	Why   string
}

func (e *BadInputError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Why)
}

// BadInput is true: the error is in what the person gave.
func (e *BadInputError) BadInput() bool { return true }

// redactedError hides a secret that a lower layer might have put in its
// message. Unwrap keeps errors.Is and errors.As working.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "***")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, secret: secret}
}
