package promote

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// inputError is the person's input at fault (exit 2).
type inputError struct {
	msg string
	err error
}

func (e *inputError) Error() string  { return e.msg }
func (e *inputError) Unwrap() error  { return e.err }
func (e *inputError) BadInput() bool { return true }

// hintError adds what to do to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

// replacedError means the pull request merged but the branch does not hold
// our images: a later change replaced them.
type replacedError struct {
	number       int
	merge        string
	branch, head string
	lost         []kustomize.Change // Old: the value on the branch, New: ours
}

func (e *replacedError) Error() string {
	at := short(e.head)
	if e.head != e.merge {
		at += " (after the merge)"
	}
	parts := make([]string, len(e.lost))
	for i, c := range e.lost {
		parts[i] = fmt.Sprintf("%s: %s is %s, not our %s", c.File, c.Image, orNone(c.Old), c.New)
	}
	return fmt.Sprintf("pull request #%d merged as %s, but a later change replaced our images on %s at %s: %s; not confirming someone else's commit",
		e.number, short(e.merge), e.branch, at, strings.Join(parts, "; "))
}

func (e *replacedError) Hint() string {
	return "look at what landed on " + e.branch + " after the pull request; run the promotion again if these images should still be deployed"
}

// Request turns the images and overlays of cfg into an edit request,
// validating every image argument with internal/image (bare names with
// promote-from) and refusing the same image twice. The error joins one
// bad-input line per problem.
func Request(cfg *config.Config) (kustomize.Request, error) {
	req := kustomize.Request{Overlays: cfg.Overlays, PromoteFrom: cfg.PromoteFrom}
	var probs []error
	seen := map[string]string{}
	for _, arg := range cfg.Images {
		var ref image.Ref
		var err error
		if cfg.PromoteFrom != "" {
			ref.Name, err = image.ParseName(arg)
		} else {
			ref, err = image.Parse(arg)
		}
		if err != nil {
			probs = append(probs, &inputError{msg: config.InImages + ": " + err.Error(), err: err})
			continue
		}
		if first, dup := seen[ref.Name]; dup {
			probs = append(probs, &inputError{msg: fmt.Sprintf("%s: %q and %q both set image %q; give each image once", config.InImages, first, strings.TrimSpace(arg), ref.Name)})
			continue
		}
		seen[ref.Name] = strings.TrimSpace(arg)
		req.Images = append(req.Images, ref)
	}
	if len(probs) > 0 {
		return req, errors.Join(probs...)
	}
	return req, nil
}
