package world

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// StartNotifications writes argocd-notifications-cm (data) and argocd-notifications-secret
// (secret, as stringData) and starts Argo CD's own notifications controller: the argocd
// multi-call binary as argocd-notifications, with the flags of Argo CD's Procfile. It returns
// once the controller's metrics endpoint answers. Call it from WithAddon.
func (w *World) StartNotifications(ctx context.Context, data, secret map[string]string) (*Proc, error) {
	labels := func(name string) map[string]string {
		return map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd"}
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "argocd-notifications-cm", Namespace: Namespace, Labels: labels("argocd-notifications-cm")}, Data: data}
	if _, err := w.Kube.CoreV1().ConfigMaps(Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating argocd-notifications-cm: %w", err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "argocd-notifications-secret", Namespace: Namespace, Labels: labels("argocd-notifications-secret")},
		Type: corev1.SecretTypeOpaque, StringData: secret}
	if _, err := w.Kube.CoreV1().Secrets(Namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating argocd-notifications-secret: %w", err)
	}
	ports, err := procs.FreePorts(1)
	if err != nil {
		return nil, err
	}
	env, err := w.argocdEnv("notifications")
	if err != nil {
		return nil, err
	}
	// Its metrics port has no bind-address flag: it listens on all interfaces (a free port).
	p, err := w.StartProcess("argocd-notifications", "argocd-notifications", []string{
		"--kubeconfig", w.Kubeconfig, "--namespace", Namespace, "--argocd-repo-server", w.RepoServer,
		"--metrics-port", strconv.Itoa(ports[0]), "--loglevel", "debug", "--logformat", "text",
	}, env)
	if err != nil {
		return nil, err
	}
	if err := w.WaitUp(ctx, p, 60*time.Second, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+procs.Addr(ports[0])+"/metrics", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return p, nil
}
