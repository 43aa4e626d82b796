package kustomize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// How an object of an overlay's rendered output changes (ObjectDiff.Change).
const (
	ObjectImages  = "images"  // only image fields changed: what a promotion should do
	ObjectChanged = "changed" // fields other than images changed (a base, a generator hash)
	ObjectAdded   = "added"   // the object is new
	ObjectRemoved = "removed" // the object is gone
)

// ObjectDiff is one object of an edited overlay whose rendered YAML (the
// output of kustomize build) differs between the files before the edit and
// after it. Objects are matched by group, kind, namespace and name.
type ObjectDiff struct {
	Overlay   string `json:"overlay"` // the overlay folder, relative to the root
	Object    string `json:"object"`  // "apps/Deployment shop/web": group/kind namespace/name
	Group     string `json:"-"`
	Kind      string `json:"-"`
	Namespace string `json:"-"`
	Name      string `json:"-"`
	Change    string `json:"change"` // ObjectImages, ObjectChanged, ObjectAdded or ObjectRemoved
	Before    string `json:"before"` // the object's YAML before ("" when added)
	After     string `json:"after"`  // the object's YAML after ("" when removed)
	Diff      string `json:"diff"`   // unified diff of Before and After, hunks only, 3 lines of context
}

// ImagesOnly reports whether only image fields of the object changed.
func (d ObjectDiff) ImagesOnly() bool { return d.Change == ObjectImages }

// renderState is what a Validator keeps for RenderDiff: the file system of
// its last Validate (the read-through cache) and the output of every
// overlay's last successful build.
type renderState struct {
	mu   sync.Mutex
	kfs  *overlayFS
	kept sync.Map // overlay folder -> resmap.ResMap
	// noFast makes every "before" a build (tests compare the two ways);
	// fast counts the overlays whose "before" came from fastBefore.
	noFast bool
	fast   atomic.Int64
}

// keep records the output of a successful build of dir; a failed build
// forgets it.
func (s *renderState) keep(dir string, m resmap.ResMap, err error) {
	if err != nil || m == nil {
		s.kept.Delete(dir)
		return
	}
	s.kept.Store(dir, m)
}

func (s *renderState) setFS(kfs *overlayFS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kfs = kfs
}

func (s *renderState) lastFS() *overlayFS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kfs
}

// renderedObject is one object of a build's output; its YAML is made
// only when the object differs from its counterpart.
type renderedObject struct {
	group, kind, namespace, name string
	res                          *resource.Resource
}

func (o renderedObject) key() string {
	return o.group + "\x00" + o.kind + "\x00" + o.namespace + "\x00" + o.name
}

// yaml is the object as kustomize build prints it.
func (o renderedObject) yaml() (string, error) {
	y, err := objectYAML(o.res)
	if err != nil {
		return "", fmt.Errorf("rendering %s as YAML: %w", o.res.CurId(), err)
	}
	return string(y), nil
}

// objectYAML is r.AsYAML() (what kustomize build prints: the object
// through JSON, so with its keys sorted) without its first steps: AsYAML
// prints the tree as YAML and parses that into a map, where decoding the
// tree gives the same map. The render tests check it against AsYAML.
func objectYAML(r *resource.Resource) ([]byte, error) {
	n := r.YNode()
	if n == nil || n.Kind != yaml.MappingNode {
		return r.AsYAML()
	}
	m := map[string]any{}
	if err := n.Decode(&m); err != nil {
		return r.AsYAML()
	}
	j, err := json.Marshal(m)
	if err != nil {
		return r.AsYAML()
	}
	return sigsyaml.JSONToYAML(j)
}

// objects lists a build's output.
func objects(m resmap.ResMap) []renderedObject {
	out := make([]renderedObject, 0, m.Size())
	for _, r := range m.Resources() {
		id := r.CurId()
		out = append(out, renderedObject{group: id.Group, kind: id.Kind, namespace: id.Namespace, name: id.Name, res: r})
	}
	return out
}

// sameNode reports whether two YAML trees hold the same data (kind, tag,
// value and children; not style, comments or positions). Same data is
// the same output; a false answer is checked on the YAML.
func sameNode(a, b *yaml.Node) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	if a.Kind == yaml.AliasNode {
		return sameNode(a.Alias, b.Alias)
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// RenderDiff is the rendered change of the edit: every overlay built with
// kustomize before the edits and after them, and the objects that differ.
// It is Validate (whose builds are the "after" side, so a build is not made
// twice) followed by the "before" side of each overlay: where the edit
// provably changed only what kustomize's images transformer does, that
// transformer with the old entries applied to the after output (see
// fastBefore), else a build of the files as they were over the same
// read-through cache (no file is read again). The error is Validate's; an
// overlay that does not build before the edit is left out of the diff and
// named in skipped.
func (v *Validator) RenderDiff(fsys fs.FS, edits []FileEdit, overlays []string) (diffs []ObjectDiff, skipped []error, err error) {
	if err := v.Validate(fsys, edits, overlays); err != nil {
		return nil, nil, err
	}
	ovs, err := resolveOverlays(fsys, overlays)
	if err != nil {
		return nil, nil, err
	}
	kfs := v.render.lastFS()
	if kfs == nil {
		kfs = newOverlayFS(fsys, edits)
	}
	before := &beforeFS{overlayFS: kfs, before: map[string][]byte{}}
	for _, e := range edits {
		before.before[path.Clean(e.Path)] = e.Before
	}
	per := make([][]ObjectDiff, len(ovs))
	errs := make([]error, len(ovs))
	one := func(k *krusty.Kustomizer, i int) {
		dir := ovs[i].dir
		m, err := v.afterBuild(k, kfs, dir)
		if err != nil {
			errs[i] = err
			return
		}
		after := objects(m)
		prevMap, fast := resmap.ResMap(nil), false
		if !v.render.noFast {
			prevMap, fast = v.fastBefore(kfs, before, dir, m)
		}
		if fast {
			v.render.fast.Add(1)
		} else if prevMap, err = k.Run(before, path.Join("/", dir)); err != nil {
			errs[i] = fmt.Errorf("overlay %q did not build before the edit, so its rendered change is not shown: %s", dir, oneLine(err.Error()))
			return
		}
		if per[i], err = diffObjects(dir, objects(prevMap), after); err != nil {
			errs[i] = fmt.Errorf("overlay %q: %w", dir, err)
		}
	}
	if kfs.namesSchema() {
		k := newKustomizer() // the schema is process-wide: one build at a time
		for i := range ovs {
			one(k, i)
		}
	} else {
		parallelWith(len(ovs), newKustomizer, one)
	}
	for i := range ovs {
		diffs = append(diffs, per[i]...)
		if errs[i] != nil {
			skipped = append(skipped, errs[i])
		}
	}
	return diffs, skipped, nil
}

// afterBuild returns the output of the build Validate made of dir, or
// builds it when Validate did not keep one.
func (v *Validator) afterBuild(k *krusty.Kustomizer, kfs *overlayFS, dir string) (resmap.ResMap, error) {
	if m, ok := v.render.kept.Load(dir); ok {
		return m.(resmap.ResMap), nil
	}
	m, err := k.Run(kfs, path.Join("/", dir))
	if err != nil {
		return nil, &BuildError{Overlay: dir, Err: err}
	}
	return m, nil
}

// diffObjects matches the objects of two builds of overlay dir by group,
// kind, namespace and name and returns those that differ, in that order.
func diffObjects(dir string, before, after []renderedObject) ([]ObjectDiff, error) {
	byKey := map[string][2]*renderedObject{}
	for i := range before {
		p := byKey[before[i].key()]
		p[0] = &before[i]
		byKey[before[i].key()] = p
	}
	for i := range after {
		p := byKey[after[i].key()]
		p[1] = &after[i]
		byKey[after[i].key()] = p
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []ObjectDiff
	for _, k := range keys {
		p := byKey[k]
		if p[0] != nil && p[1] != nil && sameNode(p[0].res.YNode(), p[1].res.YNode()) {
			continue
		}
		o := p[0]
		if o == nil {
			o = p[1]
		}
		d := ObjectDiff{Overlay: dir, Group: o.group, Kind: o.kind, Namespace: o.namespace, Name: o.name}
		d.Object = objectName(o.group, o.kind, o.namespace, o.name)
		var err error
		if p[0] != nil {
			if d.Before, err = p[0].yaml(); err != nil {
				return nil, err
			}
		}
		if p[1] != nil {
			if d.After, err = p[1].yaml(); err != nil {
				return nil, err
			}
		}
		switch {
		case p[0] == nil:
			d.Change = ObjectAdded
		case p[1] == nil:
			d.Change = ObjectRemoved
		case d.Before == d.After:
			continue
		case imagesOnlyNodes(p[0].res.YNode(), p[1].res.YNode()):
			d.Change = ObjectImages
		default:
			d.Change = ObjectChanged
		}
		d.Diff = unifiedDiff(d.Before, d.After, 3)
		out = append(out, d)
	}
	return out, nil
}

// objectName is "group/Kind namespace/name", without the parts that are
// empty (the core group, a cluster-scoped object).
func objectName(group, kind, namespace, name string) string {
	var b strings.Builder
	if group != "" {
		b.WriteString(group + "/")
	}
	b.WriteString(kind + " ")
	if namespace != "" {
		b.WriteString(namespace + "/")
	}
	b.WriteString(name)
	return b.String()
}

// beforeFS is an overlayFS (and its cache) with the edited files as they
// were before the edit.
type beforeFS struct {
	*overlayFS
	before map[string][]byte // slash path -> content before the edit (nil: the file is new)
	plain  sync.Map          // kustomization path -> plainKustomization's answer
}

var _ filesys.FileSystem = (*beforeFS)(nil)

// original reports whether p is an edited file, and its content before.
func (b *beforeFS) original(p string) (data []byte, edited bool) {
	r, err := b.rel(p)
	if err != nil {
		return nil, false
	}
	data, edited = b.before[r]
	return data, edited
}

// ReadFile returns the content of p before the edit.
func (b *beforeFS) ReadFile(p string) ([]byte, error) {
	if data, ok := b.original(p); ok {
		if data == nil {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return bytes.Clone(data), nil
	}
	return b.overlayFS.ReadFile(p)
}

// Open opens p through ReadFile.
func (b *beforeFS) Open(p string) (filesys.File, error) {
	data, err := b.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(p), size: int64(len(data))}}, nil
}

// Exists reports whether p existed before the edit.
func (b *beforeFS) Exists(p string) bool {
	if data, ok := b.original(p); ok {
		return data != nil
	}
	return b.overlayFS.Exists(p)
}
