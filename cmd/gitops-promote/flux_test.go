package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/gitops-promote/gitops-promote/internal/flux"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

const fluxRev = "39759113c28218532e32329c97542d56cd361456"

// TestFluxWaitRefusesAKubeconfigItCannotUse: exit 2, one line naming the
// input, before any wait.
func TestFluxWaitRefusesAKubeconfigItCannotUse(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"wait", "--flux-kustomizations", "demo", "--kubeconfig", "/nonexistent/kubeconfig", "--revision", fluxRev}, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.HasPrefix(stderr.String(), `error: kubeconfig: got "/nonexistent/kubeconfig", want the path of a kubeconfig file or its content`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestFluxWaitNeverPrintsKubeconfigCredentials: a kubeconfig given as
// content whose API cannot be reached fails with exit 1, and its token is
// nowhere in the output.
func TestFluxWaitNeverPrintsKubeconfigCredentials(t *testing.T) {
	t.Parallel()
	const token = "kc-s3cret-7f3a9"
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: " + token + "\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"wait", "--flux-kustomizations", "demo", "--kubeconfig", kc, "--revision", fluxRev, "--timeout", "2s"}, &stdout, &stderr, func(string) string { return "" })
	out := stdout.String() + stderr.String()
	if code != 1 || !strings.Contains(out, "timed out waiting for Flux Kustomization flux-system/demo") || !strings.Contains(out, "last error: reading Kustomization flux-system/demo") {
		t.Errorf("exit %d, output %q; want exit 1 naming the Kustomization it could not read", code, out)
	}
	if strings.Contains(out, token) {
		t.Errorf("the kubeconfig's token is in the output: %q", out)
	}
}

// TestFluxConfirmerReportsEachKustomization: the confirmer waits through
// the flux package and reports one row per Kustomization for the table.
func TestFluxConfirmerReportsEachKustomization(t *testing.T) {
	t.Parallel()
	ks := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "demo", "namespace": "flux-system"},
		"spec":     map[string]any{"sourceRef": map[string]any{"kind": "GitRepository", "name": "config"}},
		"status": map[string]any{
			"lastAppliedRevision": "main@sha1:" + fluxRev, "lastAttemptedRevision": "main@sha1:" + fluxRev,
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "Applied revision: main@sha1:" + fluxRev}},
		},
	}}
	git := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "config", "namespace": "flux-system"},
		"status": map[string]any{
			"artifact":   map[string]any{"revision": "main@sha1:" + fluxRev},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Succeeded"}},
		},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		flux.KustomizationResource: "KustomizationList", flux.GitRepositoryResource: "GitRepositoryList",
	}, ks, git)
	c, err := flux.New(flux.WithDynamic(dyn))
	if err != nil {
		t.Fatal(err)
	}
	f := &fluxConfirmer{c: c, refs: []flux.Ref{{Namespace: "flux-system", Name: "demo"}}}
	got, err := f.Confirm(context.Background(), promote.ConfirmSpec{Revision: fluxRev, Branch: "main"})
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	want := []promote.AppStatus{{App: "flux-system/demo", Result: "deployed", Sync: "Ready=True", Health: "ReconciliationSucceeded", Revision: fluxRev}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(promote.AppStatus{}, "Elapsed")); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if f.Name() != "Flux" {
		t.Errorf("Name() = %q", f.Name())
	}
}
