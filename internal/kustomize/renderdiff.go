package kustomize

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// imagesOnly reports whether two renderings of one object (YAML) differ
// only in fields named image; see imagesOnlyNodes.
func imagesOnly(before, after string) bool {
	var a, b yaml.Node
	if yaml.Unmarshal([]byte(before), &a) != nil || yaml.Unmarshal([]byte(after), &b) != nil {
		return false
	}
	return imagesOnlyNodes(&a, &b)
}

// imagesOnlyNodes reports whether two renderings of one object differ only
// in string fields named image (containers, init containers, ephemeral
// containers, and any field a kustomization's configurations declare as an
// image), and differ at all.
func imagesOnlyNodes(a, b *yaml.Node) bool {
	images, other := 0, 0
	compareNodes(a, b, "", &images, &other)
	return images > 0 && other == 0
}

// compareNodes counts the leaves where a and b differ, by whether the
// field holding them is named image.
func compareNodes(a, b *yaml.Node, field string, images, other *int) {
	if a.Kind == yaml.DocumentNode && b.Kind == yaml.DocumentNode && len(a.Content) == 1 && len(b.Content) == 1 {
		compareNodes(a.Content[0], b.Content[0], field, images, other)
		return
	}
	if a.Kind != b.Kind {
		*other++
		return
	}
	switch a.Kind {
	case yaml.MappingNode:
		bv := map[string]*yaml.Node{}
		for i := 0; i+1 < len(b.Content); i += 2 {
			bv[b.Content[i].Value] = b.Content[i+1]
		}
		seen := 0
		for i := 0; i+1 < len(a.Content); i += 2 {
			k := a.Content[i].Value
			y, ok := bv[k]
			if !ok {
				*other++
				continue
			}
			seen++
			compareNodes(a.Content[i+1], y, k, images, other)
		}
		if seen != len(bv) {
			*other++
		}
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			*other++
			return
		}
		for i := range a.Content {
			compareNodes(a.Content[i], b.Content[i], field, images, other)
		}
	case yaml.ScalarNode:
		if a.Value == b.Value && (a.Tag == b.Tag || a.Tag == "" || b.Tag == "") {
			return
		}
		if field == "image" && isString(a) && isString(b) {
			*images++
			return
		}
		*other++
	default:
		if !sameNode(a, b) {
			*other++
		}
	}
}

func isString(n *yaml.Node) bool { return n.Tag == "" || n.Tag == "!!str" }

// line is one line of a line diff: ' ' kept, '-' removed, '+' added.
type diffLine struct {
	op   byte
	text string // without the newline
}

// renderLines is the line diff of a and b (go-git's, over diffmatchpatch).
func renderLines(a, b string) []diffLine {
	var out []diffLine
	for _, d := range diff.Do(a, b) {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l == "" {
				continue
			}
			out = append(out, diffLine{op: op, text: strings.TrimSuffix(l, "\n")})
		}
	}
	return out
}

// unifiedDiff is the unified diff of a and b: "@@ -l,n +l,n @@" hunks with
// context lines around each change, no file headers. Equal texts give "".
func unifiedDiff(a, b string, context int) string {
	lines := renderLines(a, b)
	var sb strings.Builder
	for i := 0; i < len(lines); {
		if lines[i].op == ' ' {
			i++
			continue
		}
		// a hunk: from context lines before the change to context lines
		// after the last change that is at most 2*context lines away.
		start := max(0, i-context)
		end := i
		for j := i; j < len(lines); j++ {
			if lines[j].op != ' ' {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(len(lines), end+context+1)
		writeHunk(&sb, lines, start, stop)
		i = stop
	}
	return sb.String()
}

// writeHunk writes lines[start:stop] as one hunk with its header.
func writeHunk(sb *strings.Builder, lines []diffLine, start, stop int) {
	oldLine, newLine := 1, 1
	for _, l := range lines[:start] {
		if l.op != '+' {
			oldLine++
		}
		if l.op != '-' {
			newLine++
		}
	}
	oldN, newN := 0, 0
	for _, l := range lines[start:stop] {
		if l.op != '+' {
			oldN++
		}
		if l.op != '-' {
			newN++
		}
	}
	if oldN == 0 {
		oldLine-- // the hunk adds to an empty range: it starts after line oldLine-1
	}
	if newN == 0 {
		newLine--
	}
	fmt.Fprintf(sb, "@@ -%d,%d +%d,%d @@\n", oldLine, oldN, newLine, newN)
	for _, l := range lines[start:stop] {
		sb.WriteByte(l.op)
		sb.WriteString(l.text)
		sb.WriteByte('\n')
	}
}
