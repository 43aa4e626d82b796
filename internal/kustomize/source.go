package kustomize

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// source is the bytes of one YAML file with the means to turn the parser's
// line and column (1-based, counted in characters) into byte offsets.
type source struct {
	b     []byte
	lines []int // byte offset of the start of each line
	nl    string
}

func newSource(b []byte) *source {
	s := &source{b: b, nl: "\n"}
	start := 0
	if bytes.HasPrefix(b, []byte("\ufeff")) {
		start = 3 // the parser does not count a byte order mark
	}
	s.lines = append(s.lines, start)
	for i, c := range b {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	if bytes.Contains(b, []byte("\r\n")) {
		s.nl = "\r\n"
	}
	return s
}

// offset returns the byte offset of a parser position.
func (s *source) offset(line, col int) int {
	if line < 1 || line > len(s.lines) {
		return len(s.b)
	}
	off := s.lines[line-1]
	for i := 1; i < col && off < len(s.b); i++ {
		_, size := utf8.DecodeRune(s.b[off:])
		off += size
	}
	return off
}

func (s *source) start(n *yaml.Node) int { return s.offset(n.Line, n.Column) }

// lineStart returns the offset of the start of the line holding off.
func (s *source) lineStart(off int) int {
	return bytes.LastIndexByte(s.b[:off], '\n') + 1
}

// nextLine returns the offset just after the line break ending the line
// holding off, or len(b) on the last line.
func (s *source) nextLine(off int) int {
	i := bytes.IndexByte(s.b[off:], '\n')
	if i < 0 {
		return len(s.b)
	}
	return off + i + 1
}

// column returns the 0-based column (in bytes: indentation is ASCII) of n.
func (s *source) column(n *yaml.Node) int { return n.Column - 1 }

// blankBefore reports whether only spaces precede off on its line.
func (s *source) blankBefore(off int) bool {
	return len(bytes.Trim(s.b[s.lineStart(off):off], " \t")) == 0
}

// isCommentLine reports whether the line starting at off holds only a
// comment.
func (s *source) isCommentLine(off int) bool {
	line := bytes.TrimLeft(s.b[off:s.nextLine(off)], " \t")
	return len(line) > 0 && line[0] == '#'
}

// scalarEnd returns the offset just after the text of scalar n.
func (s *source) scalarEnd(n *yaml.Node) (int, error) {
	start := s.start(n)
	if start >= len(s.b) {
		return 0, fmt.Errorf("value %q at line %d: not found in the file", n.Value, n.Line)
	}
	if c := s.b[start]; c == '!' || c == '&' {
		return 0, errUnsupported(n, "has a YAML tag or anchor")
	}
	switch {
	case n.Kind == yaml.AliasNode:
		return start + 1 + len(n.Value), nil
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(s.b); i++ {
			switch s.b[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(s.b); i++ {
			if s.b[i] == '\'' {
				if i+1 < len(s.b) && s.b[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, errUnsupported(n, "is a block scalar")
	default:
		end := start + len(n.Value)
		if end <= len(s.b) && string(s.b[start:end]) == n.Value {
			return end, nil
		}
		return 0, errUnsupported(n, "spans several lines")
	}
	return 0, fmt.Errorf("value at line %d: closing quote not found", n.Line)
}

func errUnsupported(n *yaml.Node, what string) error {
	return badInput("write the value as a plain or quoted scalar on one line",
		"value %q at line %d %s; gitops-promote edits only one-line scalars there", n.Value, n.Line, what)
}

// end returns the offset just after the text of node n.
func (s *source) end(n *yaml.Node) (int, error) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.AliasNode:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" {
			return 0, errUnsupported(n, "is empty")
		}
		return s.scalarEnd(n)
	case yaml.MappingNode, yaml.SequenceNode:
		from := s.start(n)
		if len(n.Content) > 0 {
			last := n.Content[len(n.Content)-1]
			var err error
			if n.Kind == yaml.MappingNode && last.Kind == yaml.ScalarNode && last.Tag == "!!null" && last.Value == "" {
				from, err = s.afterColon(n.Content[len(n.Content)-2])
			} else {
				from, err = s.end(last)
			}
			if err != nil || n.Style&yaml.FlowStyle == 0 {
				return from, err
			}
		} else if n.Style&yaml.FlowStyle != 0 {
			from++ // past the opening bracket
		}
		if n.Style&yaml.FlowStyle == 0 {
			return from, nil
		}
		closing := byte('}')
		if n.Kind == yaml.SequenceNode {
			closing = ']'
		}
		i, err := s.skipToByte(from, closing)
		return i + 1, err
	}
	return 0, fmt.Errorf("node at line %d: unexpected kind", n.Line)
}

// afterColon returns the offset after the ':' that follows mapping key k.
func (s *source) afterColon(k *yaml.Node) (int, error) {
	end, err := s.scalarEnd(k)
	if err != nil {
		return 0, err
	}
	i, err := s.skipToByte(end, ':')
	return i + 1, err
}

// skipToByte skips white space, commas and comments from off and returns
// the offset of want.
func (s *source) skipToByte(off int, want byte) (int, error) {
	for i := off; i < len(s.b); i++ {
		switch c := s.b[i]; c {
		case want:
			return i, nil
		case ' ', '\t', '\r', '\n', ',':
		case '#':
			i = s.nextLine(i) - 1
		default:
			return 0, fmt.Errorf("offset %d: found %q looking for %q", i, c, want)
		}
	}
	return 0, fmt.Errorf("%q not found", want)
}
