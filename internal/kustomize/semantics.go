package kustomize

import (
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/image"
)

// state is what an images: entry sets for one name.
type state struct{ NewName, Tag, Digest string }

// ref renders the image the entry makes: newName (or name), tag, digest.
func (s state) ref(name string) string {
	var b strings.Builder
	if s.NewName != "" {
		b.WriteString(s.NewName)
	} else {
		b.WriteString(name)
	}
	if s.Tag != "" {
		b.WriteString(":" + s.Tag)
	}
	if s.Digest != "" {
		b.WriteString("@" + s.Digest)
	}
	return b.String()
}

type opKind int

const (
	opKeep opKind = iota
	opSet
	opRemove
)

// op is what to do to one field of an entry.
type op struct {
	kind  opKind
	value string
}

func (o op) apply(old string) string {
	switch o.kind {
	case opSet:
		return o.value
	case opRemove:
		return ""
	}
	return old
}

// target is the wanted change for one image name.
type target struct {
	name                 string
	newName, tag, digest op
}

func (t target) apply(old state) state {
	return state{NewName: t.newName.apply(old.NewName), Tag: t.tag.apply(old.Tag), Digest: t.digest.apply(old.Digest)}
}

// fromRef turns an argument into a target with gitops-promote's rules: a
// part not given keeps the stored newName; a tag alone drops the stored
// digest and a digest alone drops the stored tag; Keep keeps the stored
// value (nothing, for a new entry, as kustomize does).
func fromRef(r image.Ref) target {
	t := target{name: r.Name, newName: given(r.NewName)}
	if r.Tag == "" && r.Digest == "" {
		return t
	}
	t.tag, t.digest = given(r.Tag), given(r.Digest)
	if r.Tag == "" {
		t.tag = op{kind: opRemove}
	}
	if r.Digest == "" {
		t.digest = op{kind: opRemove}
	}
	return t
}

func given(v string) op {
	if v == "" || v == image.Keep {
		return op{}
	}
	return op{kind: opSet, value: v}
}

// fromEntry makes a target that copies an entry exactly (promote-from).
func fromEntry(name string, s state) target {
	exact := func(v string) op {
		if v == "" {
			return op{kind: opRemove}
		}
		return op{kind: opSet, value: v}
	}
	return target{name: name, newName: exact(s.NewName), tag: exact(s.Tag), digest: exact(s.Digest)}
}
