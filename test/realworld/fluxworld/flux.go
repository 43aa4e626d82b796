package fluxworld

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// The Flux builds of test/realworld/build.sh --flux; the CRDs come from the same modules.
var fluxModules = map[string]string{
	"github.com/fluxcd/source-controller":    "v1.9.3",
	"github.com/fluxcd/kustomize-controller": "v1.9.6",
}

// KubeAPIServerVersion is the kube-apiserver build of test/realworld/build.sh.
const KubeAPIServerVersion = "v1.34.2"

var (
	crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	// KustomizationResource and GitRepositoryResource are the Flux objects.
	KustomizationResource = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	GitRepositoryResource = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
)

// binaries finds kube-apiserver (in $GITOPS_PROMOTE_REALWORLD_BIN, or the cache folder of
// build.sh) and the Flux controllers this world runs (the cache folders of build.sh --flux;
// notification-controller only with notify), each only when its build stamp is there.
func binaries(notify bool) (map[string]string, error) {
	cache := os.Getenv("GITOPS_PROMOTE_REALWORLD_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "gitops-promote", "realworld")
	}
	out := map[string]string{}
	want := map[string]string{
		"kube-apiserver":       KubeAPIServerVersion,
		"source-controller":    fluxModules["github.com/fluxcd/source-controller"],
		"kustomize-controller": fluxModules["github.com/fluxcd/kustomize-controller"],
	}
	if notify {
		want["notification-controller"] = NotificationControllerVersion
	}
	for name, version := range want {
		dir := filepath.Join(cache, name+"-"+version+"-"+runtime.Version())
		bin := filepath.Join(dir, name)
		if d := os.Getenv("GITOPS_PROMOTE_REALWORLD_BIN"); d != "" && name == "kube-apiserver" {
			out[name] = filepath.Join(d, name)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, ".stamp")); err != nil {
			script := "test/realworld/build.sh --flux"
			if name == "kube-apiserver" {
				script = "test/realworld/build.sh"
			}
			return nil, fmt.Errorf("no %s %s built in %s: run %s (cached after the first build)", name, version, dir, script)
		}
		out[name] = bin
	}
	return out, nil
}

// moduleDir is the module cache folder of a Flux controller (downloaded by the build).
func moduleDir(ctx context.Context, module, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding %s (go mod download): %w", module, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("finding %s: go mod download said %s", module, strings.TrimSpace(string(out)))
	}
	return m.Dir, nil
}

// installFlux applies every CRD of the controllers it runs (the controllers watch them all)
// and creates the namespaces.
func (w *World) installFlux(ctx context.Context) error {
	modules := map[string]string{}
	for m, v := range fluxModules {
		modules[m] = v
	}
	if w.opts.notify != nil {
		modules[notificationModule] = NotificationControllerVersion
	}
	for module, version := range modules {
		dir, err := moduleDir(ctx, module, version)
		if err != nil {
			return err
		}
		files, _ := filepath.Glob(filepath.Join(dir, "config", "crd", "bases", "*.yaml"))
		if len(files) == 0 {
			return fmt.Errorf("no CRDs in %s/config/crd/bases", dir)
		}
		for _, f := range files {
			if err := w.applyCRD(ctx, f); err != nil {
				return err
			}
		}
	}
	for _, ns := range []string{FluxNamespace, "demo"} {
		_, err := w.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	return nil
}

func (w *World) applyCRD(ctx context.Context, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	u := &unstructured.Unstructured{Object: obj}
	if _, err := w.Dynamic.Resource(crdResource).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the CRD of %s: %w", path, err)
	}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		got, err := w.Dynamic.Resource(crdResource).Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return nil
			}
		}
	}
	return fmt.Errorf("CRD %s not Established within 30s", u.GetName())
}

// startFlux starts source-controller and kustomize-controller as local processes, after
// notification-controller (their --events-addr) when the world has it.
func (w *World) startFlux(ctx context.Context, bins map[string]string) error {
	ports, err := procs.FreePorts(5)
	if err != nil {
		return err
	}
	env := append(w.env(), "KUBECONFIG="+w.Kubeconfig, "RUNTIME_NAMESPACE="+FluxNamespace)
	var events []string
	if w.opts.notify != nil {
		url, err := w.startNotifications(ctx, bins["notification-controller"], env)
		if err != nil {
			return err
		}
		events = []string{"--events-addr=" + url}
	}
	storage := procs.Addr(ports[0])
	if err := os.MkdirAll(filepath.Join(w.Dir, "storage"), 0o700); err != nil { // source-controller wants it there
		return fmt.Errorf("making source-controller's storage: %w", err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		health int
	}{
		{"source-controller", []string{
			"--storage-path=" + filepath.Join(w.Dir, "storage"), "--storage-addr=" + storage, "--storage-adv-addr=" + storage,
			"--metrics-addr=" + procs.Addr(ports[1]), "--health-addr=" + procs.Addr(ports[2]), "--log-level=info",
		}, ports[2]},
		{"kustomize-controller", []string{
			"--metrics-addr=" + procs.Addr(ports[3]), "--health-addr=" + procs.Addr(ports[4]), "--log-level=info",
		}, ports[4]},
	} {
		p, err := w.group.Start(c.name, bins[c.name], append(c.args, events...), env)
		if err != nil {
			return err
		}
		url := "http://" + procs.Addr(c.health) + "/readyz"
		if err := w.group.WaitUp(ctx, p, 60*time.Second, func(ctx context.Context) error { return get(ctx, http.DefaultClient, url, "") }); err != nil {
			return err
		}
	}
	return nil
}

// CreateSource creates the GitRepository of the config repository. interval is Flux's own
// poll period: long, so that only reconcile requests (and creation) make it fetch.
func (w *World) CreateSource(ctx context.Context, interval string) error {
	g := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": Source, "namespace": FluxNamespace},
		"spec":     map[string]any{"interval": interval, "url": w.RepoURL, "ref": map[string]any{"branch": Branch}, "timeout": "60s"},
	}}
	_, err := w.Dynamic.Resource(GitRepositoryResource).Namespace(FluxNamespace).Create(ctx, g, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the GitRepository: %w", err)
	}
	return nil
}

// CreateKustomization creates a Kustomization of path (prune, wait, timeout 1m) into
// namespace demo, from the world's GitRepository.
func (w *World) CreateKustomization(ctx context.Context, name, path string) error {
	k := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": name, "namespace": FluxNamespace},
		"spec": map[string]any{
			"interval": "10m", "retryInterval": "30s", "timeout": "1m", "path": path, "prune": true, "wait": true,
			"targetNamespace": "demo", "sourceRef": map[string]any{"kind": "GitRepository", "name": Source},
		},
	}}
	_, err := w.Dynamic.Resource(KustomizationResource).Namespace(FluxNamespace).Create(ctx, k, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating Kustomization %s: %w", name, err)
	}
	return nil
}

// Kustomization reads a Kustomization.
func (w *World) Kustomization(ctx context.Context, name string) (*unstructured.Unstructured, error) {
	return w.Dynamic.Resource(KustomizationResource).Namespace(FluxNamespace).Get(ctx, name, metav1.GetOptions{})
}

// Patch merge-patches a Flux object.
func (w *World) Patch(ctx context.Context, gvr schema.GroupVersionResource, name string, patch map[string]any) error {
	b, _ := json.Marshal(patch)
	_, err := w.Dynamic.Resource(gvr).Namespace(FluxNamespace).Patch(ctx, name, "application/merge-patch+json", b, metav1.PatchOptions{})
	return err
}

// writeKeyPair writes the service-account RSA key pair; it returns the two paths.
func writeKeyPair(dir string) (string, string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	keyPath, pubPath := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return "", "", err
	}
	return keyPath, pubPath, nil
}
