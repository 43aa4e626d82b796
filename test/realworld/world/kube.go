package world

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// startEtcd starts Debian's etcd on two free loopback ports.
func (w *World) startEtcd(ctx context.Context) error {
	ports, err := procs.FreePorts(2)
	if err != nil {
		return err
	}
	client, peer := "http://"+procs.Addr(ports[0]), "http://"+procs.Addr(ports[1])
	p, err := w.StartProcess("etcd", "etcd", []string{
		"--name=default", "--data-dir=" + filepath.Join(w.Dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=default=" + peer, "--logger=zap", "--log-level=warn",
	}, w.baseEnv())
	if err != nil {
		return fmt.Errorf("%w (etcd comes from Debian's etcd-server; test/realworld/build.sh installs it)", err)
	}
	w.EtcdURL = client
	return w.WaitUp(ctx, p, 30*time.Second, func(ctx context.Context) error {
		var h struct{ Health string }
		if err := getJSON(ctx, http.DefaultClient, client+"/health", "", &h); err != nil {
			return err
		}
		if h.Health != "true" {
			return fmt.Errorf("health %q", h.Health)
		}
		return nil
	})
}

// startAPIServer starts kube-apiserver with token auth (one system:masters token), RBAC, a
// self-signed certificate and a service-account key pair, then writes the kubeconfig.
func (w *World) startAPIServer(ctx context.Context) error {
	ports, err := procs.FreePorts(1)
	if err != nil {
		return err
	}
	port := ports[0]
	dir := filepath.Join(w.Dir, "kube")
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return fmt.Errorf("preparing kube-apiserver: %w", err)
	}
	w.KubeToken = randomHex(16)
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(w.KubeToken+",admin,admin,system:masters\n"), 0o600); err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}
	key, pub, err := writeKeyPair(dir)
	if err != nil {
		return err
	}
	p, err := w.StartProcess("kube-apiserver", "kube-apiserver", []string{
		"--etcd-servers=" + w.EtcdURL, "--etcd-prefix=/registry",
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--token-auth-file=" + tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pub, "--service-account-signing-key-file=" + key,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false", "--v=1",
	}, w.baseEnv())
	if err != nil {
		return err
	}
	w.KubeURL = "https://" + procs.Addr(port)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the apiserver's own self-signed certificate on loopback
	if err := w.WaitUp(ctx, p, 90*time.Second, func(ctx context.Context) error {
		return getJSON(ctx, hc, w.KubeURL+"/readyz", w.KubeToken, nil)
	}); err != nil {
		return err
	}
	w.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: realworld
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: realworld
  context:
    cluster: realworld
    user: admin
    namespace: %s
current-context: realworld
`, w.KubeURL, w.KubeToken, Namespace)
	if err := os.WriteFile(w.Kubeconfig, []byte(kc), 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	w.RestConfig = &rest.Config{Host: w.KubeURL, BearerToken: w.KubeToken, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	if w.Kube, err = kubernetes.NewForConfig(w.RestConfig); err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if w.Dynamic, err = dynamic.NewForConfig(w.RestConfig); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	return nil
}

// writeKeyPair writes the service-account RSA key pair; it returns the two paths.
func writeKeyPair(dir string) (string, string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", fmt.Errorf("generating the service-account key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encoding the service-account key: %w", err)
	}
	key, pub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		return "", "", fmt.Errorf("writing the service-account key: %w", err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("writing the service-account key: %w", err)
	}
	return key, pub, nil
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ApplyYAMLFile creates every object of a YAML file (documents separated by ---) through the
// dynamic client; objects that exist are left alone. CRDs are waited for until Established.
func (w *World) ApplyYAMLFile(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("applying %s: %w", path, err)
	}
	for _, doc := range splitYAML(b) {
		var obj unstructured.Unstructured
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("applying %s: %w", path, err)
		}
		if string(j) == "null" {
			continue
		}
		if err := json.Unmarshal(j, &obj.Object); err != nil {
			return fmt.Errorf("applying %s: %w", path, err)
		}
		if err := w.Create(ctx, &obj); err != nil {
			return fmt.Errorf("applying %s: %w", path, err)
		}
	}
	return nil
}

// Create creates an object of any kind the API server knows (group/version/kind from the
// object, resource by the usual plural); an existing one is left alone.
func (w *World) Create(ctx context.Context, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	gvr, namespaced := resourceFor(gvk)
	var ri dynamic.ResourceInterface = w.Dynamic.Resource(gvr)
	if namespaced {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = Namespace
		}
		ri = w.Dynamic.Resource(gvr).Namespace(ns)
	}
	_, err := ri.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("creating %s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	if gvr == crdGVR {
		return w.waitEstablished(ctx, obj.GetName())
	}
	return nil
}

func (w *World) waitEstablished(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	last := "not Established yet"
	for {
		crd, err := w.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
		} else {
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %q not Established within 30s (%s)", name, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resourceFor maps the kinds the world creates to their resources.
func resourceFor(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool) {
	plural := map[string]string{
		"CustomResourceDefinition": "customresourcedefinitions", "Namespace": "namespaces",
		"ConfigMap": "configmaps", "Secret": "secrets", "Application": "applications",
		"AppProject": "appprojects", "ApplicationSet": "applicationsets",
		"Deployment": "deployments", "Service": "services",
	}[gvk.Kind]
	if plural == "" {
		plural = lower(gvk.Kind) + "s"
	}
	namespaced := gvk.Kind != "CustomResourceDefinition" && gvk.Kind != "Namespace" && gvk.Kind != "ClusterRole" && gvk.Kind != "ClusterRoleBinding"
	return gvk.GroupVersion().WithResource(plural), namespaced
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// splitYAML splits a multi-document YAML file at lines that are exactly "---".
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '\n' {
			line := b[start:i]
			if string(trimCR(line)) == "---" {
				docs = append(docs, nil)
			} else {
				if len(docs) == 0 {
					docs = append(docs, nil)
				}
				docs[len(docs)-1] = append(docs[len(docs)-1], b[start:min(i+1, len(b))]...)
			}
			start = i + 1
		}
	}
	return docs
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// getJSON GETs url with an optional bearer token; 2xx is success (decoded into out if given).
func getJSON(ctx context.Context, hc *http.Client, url, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
