package kustomize

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// patch replaces b[start:end] with text; start == end inserts.
type patch struct {
	start, end int
	text       string
	order      int // among insertions at the same offset
}

// fieldOrder is the order in which new keys of an entry are written.
var fieldOrder = []string{keyNewName, keyNewTag, keyDigest}

// plan works out the patches that make f set every target, and the changes
// and warnings to report.
func (f *kfile) plan(targets []target) ([]patch, []Change, []string, error) {
	var (
		patches  []patch
		changes  []Change
		warnings []string
		added    []addedItem
	)
	for _, t := range targets {
		found := f.byName[t.name]
		if len(found) > 1 {
			warnings = append(warnings, fmt.Sprintf("%s lists image %q %d times; the first entry is the one set, as kustomize does",
				f.path, t.name, len(found)))
		}
		if len(found) == 0 {
			n := t.apply(state{})
			added = append(added, addedItem{name: t.name, st: n})
			changes = append(changes, Change{File: f.path, Image: t.name, New: n.ref(t.name)})
			continue
		}
		it := found[0]
		old := it.state()
		n := t.apply(old)
		if n == old {
			continue
		}
		ps, err := f.editItem(it, old, n)
		if err != nil {
			return nil, nil, nil, err
		}
		patches = append(patches, ps...)
		changes = append(changes, Change{File: f.path, Image: t.name, Old: old.ref(t.name), New: n.ref(t.name)})
	}
	if len(added) > 0 {
		ps, err := f.addItems(added)
		if err != nil {
			return nil, nil, nil, err
		}
		patches = append(patches, ps...)
	}
	return patches, changes, warnings, nil
}

type addedItem struct {
	name string
	st   state
}

// fields lists the non-empty keys of an entry in writing order.
func (a addedItem) fields() [][2]string {
	out := [][2]string{{keyName, a.name}}
	for _, k := range fieldOrder {
		if v := fieldValue(a.st, k); v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func fieldValue(s state, key string) string {
	switch key {
	case keyNewName:
		return s.NewName
	case keyNewTag:
		return s.Tag
	case keyDigest:
		return s.Digest
	}
	return ""
}

// editItem replaces, removes and adds the keys of one existing entry.
func (f *kfile) editItem(it *item, old, n state) ([]patch, error) {
	var (
		patches []patch
		removed = map[int]bool{}
		adds    [][2]string
	)
	style := it.node.Content[it.pairs[keyName]+1].Style
	for _, key := range fieldOrder {
		ov, nv := fieldValue(old, key), fieldValue(n, key)
		if ov == nv {
			continue
		}
		i, has := it.pairs[key]
		switch {
		case nv == "" && has:
			removed[i] = true
		case has:
			v := it.node.Content[i+1]
			p, err := f.replaceScalar(v, nv)
			if err != nil {
				return nil, err
			}
			patches = append(patches, p)
		default:
			adds = append(adds, [2]string{key, nv})
		}
	}
	ps, err := f.removePairs(it.node, removed)
	if err != nil {
		return nil, err
	}
	patches = append(patches, ps...)
	if len(adds) > 0 {
		p, err := f.addPairs(it.node, adds, style)
		if err != nil {
			return nil, err
		}
		patches = append(patches, p)
	}
	return patches, nil
}

func (f *kfile) replaceScalar(v *yaml.Node, value string) (patch, error) {
	if v.Kind != yaml.ScalarNode {
		return patch{}, errUnsupported(v, "is not a scalar")
	}
	start := f.src.start(v)
	end, err := f.src.scalarEnd(v)
	if err != nil {
		return patch{}, f.wrap(err)
	}
	flow := f.inFlow(v)
	return patch{start: start, end: end, text: formatScalar(value, v.Style, flow, f.plain)}, nil
}

// inFlow reports whether v sits inside a flow collection.
func (f *kfile) inFlow(v *yaml.Node) bool {
	var found, flow bool
	var walk func(n *yaml.Node, inFlow bool)
	walk = func(n *yaml.Node, inFlow bool) {
		if found {
			return
		}
		if n == v {
			found, flow = true, inFlow
			return
		}
		inFlow = inFlow || n.Style&yaml.FlowStyle != 0
		for _, c := range n.Content {
			walk(c, inFlow)
		}
	}
	if f.root != nil {
		walk(f.root, false)
	}
	return flow
}

// removePairs deletes the marked key/value pairs of a mapping, run by run
// of consecutive pairs, so that what stays is well-formed.
func (f *kfile) removePairs(m *yaml.Node, removed map[int]bool) ([]patch, error) {
	var patches []patch
	flow := m.Style&yaml.FlowStyle != 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !removed[i] {
			continue
		}
		j := i
		for removed[j+2] {
			j += 2
		}
		keyStart := f.src.start(m.Content[i])
		lastEnd, err := f.src.end(m.Content[j+1])
		if err != nil {
			return nil, f.wrap(err)
		}
		var p patch
		switch {
		case !flow && f.src.blankBefore(keyStart):
			p = patch{start: f.src.lineStart(keyStart), end: f.src.nextLine(lastEnd)}
		case flow && i > 0:
			prevEnd, err := f.src.end(m.Content[i-1])
			if err != nil {
				return nil, f.wrap(err)
			}
			p = patch{start: prevEnd, end: lastEnd}
		case j+2 < len(m.Content):
			p = patch{start: keyStart, end: f.src.start(m.Content[j+2])}
		default:
			return nil, fmt.Errorf("%s: removing %q at line %d: no key follows it", f.path, m.Content[i].Value, m.Content[i].Line)
		}
		patches = append(patches, p)
		i = j
	}
	return patches, nil
}

// addPairs adds keys to an existing entry: as lines after its last line
// in block style, before the closing brace in flow style.
func (f *kfile) addPairs(m *yaml.Node, adds [][2]string, style yaml.Style) (patch, error) {
	end, err := f.src.end(m)
	if err != nil {
		return patch{}, f.wrap(err)
	}
	if m.Style&yaml.FlowStyle != 0 {
		last, err := f.src.end(m.Content[len(m.Content)-1])
		if err != nil {
			return patch{}, f.wrap(err)
		}
		var b strings.Builder
		for _, kv := range adds {
			b.WriteString(", " + kv[0] + ": " + formatScalar(kv[1], style, true, f.plain))
		}
		return patch{start: last, end: last, text: b.String()}, nil
	}
	indent := strings.Repeat(" ", f.src.column(m.Content[0]))
	var b strings.Builder
	at := f.src.nextLine(end)
	if at == len(f.src.b) && !strings.HasSuffix(string(f.src.b), "\n") {
		b.WriteString(f.src.nl)
	}
	for _, kv := range adds {
		b.WriteString(indent + kv[0] + ": " + formatScalar(kv[1], style, false, f.plain) + f.src.nl)
	}
	return patch{start: at, end: at, text: b.String()}, nil
}

// addItems inserts new entries where kustomize's sort by name puts them
// among the existing ones, or creates images: when absent.
func (f *kfile) addItems(added []addedItem) ([]patch, error) {
	sort.SliceStable(added, func(i, j int) bool { return added[i].name < added[j].name })
	if f.list != nil && f.list.Kind == yaml.SequenceNode {
		if f.list.Style&yaml.FlowStyle != 0 {
			return f.addFlowItems(added)
		}
		return f.addBlockItems(added)
	}
	return f.addImagesKey(added)
}

// insertIndex returns the index of the first existing entry that sorts
// after name, or len(items).
func (f *kfile) insertIndex(name string) int {
	for i, it := range f.items {
		if it.name > name {
			return i
		}
	}
	return len(f.items)
}

func (f *kfile) addBlockItems(added []addedItem) ([]patch, error) {
	dash := f.src.column(f.list)
	gap := 2
	if first := f.list.Content[0]; first.Kind == yaml.MappingNode && first.Style&yaml.FlowStyle == 0 && first.Line == f.list.Line {
		gap = first.Column - f.list.Column
	}
	groups := map[int][]addedItem{}
	for _, a := range added {
		i := f.insertIndex(a.name)
		groups[i] = append(groups[i], a)
	}
	var patches []patch
	for i, group := range groups {
		var at int
		prefix := ""
		if i < len(f.items) {
			at = f.itemLineStart(f.items[i].node)
		} else {
			end, err := f.src.end(f.items[len(f.items)-1].node)
			if err != nil {
				return nil, f.wrap(err)
			}
			at = f.src.nextLine(end)
			if at == len(f.src.b) && !strings.HasSuffix(string(f.src.b), "\n") {
				prefix = f.src.nl
			}
		}
		var b strings.Builder
		b.WriteString(prefix)
		for _, a := range group {
			b.WriteString(blockItem(a, dash, gap, f.src.nl, f.plain))
		}
		patches = append(patches, patch{start: at, end: at, text: b.String(), order: 1})
	}
	return patches, nil
}

// itemLineStart returns the start of the line of an entry's '-', moved up
// over the comment lines right above it, which belong to it.
func (f *kfile) itemLineStart(n *yaml.Node) int {
	off := f.src.start(n)
	i := off - 1
	for i >= 0 && strings.ContainsRune(" \t\r\n", rune(f.src.b[i])) {
		i--
	}
	if i >= 0 && f.src.b[i] == '-' {
		off = i
	}
	start := f.src.lineStart(off)
	for start > 0 {
		prev := f.src.lineStart(start - 1)
		if !f.src.isCommentLine(prev) {
			break
		}
		start = prev
	}
	return start
}

func blockItem(a addedItem, dash, gap int, nl string, plain plainOK) string {
	var b strings.Builder
	for i, kv := range a.fields() {
		if i == 0 {
			b.WriteString(strings.Repeat(" ", dash) + "-" + strings.Repeat(" ", gap-1))
		} else {
			b.WriteString(strings.Repeat(" ", dash+gap))
		}
		b.WriteString(kv[0] + ": " + formatScalar(kv[1], 0, false, plain) + nl)
	}
	return b.String()
}

func flowItem(a addedItem, plain plainOK) string {
	var parts []string
	for _, kv := range a.fields() {
		parts = append(parts, kv[0]+": "+formatScalar(kv[1], 0, true, plain))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (f *kfile) addFlowItems(added []addedItem) ([]patch, error) {
	groups := map[int][]string{}
	for _, a := range added {
		i := f.insertIndex(a.name)
		groups[i] = append(groups[i], flowItem(a, f.plain))
	}
	var patches []patch
	for i, items := range groups {
		switch {
		case len(f.items) == 0:
			at := f.src.start(f.list) + 1
			patches = append(patches, patch{start: at, end: at, text: strings.Join(items, ", ")})
		case i < len(f.items):
			at := f.src.start(f.items[i].node)
			patches = append(patches, patch{start: at, end: at, text: strings.Join(items, ", ") + ", "})
		default:
			at, err := f.src.end(f.items[len(f.items)-1].node)
			if err != nil {
				return nil, f.wrap(err)
			}
			patches = append(patches, patch{start: at, end: at, text: ", " + strings.Join(items, ", "), order: 1})
		}
	}
	return patches, nil
}

// addImagesKey writes images: where it is absent or null.
func (f *kfile) addImagesKey(added []addedItem) ([]patch, error) {
	h := f.hints()
	var items strings.Builder
	col := 0
	if f.root != nil {
		col = f.src.column(f.root)
	}
	if f.root != nil && f.root.Style&yaml.FlowStyle != 0 {
		var parts []string
		for _, a := range added {
			parts = append(parts, flowItem(a, f.plain))
		}
		list := "[" + strings.Join(parts, ", ") + "]"
		if f.list != nil { // images: null
			return []patch{{start: f.src.start(f.list), end: mustEnd(f.src, f.list), text: list}}, nil
		}
		at, err := f.src.end(f.root.Content[len(f.root.Content)-1])
		if err != nil {
			return nil, f.wrap(err)
		}
		return []patch{{start: at, end: at, text: ", images: " + list}}, nil
	}
	for _, a := range added {
		items.WriteString(blockItem(a, col+h.listIndent, h.gap, f.src.nl, f.plain))
	}
	if f.list != nil { // images: with no value, ~ or null
		var patches []patch
		colon, err := f.src.afterColon(f.key)
		if err != nil {
			return nil, f.wrap(err)
		}
		lineEnd := f.src.nextLine(colon)
		if f.list.Value != "" {
			end, err := f.src.scalarEnd(f.list)
			if err != nil {
				return nil, f.wrap(err)
			}
			patches = append(patches, patch{start: colon, end: end})
			lineEnd = f.src.nextLine(end)
		}
		text := items.String()
		if lineEnd == len(f.src.b) && !strings.HasSuffix(string(f.src.b), "\n") {
			text = f.src.nl + text
		}
		return append(patches, patch{start: lineEnd, end: lineEnd, text: text}), nil
	}
	if f.null != nil && f.null.Value != "" { // the document is ~ or null
		start := f.src.start(f.null)
		end, err := f.src.scalarEnd(f.null)
		if err != nil {
			return nil, f.wrap(err)
		}
		text := "images:" + f.src.nl + items.String()
		if end == len(f.src.b) || f.src.b[end] == '\n' || f.src.b[end] == '\r' {
			text = strings.TrimSuffix(text, f.src.nl)
		}
		return []patch{{start: start, end: end, text: text}}, nil
	}
	at := len(f.src.b)
	if f.root != nil {
		if end, err := f.src.end(f.root); err == nil {
			at = f.src.nextLine(end)
		} else {
			at = f.docEnd()
		}
	}
	var b strings.Builder
	if at > 0 && f.src.b[at-1] != '\n' {
		b.WriteString(f.src.nl)
	}
	if f.spacedKeys() {
		b.WriteString(f.src.nl)
	}
	b.WriteString(strings.Repeat(" ", col) + "images:" + f.src.nl + items.String())
	return []patch{{start: at, end: at, text: b.String()}}, nil
}

func mustEnd(s *source, n *yaml.Node) int {
	end, err := s.scalarEnd(n)
	if err != nil {
		return s.start(n) + len(n.Value)
	}
	return end
}

// spacedKeys reports whether the file puts a blank line before its last
// top-level key, as the seed overlays do between sections.
func (f *kfile) spacedKeys() bool {
	if f.root == nil || len(f.root.Content) < 4 {
		return false
	}
	start := f.src.lineStart(f.src.start(f.root.Content[len(f.root.Content)-2]))
	if start == 0 {
		return false
	}
	prev := f.src.lineStart(start - 1)
	return strings.TrimSpace(string(f.src.b[prev:start])) == ""
}

// docEnd returns the offset where the first document ends: a later
// "---" or "..." line, or the end of the file.
func (f *kfile) docEnd() int {
	first := 0
	if f.root != nil {
		first = f.root.Line
	}
	for i := first; i < len(f.src.lines); i++ {
		line := string(f.src.b[f.src.lines[i]:f.src.nextLine(f.src.lines[i])])
		line = strings.TrimRight(line, "\r\n")
		if line == "---" || line == "..." || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "... ") {
			return f.src.lines[i]
		}
	}
	return len(f.src.b)
}

// wrap names the file in an error from the source helpers.
func (f *kfile) wrap(err error) error {
	if e := (*InputError)(nil); errors.As(err, &e) {
		return badInput(e.hint, "%s: %s", f.path, e.msg)
	}
	return fmt.Errorf("editing %q: %w", f.path, err)
}

// apply splices the patches into b.
func apply(b []byte, patches []patch) ([]byte, error) {
	sort.SliceStable(patches, func(i, j int) bool {
		pi, pj := patches[i], patches[j]
		if pi.start != pj.start {
			return pi.start < pj.start
		}
		if (pi.start == pi.end) != (pj.start == pj.end) {
			return pi.start == pi.end
		}
		return pi.order < pj.order
	})
	out := make([]byte, 0, len(b)+64)
	prev := 0
	for _, p := range patches {
		if p.start < prev || p.end < p.start || p.end > len(b) {
			return nil, fmt.Errorf("overlapping edits at offset %d", p.start)
		}
		out = append(out, b[prev:p.start]...)
		out = append(out, p.text...)
		prev = p.end
	}
	return append(out, b[prev:]...), nil
}
