package world

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// ArgoCDModule and ArgoCDVersion are the Argo CD build test/realworld/build.sh makes; the CRDs
// come from the same module.
const (
	ArgoCDModule  = "github.com/argoproj/argo-cd/v3"
	ArgoCDVersion = "v3.2.11"
)

// argocdModuleDir is the module cache folder of Argo CD (downloaded by the build).
func argocdModuleDir(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", ArgoCDModule+"@"+ArgoCDVersion)
	cmd.Dir = dir // outside our module: the download must not touch its go.mod
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding Argo CD's module (go mod download %s@%s): %w", ArgoCDModule, ArgoCDVersion, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("finding Argo CD's module: go mod download said %s", strings.TrimSpace(string(out)))
	}
	return m.Dir, nil
}

// configureArgoCD applies Argo CD's CRDs from its own manifests, the namespace, its config
// maps and secret (admin password, an apiKey account "ci"), the default project and the
// credentials of the config repository.
func (w *World) configureArgoCD(ctx context.Context) error {
	dir, err := argocdModuleDir(ctx, w.Dir)
	if err != nil {
		return err
	}
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml", "applicationset-crd.yaml"} {
		if err := w.ApplyYAMLFile(ctx, filepath.Join(dir, "manifests", "crds", f)); err != nil {
			return err
		}
	}
	if err := w.EnsureNamespace(ctx, Namespace); err != nil {
		return err
	}
	part := map[string]string{"app.kubernetes.io/part-of": "argocd"}
	cms := map[string]map[string]string{
		"argocd-cm": {
			"accounts.ci":            "apiKey, login",
			"timeout.reconciliation": "180s",
		},
		"argocd-rbac-cm":            {"policy.csv": "g, ci, role:admin\n", "policy.default": ""},
		"argocd-cmd-params-cm":      {},
		"argocd-ssh-known-hosts-cm": {},
		"argocd-tls-certs-cm":       {},
		"argocd-gpg-keys-cm":        {},
	}
	for name, data := range cms {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: part}, Data: data}
		for k, v := range w.opts.argocdCM {
			if name == "argocd-cm" {
				cm.Data[k] = v
			}
		}
		if _, err := w.Kube.CoreV1().ConfigMaps(Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating config map %s: %w", name, err)
		}
	}
	w.AdminPassword = "admin-" + randomHex(8)
	hash, err := bcrypt.GenerateFromPassword([]byte(w.AdminPassword), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hashing the admin password: %w", err)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret", Namespace: Namespace, Labels: part},
		StringData: map[string]string{
			"admin.password":      string(hash),
			"admin.passwordMtime": time.Now().UTC().Format(time.RFC3339),
			"server.secretkey":    base64.StdEncoding.EncodeToString([]byte(randomHex(32))),
		},
	}
	if _, err := w.Kube.CoreV1().Secrets(Namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating argocd-secret: %w", err)
	}
	repo := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "repo-config", Namespace: Namespace,
			Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"type": "git", "url": w.RepoURL, "username": "x-access-token", "password": w.GitToken},
	}
	if _, err := w.Kube.CoreV1().Secrets(Namespace).Create(ctx, repo, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the repository secret: %w", err)
	}
	proj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": "default", "namespace": Namespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
	return w.Create(ctx, proj)
}

// EnsureNamespace creates a namespace unless it exists.
func (w *World) EnsureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := w.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// argocdEnv is the environment of an Argo CD component: the kubeconfig, fake in-cluster, and
// its own TMPDIR and askpass socket so that two worlds can share a machine.
func (w *World) argocdEnv(component string) ([]string, error) {
	tmp := filepath.Join(w.Dir, "tmp", component)
	for _, d := range []string{tmp, filepath.Join(w.Dir, "argocd", "tls"), filepath.Join(w.Dir, "argocd", "ssh"), filepath.Join(w.Dir, "argocd", "gpg")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", component, err)
		}
	}
	return append(w.baseEnv(),
		"KUBECONFIG="+w.Kubeconfig,
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"TMPDIR="+tmp,
		"ARGOCD_ASK_PASS_SOCK="+filepath.Join(w.Dir, "tmp", component+".sock"),
		"ARGOCD_TLS_DATA_PATH="+filepath.Join(w.Dir, "argocd", "tls"),
		"ARGOCD_SSH_DATA_PATH="+filepath.Join(w.Dir, "argocd", "ssh"),
		"ARGOCD_GNUPGHOME="+filepath.Join(w.Dir, "argocd", "gpg"),
		"ARGOCD_GPG_ENABLED=false",
		"HOSTNAME=argocd-application-controller-0",
	), nil
}

// startArgoCD starts redis, the repo-server, the application controller and the API server.
func (w *World) startArgoCD(ctx context.Context) error {
	ports, err := procs.FreePorts(7)
	if err != nil {
		return err
	}
	redisPort, repoPort, repoMetrics, ctrlMetrics, apiPort, apiMetrics := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	p, err := w.StartProcess("redis", "redis-server", []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(redisPort), "--save", "", "--appendonly", "no",
		"--dir", w.Dir, "--protected-mode", "yes",
	}, w.baseEnv())
	if err != nil {
		return fmt.Errorf("%w (redis comes from Debian's redis-server; test/realworld/build.sh installs it)", err)
	}
	if err := w.WaitUp(ctx, p, 20*time.Second, redisReady(redisPort)); err != nil {
		return err
	}
	redis := procs.Addr(redisPort)

	env, err := w.argocdEnv("repo-server")
	if err != nil {
		return err
	}
	repo, err := w.StartProcess("argocd-repo-server", "argocd-repo-server", []string{
		"--address", "127.0.0.1", "--port", strconv.Itoa(repoPort), "--redis", redis,
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(repoMetrics), "--loglevel", "info",
	}, env)
	if err != nil {
		return err
	}
	if env, err = w.argocdEnv("application-controller"); err != nil {
		return err
	}
	// Its metrics port has no bind-address flag: it listens on all interfaces (a free port).
	ctrl, err := w.StartProcess("argocd-application-controller", "argocd-application-controller", []string{
		"--redis", redis, "--repo-server", procs.Addr(repoPort), "--metrics-port", strconv.Itoa(ctrlMetrics),
		"--server-side-diff-enabled=false", "--hydrator-enabled=false", "--loglevel", "info",
	}, env)
	if err != nil {
		return err
	}
	if env, err = w.argocdEnv("server"); err != nil {
		return err
	}
	api, err := w.StartProcess("argocd-server", "argocd-server", []string{
		"--insecure", "--address", "127.0.0.1", "--port", strconv.Itoa(apiPort), "--redis", redis,
		"--repo-server", procs.Addr(repoPort), "--hydrator-enabled=false", "--dex-server", "http://" + procs.Addr(ports[6]),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(apiMetrics),
		"--staticassets", filepath.Join(w.Dir, "tmp"), "--loglevel", "info",
	}, env)
	if err != nil {
		return err
	}
	if err := w.WaitUp(ctx, repo, 60*time.Second, tcpReady(repoPort)); err != nil {
		return err
	}
	if err := w.WaitUp(ctx, ctrl, 60*time.Second, func(ctx context.Context) error {
		return getJSON(ctx, http.DefaultClient, "http://"+procs.Addr(ctrlMetrics)+"/healthz", "", nil)
	}); err != nil {
		return err
	}
	w.ArgoCDURL = "http://" + procs.Addr(apiPort)
	w.ArgoCDAddr = procs.Addr(apiPort)
	if err := w.WaitUp(ctx, api, 60*time.Second, func(ctx context.Context) error {
		return getJSON(ctx, http.DefaultClient, w.ArgoCDURL+"/healthz", "", nil)
	}); err != nil {
		return err
	}
	w.procByName = map[string]*Proc{"repo-server": repo, "application-controller": ctrl, "server": api}
	w.RepoServer = procs.Addr(repoPort)
	return w.login(ctx, api)
}

// login logs in as admin (the session the API hands out) and makes the ci account's API token.
func (w *World) login(ctx context.Context, api *Proc) error {
	var sess struct{ Token string }
	// The admin secret is read by the API server from the cluster; retry briefly while it warms up.
	err := w.WaitUp(ctx, api, 30*time.Second, func(ctx context.Context) error {
		return w.argoPOST(ctx, "/api/v1/session", "", map[string]string{"username": "admin", "password": w.AdminPassword}, &sess)
	})
	if err != nil {
		return fmt.Errorf("logging in to Argo CD as admin: %w", err)
	}
	w.AdminToken = sess.Token
	var tok struct{ Token string }
	if err := w.argoPOST(ctx, "/api/v1/account/ci/token", w.AdminToken, map[string]string{"name": "ci", "id": "realworld"}, &tok); err != nil {
		return fmt.Errorf("making the API token of the ci account: %w", err)
	}
	w.ArgoCDToken = tok.Token
	return nil
}

// argoPOST posts JSON to the Argo CD API.
func (w *World) argoPOST(ctx context.Context, path, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ArgoCDURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, strings.TrimSpace(string(rb)))
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// GetApp reads an application through the Argo CD API as the ci account (refresh "" = none).
func (w *World) GetApp(ctx context.Context, name, refresh string) (map[string]any, error) {
	u := w.ArgoCDURL + "/api/v1/applications/" + name
	if refresh != "" {
		u += "?refresh=" + refresh
	}
	var app map[string]any
	if err := getJSON(ctx, http.DefaultClient, u, w.ArgoCDToken, &app); err != nil {
		return nil, err
	}
	return app, nil
}

// SyncApp asks Argo CD to sync an application to its target revision (as `argocd app sync`).
func (w *World) SyncApp(ctx context.Context, name string) error {
	if err := w.argoPOST(ctx, "/api/v1/applications/"+name+"/sync", w.ArgoCDToken, map[string]any{"name": name}, nil); err != nil {
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	return nil
}
