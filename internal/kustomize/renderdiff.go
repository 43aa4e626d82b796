package kustomize

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
	"sigs.k8s.io/yaml"
)

// imagesOnly reports whether two renderings of one object differ only in
// fields named image (containers, init containers, ephemeral containers,
// and any field a kustomization's configurations declare as an image).
func imagesOnly(before, after string) bool {
	var a, b any
	if yaml.Unmarshal([]byte(before), &a) != nil || yaml.Unmarshal([]byte(after), &b) != nil {
		return false
	}
	images, other := 0, 0
	compareFields(a, b, "", &images, &other)
	return images > 0 && other == 0
}

// compareFields counts the leaves where a and b differ, by whether the
// field holding them is named image.
func compareFields(a, b any, field string, images, other *int) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			*other++
			return
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok {
				*other++
				continue
			}
			compareFields(x, y, k, images, other)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				*other++
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			*other++
			return
		}
		for i := range av {
			compareFields(av[i], bv[i], field, images, other)
		}
	default:
		if reflect.DeepEqual(a, b) {
			return
		}
		_, as := a.(string)
		_, bs := b.(string)
		if field == "image" && as && bs {
			*images++
			return
		}
		*other++
	}
}

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
