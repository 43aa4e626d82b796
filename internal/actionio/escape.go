package actionio

import (
	"bytes"
	"io"
	"sync"
	"unicode"
)

// maxLead bounds how much of a line's start the escaper holds back while
// it decides: a line of that much white space gets the mark anyway.
const maxLead = 4 << 10

// Escaper is a writer for text that must not issue workflow commands: the
// runner reads every line of a step's stdout and stderr that starts,
// after white space, with "::" (or the legacy "##[") as a command. Such a
// line is written with a backslash before it ("\::error::..."); every
// other byte passes unchanged. A line ends at "\n" or "\r", as the runner
// reads lines. Call Flush when done: a last line without its end is held
// until it is decided.
type Escaper struct {
	mu   sync.Mutex
	w    io.Writer
	lead []byte // the start of the current line, not yet written
	mid  bool   // the current line was decided: the rest passes through
}

// NewEscaper returns an Escaper writing to w.
func NewEscaper(w io.Writer) *Escaper { return &Escaper{w: w} }

// Write escapes p as described on Escaper; it returns len(p) unless w failed.
func (e *Escaper) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(p)
	var out []byte
	for len(p) > 0 {
		if e.mid {
			i := bytes.IndexAny(p, "\r\n")
			if i < 0 {
				out = append(out, p...)
				break
			}
			out = append(out, p[:i+1]...)
			p = p[i+1:]
			e.mid = false
			continue
		}
		c := p[0]
		p = p[1:]
		if c == '\n' || c == '\r' {
			out = append(out, e.decide()...)
			out = append(out, c)
			continue
		}
		e.lead = append(e.lead, c)
		if trimmed := bytes.TrimLeftFunc(e.lead, unicode.IsSpace); len(trimmed) >= 3 || len(e.lead) >= maxLead {
			out = append(out, e.decide()...)
			e.mid = true
		}
	}
	if _, err := e.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}

// Flush writes a held line start.
func (e *Escaper) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.lead) == 0 {
		return nil
	}
	_, err := e.w.Write(e.decide())
	e.mid = true
	return err
}

// decide returns the held line start, marked when it starts a command, and
// empties the hold.
func (e *Escaper) decide() []byte {
	lead := e.lead
	e.lead = nil
	trimmed := bytes.TrimLeftFunc(lead, unicode.IsSpace)
	if !IsCommandStart(trimmed) && len(lead) < maxLead {
		return lead
	}
	ws := len(lead) - len(trimmed)
	out := make([]byte, 0, len(lead)+1)
	out = append(out, lead[:ws]...)
	out = append(out, '\\')
	return append(out, trimmed...)
}

// IsCommandStart reports whether a line that starts (after white space)
// with s would be read by the runner as a workflow command.
func IsCommandStart(s []byte) bool {
	return bytes.HasPrefix(s, []byte("::")) || bytes.HasPrefix(s, []byte("##["))
}

// EscapeLines returns s with every line that would start a workflow
// command marked as the Escaper marks it.
func EscapeLines(s string) string {
	var b bytes.Buffer
	e := NewEscaper(&b)
	_, _ = e.Write([]byte(s))
	_ = e.Flush()
	return b.String()
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }
