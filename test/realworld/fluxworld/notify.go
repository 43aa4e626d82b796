package fluxworld

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// notificationModule is the notification-controller build of test/realworld/build.sh --flux.
const notificationModule = "github.com/fluxcd/notification-controller"

// NotificationControllerVersion is the notification-controller the world runs with
// WithNotifications.
const NotificationControllerVersion = "v1.9.3"

var (
	// ProviderResource and AlertResource are notification-controller's objects (v1beta3, the
	// version its CRDs store).
	ProviderResource = schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Resource: "providers"}
	AlertResource    = schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Resource: "alerts"}
)

// The notification objects CreateStatusAlert makes.
const (
	StatusProvider = "github"       // the Provider (type github)
	TokenSecret    = "github-token" // its secretRef, key token
)

type notifyOpts struct {
	githubURL, token string
}

// WithNotifications runs notification-controller too, with source- and kustomize-controller
// sending their events to it (--events-addr), so that a Provider of type github writes commit
// statuses to githubURL (a GitHub simulator's root: any host other than github.com is GitHub
// Enterprise to Flux, its REST API at githubURL/api/v3) with token. CreateStatusAlert makes
// the Provider and an Alert.
func WithNotifications(githubURL, token string) Option {
	return func(o *options) { o.notify = &notifyOpts{githubURL: strings.TrimRight(githubURL, "/"), token: token} }
}

// startNotifications starts notification-controller and returns its event endpoint for the
// other controllers' --events-addr.
func (w *World) startNotifications(ctx context.Context, bin string, env []string) (string, error) {
	ports, err := procs.FreePorts(4)
	if err != nil {
		return "", err
	}
	p, err := w.group.Start("notification-controller", bin, []string{
		"--events-addr=" + procs.Addr(ports[0]), "--receiverAddr=" + procs.Addr(ports[1]),
		"--metrics-addr=" + procs.Addr(ports[2]), "--health-addr=" + procs.Addr(ports[3]), "--log-level=info",
	}, env)
	if err != nil {
		return "", err
	}
	url := "http://" + procs.Addr(ports[3]) + "/readyz"
	if err := w.group.WaitUp(ctx, p, 60*time.Second, func(ctx context.Context) error { return get(ctx, http.DefaultClient, url, "") }); err != nil {
		return "", err
	}
	return "http://" + procs.Addr(ports[0]), nil
}

// CreateStatusAlert makes notification-controller write a commit status to GitHub for each
// event of Kustomization kustomization, as a Flux user sets it up: a Secret with the token, a
// Provider of type github whose address is the repository's URL on the GitHub host, and an
// Alert on the Kustomization's events (severity info: successes and failures). It returns
// the status context Flux writes: kustomization/<name>/<the first 8 hex of the Provider's UID>.
func (w *World) CreateStatusAlert(ctx context.Context, kustomization string) (string, error) {
	n := w.opts.notify
	if n == nil {
		return "", fmt.Errorf("creating the status Alert of %s: the world runs without notification-controller (WithNotifications)", kustomization)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: TokenSecret, Namespace: FluxNamespace},
		StringData: map[string]string{"token": n.token},
	}
	if _, err := w.Kube.CoreV1().Secrets(FluxNamespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("creating Secret %s: %w", TokenSecret, err)
	}
	prov := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
		"metadata": map[string]any{"name": StatusProvider, "namespace": FluxNamespace},
		"spec": map[string]any{
			"type": "github", "address": n.githubURL + "/" + w.Repo,
			"secretRef": map[string]any{"name": TokenSecret},
		},
	}}
	got, err := w.Dynamic.Resource(ProviderResource).Namespace(FluxNamespace).Create(ctx, prov, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating Provider %s: %w", StatusProvider, err)
	}
	alert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Alert",
		"metadata": map[string]any{"name": kustomization + "-status", "namespace": FluxNamespace},
		"spec": map[string]any{
			"eventSeverity": "info", "providerRef": map[string]any{"name": StatusProvider},
			"eventSources": []any{map[string]any{"kind": "Kustomization", "name": kustomization}},
		},
	}}
	if _, err := w.Dynamic.Resource(AlertResource).Namespace(FluxNamespace).Create(ctx, alert, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("creating Alert %s-status: %w", kustomization, err)
	}
	return "kustomization/" + kustomization + "/" + string(got.GetUID())[:8], nil
}
