package kustomize

import (
	"bytes"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/filters/imagetag"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// imageFieldSpecs are the field specs of kustomize's images transformer
// (api/internal/konfig/builtinpluginconsts/images.go, kustomize api
// v0.21.2), used with its LegacyFilter as its ImageTagTransformer does.
// The render tests compare the result with real builds.
const imageFieldSpecs = `
- path: spec/containers[]/image
  create: true
- path: spec/initContainers[]/image
  create: true
- path: spec/volumes[]/image/reference
  create: true
- path: spec/template/spec/containers[]/image
  create: true
- path: spec/template/spec/initContainers[]/image
  create: true
- path: spec/template/spec/volumes[]/image/reference
  create: true
- path: spec/jobTemplate/spec/template/spec/volumes[]/image/reference
  create: true
`

var imageSpecs = sync.OnceValues(func() (types.FsSlice, error) {
	var fs types.FsSlice
	err := sigsyaml.Unmarshal([]byte(imageFieldSpecs), &fs)
	return fs, err
})

// fastBefore computes the "before" output of overlay dir from its "after"
// build m, without building again, where that is exactly what a build
// would give; ok is false elsewhere (the caller builds).
//
// Exact when: the only edited file the after build read is dir's own
// kustomization; before and after it differ only in images entries; each
// changed entry has the same name on both sides, no newName (or newName
// = name) on either, and its old entry sets newTag or digest; no entry
// renames to a changed name; and nothing runs after the images
// transformer that could read an image (the overlay's replacements,
// transformers, validators, helm charts, openapi, build metadata), nor
// could change which fields it touches or what a var resolves to (vars,
// configurations or crds in any kustomization the build read). Then the
// overlay's images transformer touches the same fields in both builds
// (those named after the entry; their names are the same after it), and
// an entry that sets the tag or the digest replaces both, so applying the
// old entries to the after output gives the before output.
func (v *Validator) fastBefore(kfs *overlayFS, before *beforeFS, dir string, m resmap.ResMap) (resmap.ResMap, bool) {
	b := v.lookup(dir)
	if b == nil || b.err != nil {
		return nil, false
	}
	kpath := ""
	for _, in := range b.inputs {
		if _, edited := before.before[in.path]; !edited {
			continue
		}
		if path.Dir(in.path) != dir || !slices.Contains(fileNames, path.Base(in.path)) || (kpath != "" && kpath != in.path) {
			return nil, false
		}
		kpath = in.path
	}
	if kpath == "" || before.before[kpath] == nil {
		return nil, false
	}
	for _, in := range b.inputs {
		if !in.read || in.failed || !slices.Contains(fileNames, path.Base(in.path)) {
			continue
		}
		if !before.plainKustomization(kfs, in.path) {
			return nil, false
		}
	}
	var old, now types.Kustomization
	if old.Unmarshal(before.before[kpath]) != nil || now.Unmarshal(kfs.files[kpath]) != nil {
		return nil, false
	}
	if len(now.Replacements) > 0 || len(now.Transformers) > 0 || len(now.Validators) > 0 || len(now.HelmCharts) > 0 ||
		len(now.OpenAPI) > 0 || len(now.BuildMetadata) > 0 {
		return nil, false
	}
	oldImages, newImages := old.Images, now.Images
	old.Images, now.Images = nil, nil
	if !reflect.DeepEqual(old, now) {
		return nil, false
	}
	changed, ok := changedEntries(oldImages, newImages)
	if !ok {
		return nil, false
	}
	fs, err := imageSpecs()
	if err != nil {
		return nil, false
	}
	// Only objects holding a value that starts with a changed name can be
	// changed by the filters (they touch values that match the name); the
	// others are shared with the after output.
	out := resmap.New()
	for _, r := range m.Resources() {
		if mentions(r.YNode(), changed) {
			r = r.DeepCopy()
			for _, e := range changed {
				if r.ApplyFilter(imagetag.LegacyFilter{ImageTag: e}) != nil || r.ApplyFilter(imagetag.Filter{ImageTag: e, FsSlice: fs}) != nil {
					return nil, false
				}
			}
		}
		if out.Append(r) != nil {
			return nil, false
		}
	}
	return out, true
}

// mentions reports whether a scalar under n is an image reference that
// may match one of the entries' names (the name, then ":" or "@", or the
// name alone): a superset of what kustomize's image filters change.
func mentions(n *yaml.Node, entries []types.Image) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		for _, e := range entries {
			if v, ok := strings.CutPrefix(n.Value, e.Name); ok && (v == "" || v[0] == ':' || v[0] == '@') {
				return true
			}
		}
		return false
	}
	for _, c := range n.Content {
		if mentions(c, entries) {
			return true
		}
	}
	return n.Kind == yaml.AliasNode && mentions(n.Alias, entries)
}

// plainKustomization reports whether the kustomization file p declares
// nothing that acts after the images transformer or changes what it
// touches: no vars, configurations or crds (by a conservative look for
// the words). The answer is remembered for the RenderDiff call.
func (b *beforeFS) plainKustomization(kfs *overlayFS, p string) bool {
	if v, ok := b.plain.Load(p); ok {
		return v.(bool)
	}
	data, err := kfs.ReadFile(path.Join("/", p))
	ok := err == nil
	for _, field := range []string{"vars", "configurations", "crds"} {
		ok = ok && !bytes.Contains(data, []byte(field))
	}
	b.plain.Store(p, ok)
	return ok
}

// changedEntries returns the old entries of the images that changed
// between old and now, when undoing them on the after output is exact.
func changedEntries(old, now []types.Image) ([]types.Image, bool) {
	byName := func(list []types.Image) (map[string]types.Image, bool) {
		m := map[string]types.Image{}
		for _, e := range list {
			if _, dup := m[e.Name]; dup {
				return nil, false
			}
			m[e.Name] = e
		}
		return m, true
	}
	o, ok1 := byName(old)
	n, ok2 := byName(now)
	if !ok1 || !ok2 || len(o) != len(n) {
		return nil, false
	}
	var changed []types.Image
	names := map[string]bool{}
	for _, e := range old {
		ne, ok := n[e.Name]
		if !ok {
			return nil, false
		}
		if ne == e {
			continue
		}
		if (e.NewName != "" && e.NewName != e.Name) || (ne.NewName != "" && ne.NewName != ne.Name) ||
			(e.NewTag == "" && e.Digest == "") || e.TagSuffix != "" || ne.TagSuffix != "" {
			return nil, false
		}
		changed = append(changed, e)
		names[e.Name] = true
	}
	for _, list := range [][]types.Image{old, now} {
		for _, e := range list {
			if e.NewName != "" && e.NewName != e.Name && names[e.NewName] {
				return nil, false
			}
		}
	}
	return changed, true
}
