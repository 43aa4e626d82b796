package kustomize

import (
	"bytes"
	"errors"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Limits of what counts as plain data in a YAML file the tool reads. A
// kustomization or a manifest written by people stays far below both.
const (
	// MaxDepth is the deepest nesting of mappings and sequences accepted
	// (a deep CRD schema stays well under it).
	MaxDepth = 128
	// MaxAliasNodes is the most nodes the aliases of a document may add
	// once expanded: the guard against alias bombs. Nodes written out do
	// not count, so a large file without aliases is fine.
	MaxAliasNodes = 100_000
)

// checkPlain refuses a parsed kustomization that is not plain data: nesting
// deeper than MaxDepth, aliases that expand beyond MaxAliasNodes, and
// anchors, aliases or merge keys (<<) anywhere in its images entries,
// where the edit could not see or change what kustomize would read.
func checkPlain(p string, doc *yaml.Node) error {
	if err := checkShape(p, doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "images" {
			continue
		}
		if n := firstNotPlain(root.Content[i+1]); n != nil {
			what := "an alias (*" + n.Value + ")"
			switch {
			case n.Kind == yaml.ScalarNode && n.Value == "<<":
				what = "a merge key (<<)"
			case n.Anchor != "":
				what = "an anchor (&" + n.Anchor + ")"
			}
			return badInput("write each images entry out in full: name, newName, newTag and digest as plain values",
				"%q: the images entry at line %d uses %s; gitops-promote edits only plain images entries", p, n.Line, what)
		}
	}
	return nil
}

// checkShape refuses nesting deeper than MaxDepth and alias expansion
// beyond MaxAliasNodes in a parsed document.
func checkShape(p string, doc *yaml.Node) error {
	if d := deeper(doc, 0); d != nil {
		return badInput("flatten the file; no kustomization or manifest needs that depth",
			"%q: nesting at line %d is deeper than %d levels", p, d.Line, MaxDepth)
	}
	if aliasNodes(doc, map[*yaml.Node]int{}, 0) > MaxAliasNodes {
		return badInput("write the values out instead of through aliases",
			"%q: its aliases expand to more than %d nodes (an alias bomb?)", p, MaxAliasNodes)
	}
	return nil
}

// aliasNodes counts the nodes the aliases under n add once expanded,
// stopping once past the limit; sizes memoizes the expanded size of
// anchored nodes.
func aliasNodes(n *yaml.Node, sizes map[*yaml.Node]int, guard int) int {
	extra := 0
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			extra += expanded(c.Alias, sizes, guard+1)
		} else {
			extra += aliasNodes(c, sizes, guard)
		}
		if extra > MaxAliasNodes {
			break
		}
	}
	return extra
}

// deeper returns a node nested deeper than MaxDepth, or nil. Aliases are
// not followed: expanded bounds them.
func deeper(n *yaml.Node, depth int) *yaml.Node {
	if depth > MaxDepth {
		return n
	}
	for _, c := range n.Content {
		if d := deeper(c, depth+1); d != nil {
			return d
		}
	}
	return nil
}

// expanded counts the nodes of n with every alias expanded, stopping once
// past the limit; sizes memoizes anchored nodes.
func expanded(n *yaml.Node, sizes map[*yaml.Node]int, guard int) int {
	if n == nil || guard > MaxDepth+1 {
		return MaxAliasNodes + 1 // an alias cycle, or nesting through aliases
	}
	if n.Kind == yaml.AliasNode {
		if s, ok := sizes[n.Alias]; ok {
			return s
		}
		s := expanded(n.Alias, sizes, guard+1)
		sizes[n.Alias] = s
		return s
	}
	total := 1
	for _, c := range n.Content {
		total += expanded(c, sizes, guard)
		if total > MaxAliasNodes {
			return total
		}
	}
	return total
}

// firstNotPlain returns the first anchor, alias or merge key under n.
func firstNotPlain(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || (n.Kind == yaml.ScalarNode && n.Tag == "!!merge") {
		return n
	}
	for _, c := range n.Content {
		if bad := firstNotPlain(c); bad != nil {
			return bad
		}
	}
	return nil
}

// CheckPlainYAML refuses YAML that is not plain data (see MaxDepth and
// MaxAliasNodes), in every document of data. p names the file in the
// message.
func CheckPlainYAML(p string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // not YAML at all: the build says so in its own words
		}
		if err := checkShape(p, &doc); err != nil {
			return err
		}
	}
}
