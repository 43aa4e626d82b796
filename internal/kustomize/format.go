package kustomize

import (
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// oldBools are the YAML 1.1 booleans that yaml.v3 still quotes on output
// so that YAML 1.1 readers keep them strings.
var oldBools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// formatScalar writes value in the quoting style of the scalar it
// replaces: double or single quotes stay; a plain scalar stays plain
// unless the value would not read back as the same string (a
// numeric-looking tag such as 1234), then it is double-quoted.
func formatScalar(value string, style yaml.Style, flow bool, plain plainOK) string {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(value)
	case style&yaml.SingleQuotedStyle != 0 && !strings.ContainsAny(value, "\r\n"):
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case !plain.ok(value) || flow && strings.ContainsAny(value, ",[]{}"):
		return doubleQuote(value)
	}
	return value
}

func doubleQuote(v string) string { return strconv.Quote(v) }

// plainOK caches, per value, whether it reads back as the same string
// when written plain: Edit works it out once for the values it writes,
// not once per file. It is only read once built.
type plainOK map[string]bool

func newPlainOK(targets []target) plainOK {
	p := plainOK{}
	for _, t := range targets {
		for _, o := range []op{t.newName, t.tag, t.digest} {
			if o.kind == opSet {
				p[o.value] = !needsQuotes(o.value)
			}
		}
	}
	return p
}

func (p plainOK) ok(v string) bool {
	if ok, found := p[v]; found {
		return ok
	}
	return !needsQuotes(v)
}

// needsQuotes reports whether v written plain would read back as anything
// but the same string (a number, a bool, a date, null...).
func needsQuotes(v string) bool {
	if v == "" || oldBools[v] || strings.TrimSpace(v) != v {
		return true
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("v: "+v), &doc); err != nil {
		return true
	}
	if len(doc.Content) != 1 || len(doc.Content[0].Content) != 2 {
		return true
	}
	n := doc.Content[0].Content[1]
	return n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value != v || n.Style != 0 || n.Anchor != ""
}
