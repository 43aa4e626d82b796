package flux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client reads and annotates Flux objects through the Kubernetes API.
type Client struct {
	dyn  dynamic.Interface
	logf func(string, ...any)
	now  func() time.Time
	// Where names the API server for messages (never credentials).
	Where string
}

type settings struct {
	kubeconfig, context string
	logf                func(string, ...any)
	dyn                 dynamic.Interface
	now                 func() time.Time
	getenv              func(string) string
}

// Option configures a Client.
type Option func(*settings)

// WithKubeconfig reaches the API through a kubeconfig: a path, or the
// file's content (anything with a line break, or JSON). Empty: the in-cluster
// service account when running in a cluster, else $KUBECONFIG or
// ~/.kube/config as kubectl reads them.
func WithKubeconfig(pathOrContent string) Option {
	return func(s *settings) { s.kubeconfig = pathOrContent }
}

// WithContext picks a context of the kubeconfig (default its current one).
func WithContext(name string) Option { return func(s *settings) { s.context = name } }

// WithLogf sets where progress lines go (default nowhere).
func WithLogf(logf func(string, ...any)) Option { return func(s *settings) { s.logf = logf } }

// WithDynamic uses the given dynamic client instead of building one (tests).
func WithDynamic(d dynamic.Interface) Option { return func(s *settings) { s.dyn = d } }

// WithClock sets the clock used for elapsed times (tests).
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithGetenv sets how the environment is read (tests); default os.Getenv.
func WithGetenv(getenv func(string) string) Option { return func(s *settings) { s.getenv = getenv } }

// New builds a Client. A kubeconfig that cannot be used is a bad-input
// error naming the input; its content and credentials never appear in
// the error.
func New(opts ...Option) (*Client, error) {
	s := settings{logf: func(string, ...any) {}, now: time.Now, getenv: os.Getenv}
	for _, o := range opts {
		o(&s)
	}
	c := &Client{dyn: s.dyn, logf: s.logf, now: s.now, Where: "the Kubernetes API"}
	if c.dyn != nil {
		return c, nil
	}
	cfg, where, err := restConfig(s)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 20, 40
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.UserAgent = "gitops-promote"
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, badInput(fmt.Sprintf("kubeconfig: cannot build a client for %s: %v", where, err))
	}
	c.dyn, c.Where = d, where
	return c, nil
}

// restConfig finds how to reach the API: kubeconfig content or path, the
// in-cluster service account, or kubectl's default files.
func restConfig(s settings) (*rest.Config, string, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: s.context}
	var cc clientcmd.ClientConfig
	switch {
	case isContent(s.kubeconfig):
		raw, err := clientcmd.Load([]byte(s.kubeconfig))
		if err != nil {
			// The parser's message may quote the content: leave it out.
			return nil, "", badInput("kubeconfig: the content is not a kubeconfig (YAML with clusters, users and contexts)")
		}
		cc = clientcmd.NewNonInteractiveClientConfig(*raw, s.context, overrides, nil)
	case s.kubeconfig != "":
		if _, err := os.Stat(s.kubeconfig); err != nil {
			return nil, "", badInput(fmt.Sprintf("kubeconfig: got %q, want the path of a kubeconfig file or its content (%v)", s.kubeconfig, errors.Unwrap(err)))
		}
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: s.kubeconfig}, overrides)
	case s.context == "" && s.getenv("KUBERNETES_SERVICE_HOST") != "":
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", badInput(fmt.Sprintf("kubeconfig: not given, and the in-cluster service account cannot be used: %v", err))
		}
		return cfg, "the in-cluster API " + cfg.Host, nil
	default:
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), overrides)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		if s.kubeconfig == "" {
			return nil, "", badInput(fmt.Sprintf("kubeconfig: not given, the runner is not in a cluster, and kubectl's default kubeconfig cannot be used: %v", err))
		}
		return nil, "", badInput(fmt.Sprintf("kubeconfig: %v", err))
	}
	return cfg, "the Kubernetes API at " + cfg.Host, nil
}

// isContent tells a kubeconfig given as content from a path: content has a
// line break, or is JSON on one line (a path is never quoted in messages,
// content never is).
func isContent(s string) bool {
	t := strings.TrimSpace(s)
	return strings.Contains(t, "\n") || strings.HasPrefix(t, "{")
}

func (c *Client) resource(gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	return c.dyn.Resource(gvr).Namespace(ns)
}

// get reads one object.
func (c *Client) get(ctx context.Context, gvr schema.GroupVersionResource, kind string, ref Ref) (*unstructured.Unstructured, error) {
	u, err := c.resource(gvr, ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, c.apiError(err, "reading", kind, ref)
	}
	return u, nil
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt on an object, as
// `flux reconcile` does.
func (c *Client) requestReconcile(ctx context.Context, gvr schema.GroupVersionResource, kind string, ref Ref, token string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{RequestedAtAnnotation: token}}})
	if err != nil {
		return err
	}
	if _, err := c.resource(gvr, ref.Namespace).Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		if apierrors.IsForbidden(err) {
			return &hintError{
				msg:  fmt.Sprintf("requesting a reconcile of %s %s: the identity may not patch it: %v", kind, ref, err),
				hint: "grant patch on kustomizations.kustomize.toolkit.fluxcd.io and gitrepositories.source.toolkit.fluxcd.io, or set flux-reconcile: false (the wait then sits out Flux's interval)",
				err:  err,
			}
		}
		return c.apiError(err, "requesting a reconcile of", kind, ref)
	}
	return nil
}

// apiError turns an API error into ours: not found and forbidden name the
// object; unauthorized says the credentials were refused.
func (c *Client) apiError(err error, doing, kind string, ref Ref) error {
	switch {
	case apierrors.IsNotFound(err):
		if isMissingKind(err) {
			return &hintError{
				msg:  fmt.Sprintf("%s %s %s: %s does not serve %s (are Flux's CRDs installed?)", doing, kind, ref, c.Where, kind),
				hint: "check kube-context: the cluster must run Flux (kustomize.toolkit.fluxcd.io/v1 and source.toolkit.fluxcd.io/v1)",
				err:  err,
			}
		}
		return &NotFoundError{Kind: kind, Ref: ref, err: err}
	case apierrors.IsForbidden(err):
		return &NotFoundError{Kind: kind, Ref: ref, Forbidden: true, err: err}
	case apierrors.IsUnauthorized(err):
		return &hintError{
			msg:  fmt.Sprintf("%s %s %s: %s refused the credentials (401)", doing, kind, ref, c.Where),
			hint: "check the kubeconfig's user (an expired token?) or the service account",
			err:  err,
		}
	}
	return fmt.Errorf("%s %s %s: %w", doing, kind, ref, err)
}

// isMissingKind tells a 404 for the resource type (no CRD) from one for
// the object: the API's details then carry no name.
func isMissingKind(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	d := se.Status().Details
	return d == nil || d.Name == ""
}
