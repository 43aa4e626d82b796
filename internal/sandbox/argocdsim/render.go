package argocdsim

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// manifest is what an overlay renders to at one commit.
type manifest struct {
	resources []resourceStatus // sync status and health left empty
	hashes    []string         // of each resource's YAML, by index
	objects   []string         // each resource as JSON, by index (managed-resources)
	images    []string
	digest    string // of the rendered YAML: equal digests need no sync
}

// git runs the git CLI against a bare repository.
func git(ctx context.Context, gitDir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir=" + gitDir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// resolve turns a branch, tag or commit into a full commit SHA.
func resolve(ctx context.Context, gitDir, rev string) (string, error) {
	out, err := git(ctx, gitDir, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("unable to resolve %q to a commit SHA", rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// render builds the kustomize overlay at dir in the tree of commit rev.
func render(ctx context.Context, gitDir, rev, dir string) (*manifest, error) {
	tarball, err := git(ctx, gitDir, "archive", "--format=tar", rev)
	if err != nil {
		return nil, err
	}
	fsys := filesys.MakeFsInMemory()
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the tree of %s: %w", rev, err)
		}
		name := "/" + strings.TrimPrefix(path.Clean(h.Name), "/")
		switch h.Typeflag {
		case tar.TypeDir:
			if err := fsys.MkdirAll(name); err != nil {
				return nil, fmt.Errorf("creating %s: %w", name, err)
			}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("reading %s at %s: %w", name, rev, err)
			}
			if err := fsys.MkdirAll(path.Dir(name)); err != nil {
				return nil, fmt.Errorf("creating %s: %w", path.Dir(name), err)
			}
			if err := fsys.WriteFile(name, data); err != nil {
				return nil, fmt.Errorf("writing %s: %w", name, err)
			}
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(fsys, "/"+strings.Trim(dir, "/"))
	if err != nil {
		return nil, fmt.Errorf("`kustomize build` failed exit status 1: %w", err)
	}
	yml, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", dir, err)
	}
	sum := sha256.Sum256(yml)
	m := &manifest{digest: hex.EncodeToString(sum[:])}
	for _, r := range rm.Resources() {
		gvk := r.GetGvk()
		m.resources = append(m.resources, resourceStatus{
			Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
			Namespace: r.GetNamespace(), Name: r.GetName(),
		})
		ry, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", gvk.Kind, r.GetName(), err)
		}
		rsum := sha256.Sum256(ry)
		m.hashes = append(m.hashes, hex.EncodeToString(rsum[:]))
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", gvk.Kind, r.GetName(), err)
		}
		collectImages(obj, &m.images)
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", gvk.Kind, r.GetName(), err)
		}
		m.objects = append(m.objects, string(js))
	}
	slices.Sort(m.images)
	m.images = slices.Compact(m.images)
	return m, nil
}

// collectImages finds containers[].image and initContainers[].image at any
// depth (Deployment, StatefulSet, CronJob, Pod, ...).
func collectImages(v any, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == "containers" || k == "initContainers" || k == "ephemeralContainers" {
				if list, ok := child.([]any); ok {
					for _, c := range list {
						if cm, ok := c.(map[string]any); ok {
							if img, ok := cm["image"].(string); ok && img != "" {
								*out = append(*out, img)
							}
						}
					}
				}
				continue
			}
			collectImages(child, out)
		}
	case []any:
		for _, child := range t {
			collectImages(child, out)
		}
	}
}

// hasHealth reports whether Argo CD assesses the health of a kind, and
// whether that health waits for a rollout.
func hasHealth(kind string) (assessed, rollout bool) {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "Rollout":
		return true, true
	case "Service", "Ingress", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "CronJob":
		return true, false
	}
	return false, false
}
