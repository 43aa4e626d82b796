package kustomize

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// RemoteError is a kustomization, reached from an overlay being built,
// that names a remote resource or base while validation is offline: the
// build would fetch it over the network, or run git, on content whoever
// can push to the config repository controls. It is bad input.
type RemoteError struct {
	Overlay string // the overlay being built
	File    string // the kustomization file that names it
	Field   string // resources, components, ...
	URL     string
}

// Error names the overlay, the file and the URL.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("overlay %q: %s names the remote %s %q; validation builds offline and does not fetch it",
		e.Overlay, e.File, strings.TrimSuffix(e.Field, "s"), cutMiddle(e.URL, 200))
}

// BadInput marks the error as the person's input.
func (e *RemoteError) BadInput() bool { return true }

// Hint names the two ways out.
func (e *RemoteError) Hint() string {
	return "vendor it into the config repository, or set validate-remote: true to let validation fetch it (that runs git and reaches the network)"
}

// ValidatorOption configures a Validator.
type ValidatorOption func(*Validator)

// WithRemote lets the builds fetch remote resources and remote bases
// (kustomize then runs git and reaches the network). Without it they are
// refused with a *RemoteError before anything is built.
func WithRemote() ValidatorOption { return func(v *Validator) { v.remote = true } }

// scpLike is git's user@host:path form.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._~+-]+@[A-Za-z0-9.-]+:`)

// isRemote reports whether a kustomization entry makes kustomize fetch: a
// URL (http(s) files; https, ssh, file or git:: repositories), an
// scp-like git address, or a github.com path, as kustomize's repo spec
// parser accepts them.
func isRemote(entry string) bool {
	s := strings.TrimSpace(entry)
	if strings.ContainsAny(s, "\n") {
		return false // an inline document, not a path
	}
	l := strings.ToLower(s)
	l = strings.TrimPrefix(l, "git::")
	return l != strings.ToLower(s) || strings.Contains(l, "://") || strings.HasPrefix(l, "github.com") || scpLike.MatchString(s)
}

// offlineCheck walks the kustomizations an overlay's build reaches, over
// o, and returns a *RemoteError for the first remote entry; it also
// refuses, as bad input, a kustomization or a resource file that is not
// plain data (see CheckPlainYAML). What cannot be read is left to the
// build to report.
func offlineCheck(o *overlayFS, overlay string, remote bool) error {
	seen := map[string]bool{}
	queue := []string{path.Clean(overlay)}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		file, data := readKustomization(o, dir)
		if file == "" {
			continue
		}
		if err := CheckPlainYAML(file, data); err != nil {
			return err
		}
		var k map[string]any
		if yaml.Unmarshal(data, &k) != nil {
			continue // the build reports it
		}
		for _, ref := range pathsOf(k) {
			if isRemote(ref.value) {
				if remote {
					continue
				}
				return &RemoteError{Overlay: overlay, File: file, Field: ref.field, URL: strings.TrimSpace(ref.value)}
			}
			p := path.Join(dir, ref.value)
			if strings.HasPrefix(p, "../") || p == ".." {
				continue // outside the root: the build refuses it
			}
			switch fi, _, err := o.stat(path.Join("/", p)); {
			case err != nil:
			case fi.IsDir():
				queue = append(queue, p)
			case ref.field == "resources" || ref.field == "bases" || ref.field == "components":
				if data, err := o.ReadFile(path.Join("/", p)); err == nil {
					if err := CheckPlainYAML(p, data); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// readKustomization returns the kustomization file of dir and its content,
// or "" when dir holds none.
func readKustomization(o *overlayFS, dir string) (string, []byte) {
	for _, name := range fileNames {
		p := path.Join(dir, name)
		if data, err := o.ReadFile(path.Join("/", p)); err == nil {
			return p, data
		}
	}
	return "", nil
}

// pathRef is one path-like entry of a kustomization.
type pathRef struct{ field, value string }

// pathsOf lists the entries of k that kustomize loads as files or folders:
// the lists of paths, the path of each patch and replacement, and the
// files and env files of the generators ("key=path" or "path").
func pathsOf(k map[string]any) []pathRef {
	var out []pathRef
	str := func(field string, v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, pathRef{field, s})
		}
	}
	for _, f := range []string{"resources", "bases", "components", "crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge"} {
		if list, ok := k[f].([]any); ok {
			for _, v := range list {
				str(f, v)
			}
		}
	}
	for _, f := range []string{"patches", "patchesJson6902", "replacements"} {
		if list, ok := k[f].([]any); ok {
			for _, v := range list {
				if m, ok := v.(map[string]any); ok {
					str(f, m["path"])
				}
			}
		}
	}
	if m, ok := k["openapi"].(map[string]any); ok {
		str("openapi", m["path"])
	}
	for _, f := range []string{"configMapGenerator", "secretGenerator"} {
		list, _ := k[f].([]any)
		for _, v := range list {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			str(f, m["env"])
			for _, key := range []string{"files", "envs"} {
				files, _ := m[key].([]any)
				for _, fv := range files {
					if s, ok := fv.(string); ok {
						if _, p, found := strings.Cut(s, "="); found {
							s = p
						}
						str(f, s)
					}
				}
			}
		}
	}
	return out
}

// cutMiddle shortens s to about n bytes, keeping its start and end.
func cutMiddle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head, tail := n/2, n/2
	for head > 0 && s[head]&0xC0 == 0x80 {
		head--
	}
	start := len(s) - tail
	for start < len(s) && s[start]&0xC0 == 0x80 {
		start++
	}
	return s[:head] + "..." + s[start:]
}
