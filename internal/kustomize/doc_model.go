package kustomize

import (
	"bytes"
	"errors"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Field names of an images: entry (types.Image).
const (
	keyName    = "name"
	keyNewName = "newName"
	keyNewTag  = "newTag"
	keyDigest  = "digest"
)

// kfile is one parsed kustomization file.
type kfile struct {
	path   string
	src    *source
	root   *yaml.Node // the top mapping; nil for an empty document
	null   *yaml.Node // the top scalar of a document that is ~ or null
	key    *yaml.Node // the images key; nil when absent
	list   *yaml.Node // the images value: a sequence, or a null scalar
	items  []*item
	byName map[string][]*item
	plain  plainOK // quoting decisions for the values written
}

// item is one entry of images:.
type item struct {
	node  *yaml.Node
	name  string
	pairs map[string]int // field name -> index of its key in node.Content
}

func (it *item) value(field string) string {
	if i, ok := it.pairs[field]; ok {
		return it.node.Content[i+1].Value
	}
	return ""
}

func (it *item) state() state {
	return state{NewName: it.value(keyNewName), Tag: it.value(keyNewTag), Digest: it.value(keyDigest)}
}

// parseFile parses the first document of a kustomization file.
func parseFile(p string, data []byte) (*kfile, error) {
	f := &kfile{path: p, src: newSource(data), byName: map[string][]*item{}}
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) {
		return f, nil
	}
	if err != nil {
		return nil, badInput("fix the YAML; `kustomize build` will show the same problem",
			"%q is not valid YAML: %v", p, err)
	}
	if err := checkPlain(p, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		f.null = root
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, badInput("", "%q is not a kustomization: the document is not a mapping", p)
	}
	f.root = root
	if err := checkKeys(p, root); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "images" {
			f.key, f.list = root.Content[i], root.Content[i+1]
		}
	}
	if f.list == nil {
		return f, nil
	}
	switch {
	case f.list.Kind == yaml.ScalarNode && f.list.Tag == "!!null":
		return f, nil
	case f.list.Kind != yaml.SequenceNode:
		return nil, badInput("", "%q: images at line %d is not a list", p, f.list.Line)
	}
	for _, n := range f.list.Content {
		it, err := parseItem(p, n)
		if err != nil {
			return nil, err
		}
		f.items = append(f.items, it)
		if it.name != "" {
			f.byName[it.name] = append(f.byName[it.name], it)
		}
	}
	return f, nil
}

func parseItem(p string, n *yaml.Node) (*item, error) {
	if n.Kind != yaml.MappingNode {
		return nil, badInput("each images: entry is a mapping with name, newName, newTag, digest",
			"%q: images entry at line %d is not a mapping", p, n.Line)
	}
	if err := checkKeys(p, n); err != nil {
		return nil, err
	}
	it := &item{node: n, pairs: map[string]int{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case keyName, keyNewName, keyNewTag, keyDigest:
		default:
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return nil, badInput("", "%q: %s at line %d is not a plain value", p, k.Value, v.Line)
		}
		it.pairs[k.Value] = i
	}
	it.name = it.value(keyName)
	return it, nil
}

// styleHints is the file's own list layout, for new lines.
type styleHints struct {
	listIndent int // columns from a key to the '-' of its block list
	gap        int // columns from '-' to the first key of its mapping
}

// hints looks at the block lists of the document to learn its style;
// kustomize's own (0 and 2) where the file has none.
func (f *kfile) hints() styleHints {
	h := styleHints{listIndent: -1, gap: -1}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && h.listIndent < 0 && v.Line > k.Line {
					h.listIndent = v.Column - k.Column
				}
			}
		}
		if n.Kind == yaml.SequenceNode && n.Style&yaml.FlowStyle == 0 && h.gap < 0 && len(n.Content) > 0 {
			if c := n.Content[0]; c.Kind == yaml.MappingNode && c.Style&yaml.FlowStyle == 0 && c.Line == n.Line {
				h.gap = c.Column - n.Column
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	if f.root != nil {
		walk(f.root)
	}
	if h.listIndent < 0 {
		h.listIndent = 0
	}
	if h.gap < 1 {
		h.gap = 2
	}
	return h
}

// checkKeys refuses a mapping that repeats a key, as YAML does (the node
// decoder does not check it).
func checkKeys(p string, m *yaml.Node) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if line, ok := seen[k.Value]; ok && k.Kind == yaml.ScalarNode {
			return badInput("keep one of them", "%q is not valid YAML: key %q at line %d repeats line %d", p, k.Value, k.Line, line)
		}
		seen[k.Value] = k.Line
	}
	return nil
}
