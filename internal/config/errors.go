package config

import (
	"errors"
	"fmt"
)

// InputError is one problem with one input: the person's fault.
type InputError struct {
	Input string // the input's name, as in DESIGN.md
	Msg   string // what was expected; never holds a secret value
}

// Error returns "<input>: <what was expected>".
func (e *InputError) Error() string { return e.Input + ": " + e.Msg }

// BadInput reports that the person's input is at fault (exit code 2).
func (e *InputError) BadInput() bool { return true }

func problem(input, format string, args ...any) error {
	return &InputError{Input: input, Msg: fmt.Sprintf(format, args...)}
}

// Errors is every problem found in the inputs of one run, joined with
// errors.Join: one line per problem.
type Errors struct {
	joined error
	list   []error
}

func newErrors(list []error) error {
	if len(list) == 0 {
		return nil
	}
	return &Errors{joined: errors.Join(list...), list: list}
}

// Error returns one line per problem.
func (e *Errors) Error() string { return e.joined.Error() }

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *Errors) Unwrap() []error { return e.list }

// BadInput reports that the person's input is at fault (exit code 2).
func (e *Errors) BadInput() bool { return true }

// Problems returns the problems, one per input issue, in input order.
func (e *Errors) Problems() []error { return append([]error(nil), e.list...) }
