package actionio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// IO talks to the runner: inputs from the environment, workflow commands on
// the writer, file commands into the files the runner names.
type IO struct {
	getenv func(string) string
	w      *safeWriter
	gh     *githubactions.Action
}

// Option configures an IO.
type Option func(*IO)

// WithGetenv sets the environment lookup (default os.Getenv).
func WithGetenv(getenv func(string) string) Option {
	return func(a *IO) { a.getenv = getenv }
}

// WithWriter sets where workflow commands (::add-mask::, ::group::, ::error::)
// go (default os.Stdout).
func WithWriter(w io.Writer) Option {
	return func(a *IO) { a.w = &safeWriter{w: w} }
}

// New returns an IO over the runner's environment.
func New(opts ...Option) *IO {
	a := &IO{getenv: os.Getenv, w: &safeWriter{w: os.Stdout}}
	for _, opt := range opts {
		opt(a)
	}
	a.gh = githubactions.New(githubactions.WithGetenv(a.getenv), githubactions.WithWriter(a.w))
	return a
}

// InRunner reports whether the process runs in a GitHub Actions runner
// (GITHUB_ACTIONS=true).
func (a *IO) InRunner() bool { return a.getenv("GITHUB_ACTIONS") == "true" }

// Lookup reads an input the way the runner passes it: INPUT_<NAME> upper
// case with hyphens kept (INPUT_ARGOCD-APPS), surrounding space trimmed.
func (a *IO) Lookup() config.Lookup {
	return func(name string) []string {
		if v := a.gh.GetInput(name); v != "" {
			return []string{v}
		}
		return nil
	}
}

// LoadConfig reads every input of verb from INPUT_* with the runner's
// defaults (GITHUB_REPOSITORY, GITHUB_SERVER_URL, GITHUB_API_URL) and
// validates it; see config.Load.
func (a *IO) LoadConfig(verb config.Verb) (*config.Config, error) {
	return config.Load(a.Lookup(), config.WithGetenv(a.getenv), config.InRunner(true), config.ForVerb(verb))
}

// AddMask asks the runner to mask each secret in its logs, and each line of a
// multi-line secret (the runner masks line by line).
func (a *IO) AddMask(secrets ...string) error {
	for _, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		a.gh.AddMask(s)
		if strings.ContainsAny(s, "\r\n") {
			for line := range strings.SplitSeq(strings.ReplaceAll(s, "\r", ""), "\n") {
				if strings.TrimSpace(line) != "" {
					a.gh.AddMask(line)
				}
			}
		}
	}
	return a.w.Err()
}

// Group starts a collapsible group in the log.
func (a *IO) Group(title string) error {
	a.gh.Group(title)
	return a.w.Err()
}

// EndGroup ends the current group.
func (a *IO) EndGroup() error {
	a.gh.EndGroup()
	return a.w.Err()
}

// Error writes one ::error:: annotation with a title.
func (a *IO) Error(title, msg string) error {
	a.gh.WithFieldsMap(map[string]string{"title": title}).Errorf("%s", msg)
	return a.w.Err()
}

// Warning writes a ::warning:: annotation.
func (a *IO) Warning(msg string) error {
	a.gh.Warningf("%s", msg)
	return a.w.Err()
}

// Output is one output of the step.
type Output struct {
	Name  string
	Value string
}

// SetOutputs appends the outputs to the GITHUB_OUTPUT file, each in the
// heredoc form with a random delimiter that the value does not contain, so
// multi-line values (the changes JSON) arrive whole.
func (a *IO) SetOutputs(outputs []Output) error {
	var b strings.Builder
	for _, o := range outputs {
		if o.Name == "" || strings.ContainsAny(o.Name, "\r\n=<") {
			return fmt.Errorf("writing output %q: not a valid output name", o.Name)
		}
		delim, err := delimiter(o.Value)
		if err != nil {
			return fmt.Errorf("writing output %q: %w", o.Name, err)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim)
	}
	return a.appendFile("GITHUB_OUTPUT", b.String())
}

// AddStepSummary appends Markdown to the GITHUB_STEP_SUMMARY file.
func (a *IO) AddStepSummary(markdown string) error {
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return a.appendFile("GITHUB_STEP_SUMMARY", markdown)
}

// delimiter returns a heredoc delimiter absent from value.
func delimiter(value string) (string, error) {
	for range 5 {
		buf := make([]byte, 16)
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("making a delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(buf)
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("the value holds every delimiter tried")
}

// appendFile appends text to the file named by the environment variable env;
// the file must exist (the runner creates it), as the actions toolkit checks.
func (a *IO) appendFile(env, text string) error {
	path := a.getenv(env)
	if path == "" {
		return fmt.Errorf("writing %s: the variable is not set (is this a GitHub Actions runner?)", env)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("writing %s: %w", env, err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", env, err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", env, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", env, err)
	}
	return nil
}

// safeWriter never fails a write (go-githubactions panics when a write
// fails); it keeps the first error for the caller to return.
type safeWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (s *safeWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return len(p), nil
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = fmt.Errorf("writing a workflow command: %w", err)
	}
	return len(p), nil
}

// Err returns the first write error, if any.
func (s *safeWriter) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
