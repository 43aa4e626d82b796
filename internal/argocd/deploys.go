package argocd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// Application reads an application once, without asking for a refresh.
func (c *Client) Application(ctx context.Context, ref AppRef) (*Application, error) {
	q := url.Values{}
	if ref.Namespace != "" {
		q.Set("appNamespace", ref.Namespace)
	}
	p := "/api/v1/applications/" + url.PathEscape(ref.Name)
	var app Application
	if err := c.do(ctx, http.MethodGet, p, q, nil, &app); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
			return nil, &AppNotFoundError{App: ref, err: apiErr}
		}
		return nil, fmt.Errorf("reading application %s: %w", ref, c.permanent(err, http.MethodGet, p, "an Argo CD Application as JSON"))
	}
	return &app, nil
}

// ManagedResource is one resource of an application as
// GET /api/v1/applications/{name}/managed-resources lists it (Argo CD's
// ResourceDiff): the object in the cluster and the one rendered from Git,
// each as a JSON string ("" or "null" when absent).
type ManagedResource struct {
	Group       string `json:"group,omitempty"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name"`
	LiveState   string `json:"liveState,omitempty"`
	TargetState string `json:"targetState,omitempty"`
	Modified    bool   `json:"modified,omitempty"`
}

// ManagedResources reads the live and desired state of every resource of
// an application.
func (c *Client) ManagedResources(ctx context.Context, ref AppRef) ([]ManagedResource, error) {
	q := url.Values{}
	if ref.Namespace != "" {
		q.Set("appNamespace", ref.Namespace)
	}
	p := "/api/v1/applications/" + url.PathEscape(ref.Name) + "/managed-resources"
	var out struct {
		Items []ManagedResource `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, p, q, nil, &out); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
			return nil, &AppNotFoundError{App: ref, err: apiErr}
		}
		return nil, fmt.Errorf("reading the resources of %s: %w", ref, c.permanent(err, http.MethodGet, p, "Argo CD's managed resources as JSON"))
	}
	return out.Items, nil
}

// DeploysSpec says what CheckDeploys checks.
type DeploysSpec struct {
	Apps    []AppRef
	RepoURL string // our repository; "" = every source counts
	// Files are the edited kustomization files, slash paths from the
	// repository root.
	Files []string
	// Reads returns the files of the repository (slash paths) that
	// rendering the folder dir reads, as Argo CD's kustomize build would;
	// err when it could not tell.
	Reads func(dir string) ([]string, error)
}

// NotDeployedError is an application that does not deploy any of the
// edited kustomization files: none of its sources is our repository, or
// none renders an edited file at its path. It is bad input (argocd-apps).
type NotDeployedError struct {
	App      AppRef
	Sources  []Source // the application's sources
	RepoURL  string   // ours
	Overlays []string // the edited overlays
	Detail   string   // why, e.g. a build that failed
}

// Error names the application, its repository and path, and the overlays.
func (e *NotDeployedError) Error() string {
	var srcs []string
	for _, s := range e.Sources {
		p := s.Path
		if p == "" {
			p = "."
		}
		srcs = append(srcs, fmt.Sprintf("%s at path %s", s.RepoURL, p))
	}
	if len(srcs) == 0 {
		srcs = append(srcs, "no source")
	}
	msg := fmt.Sprintf("Argo CD application %s deploys %s, which does not render the edited overlay %s",
		e.App, strings.Join(srcs, " and "), strings.Join(e.Overlays, ", "))
	if e.RepoURL != "" && !e.fromOurs() {
		msg = fmt.Sprintf("Argo CD application %s deploys %s, not the config repository %s: it cannot deploy the edited overlay %s",
			e.App, strings.Join(srcs, " and "), e.RepoURL, strings.Join(e.Overlays, ", "))
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

func (e *NotDeployedError) fromOurs() bool {
	for _, s := range e.Sources {
		if SameRepo(s.RepoURL, e.RepoURL) {
			return true
		}
	}
	return false
}

// BadInput marks the error as the person's input.
func (e *NotDeployedError) BadInput() bool { return true }

// Hint names the fix.
func (e *NotDeployedError) Hint() string {
	return "list in argocd-apps the applications that deploy the edited overlays, or edit the overlays those applications deploy"
}

// sources returns the application's sources.
func (a *Application) sources() []Source {
	if len(a.Spec.Sources) > 0 {
		return a.Spec.Sources
	}
	if a.Spec.Source != nil {
		return []Source{*a.Spec.Source}
	}
	return nil
}

// CheckDeploys reads each application's spec and checks that one of its
// sources is spec.RepoURL and renders at least one of spec.Files at its
// path: the path is the folder of the file, or rendering the path (Reads)
// reads the file. It returns, per application, the edited files it
// renders; an application that renders none is a *NotDeployedError. Every
// application is checked; the errors come back together.
func (c *Client) CheckDeploys(ctx context.Context, spec DeploysSpec) (map[AppRef][]string, error) {
	out := map[AppRef][]string{}
	var overlays []string
	for _, f := range spec.Files {
		if d := path.Dir(f); !slices.Contains(overlays, d) {
			overlays = append(overlays, d)
		}
	}
	var errs []error
	reads := map[string][]string{} // path -> files read, once per path
	readErr := map[string]error{}
	for _, ref := range spec.Apps {
		app, err := c.applicationRetrying(ctx, ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rendered []string
		var detail []string
		for _, s := range app.sources() {
			if spec.RepoURL != "" && !SameRepo(s.RepoURL, spec.RepoURL) {
				continue
			}
			if s.Ref != "" && s.Path == "" {
				continue // a values-only source
			}
			dir := cleanPath(s.Path)
			for _, f := range spec.Files {
				if path.Dir(f) == dir && !slices.Contains(rendered, f) {
					rendered = append(rendered, f)
				}
			}
			if len(rendered) > 0 || spec.Reads == nil {
				continue
			}
			if _, ok := reads[dir]; !ok && readErr[dir] == nil {
				reads[dir], readErr[dir] = spec.Reads(dir)
				if reads[dir] == nil {
					reads[dir] = []string{}
				}
			}
			for _, f := range spec.Files {
				if slices.Contains(reads[dir], f) && !slices.Contains(rendered, f) {
					rendered = append(rendered, f)
				}
			}
			if len(rendered) == 0 && readErr[dir] != nil {
				detail = append(detail, fmt.Sprintf("rendering %s: %v", dir, readErr[dir]))
			}
		}
		if len(rendered) == 0 {
			errs = append(errs, &NotDeployedError{App: ref, Sources: app.sources(), RepoURL: spec.RepoURL, Overlays: overlays, Detail: strings.Join(detail, "; ")})
			continue
		}
		out[ref] = rendered
	}
	return out, errors.Join(errs...)
}

// applicationRetrying reads an application, riding out temporary errors
// (an Argo CD restarting, a 503 from its proxy) for about 30 seconds.
func (c *Client) applicationRetrying(ctx context.Context, ref AppRef) (*Application, error) {
	const budget = 30 * time.Second
	deadline := c.now().Add(budget)
	delay := 500 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, budget)
		app, err := c.Application(rctx, ref)
		cancel()
		var apiErr *APIError
		temporary := err != nil && !fatal(err) && (!errors.As(err, &apiErr) || apiErr.Temporary())
		if err == nil || !temporary || ctx.Err() != nil || c.now().Add(delay).After(deadline) {
			return app, err
		}
		c.logf("argocd: %s: %v; asking again in %s", ref, err, delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// cleanPath turns an application source path into a slash path from the
// repository root: "." for the root.
func cleanPath(p string) string {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" {
		return "."
	}
	return path.Clean(p)
}
