package kustomize

import (
	"fmt"
	"strings"
)

// InputError reports something wrong in what the person gave: an overlay
// path, a kustomization file that is missing, duplicated, too big or not
// valid YAML, or a request that cannot be met. BadInput reports true.
type InputError struct {
	msg  string
	hint string
	err  error
}

func badInput(hint string, format string, args ...any) *InputError {
	e := &InputError{msg: oneLine(fmt.Sprintf(format, args...)), hint: hint}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.err = err
		}
	}
	return e
}

// Error returns the message, on one line.
func (e *InputError) Error() string { return e.msg }

// BadInput reports that the error is the person's input: always true.
func (e *InputError) BadInput() bool { return true }

// Hint returns what the person can do about it, or "".
func (e *InputError) Hint() string { return e.hint }

// Unwrap returns the underlying error, if any.
func (e *InputError) Unwrap() error { return e.err }

// BuildError reports that kustomize could not build an edited overlay. It
// is not bad input of this run: the overlay was broken, or the edit broke
// it.
type BuildError struct {
	// Overlay is the overlay folder, relative to the root.
	Overlay string
	// Err is kustomize's error.
	Err error
}

// Error names the overlay and quotes kustomize's message on one line.
func (e *BuildError) Error() string {
	return fmt.Sprintf("building overlay %q with kustomize: %s", e.Overlay, oneLine(e.Err.Error()))
}

// Unwrap returns kustomize's error.
func (e *BuildError) Unwrap() error { return e.Err }

// Hint says what to do.
func (e *BuildError) Hint() string {
	return fmt.Sprintf("run `kustomize build %s` on the edited files and fix what it reports, or set validate: false", e.Overlay)
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}
