package argocd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Client talks to one Argo CD API server. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	hc       *http.Client
	logf     func(format string, args ...any)
	now      func() time.Time
	user     string
	password string
	// onSession hears each session token a login obtains (WithSessionToken).
	onSession func(token string)

	mu    sync.Mutex
	token string // static token or the current session token
}

// Option configures a Client.
type Option func(*options) error

type options struct {
	token, user, password string
	caFile                string
	insecure              bool
	hc                    *http.Client
	logf                  func(format string, args ...any)
	now                   func() time.Time
	onSession             func(token string)
}

// WithToken authenticates with an Argo CD API token (argocd-token).
func WithToken(token string) Option {
	return func(o *options) error { o.token = token; return nil }
}

// WithLogin authenticates with a local user through POST /api/v1/session;
// the session token is renewed once when Argo CD answers 401.
func WithLogin(username, password string) Option {
	return func(o *options) error { o.user, o.password = username, password; return nil }
}

// WithSessionToken hands every session token obtained by WithLogin to fn before the client
// uses it, so the caller can redact and mask it like the configured secrets.
func WithSessionToken(fn func(token string)) Option {
	return func(o *options) error { o.onSession = fn; return nil }
}

// WithCA trusts the PEM certificates in the file at path (argocd-ca).
func WithCA(path string) Option {
	return func(o *options) error { o.caFile = path; return nil }
}

// WithInsecure skips TLS certificate verification (argocd-insecure).
func WithInsecure() Option {
	return func(o *options) error { o.insecure = true; return nil }
}

// WithHTTPClient sets the HTTP client; WithCA and WithInsecure then do not
// apply. Its Timeout must be zero, as the watch stream is long-lived.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { o.hc = hc; return nil }
}

// WithLogf receives progress lines (one per event, no trailing newline).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) error { o.logf = logf; return nil }
}

// WithClock sets the clock used for elapsed times in status lines.
func WithClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}

// New returns a client for the Argo CD API at server: "host[:port]" (HTTPS)
// or a URL; "http://" is accepted only for a loopback host (local servers).
func New(server string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	base, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	switch {
	case o.token != "" && o.user != "":
		return nil, badInput("argocd-token and argocd-username are both set: give one of them")
	case o.user != "" && o.password == "":
		return nil, badInput("argocd-username is set without argocd-password")
	case o.token == "" && o.user == "":
		return nil, badInput("no Argo CD credentials: set argocd-token, or argocd-username and argocd-password")
	case o.hc != nil && (o.caFile != "" || o.insecure):
		return nil, badInput("argocd-ca and argocd-insecure cannot be combined with a custom HTTP client")
	case o.caFile != "" && o.insecure:
		return nil, badInput("argocd-ca and argocd-insecure are both set: give one of them")
	}
	hc := o.hc
	if hc == nil {
		if hc, err = newHTTPClient(o.caFile, o.insecure); err != nil {
			return nil, err
		}
	}
	c := &Client{base: base, hc: hc, logf: o.logf, now: o.now, user: o.user, password: o.password, token: o.token, onSession: o.onSession}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func parseServer(server string) (*url.URL, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return nil, badInput("argocd-server is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, badInput(fmt.Sprintf("argocd-server %q is not host[:port] or a URL", server))
	}
	if u.User != nil {
		return nil, badInput("argocd-server must not carry credentials: use argocd-token or argocd-username/argocd-password")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, badInput(fmt.Sprintf("argocd-server %q: http:// is only for local servers; use https", u.Host))
		}
	default:
		return nil, badInput(fmt.Sprintf("argocd-server %q: scheme %q is not https", u.Host, u.Scheme))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newHTTPClient(caFile string, insecure bool) (*http.Client, error) {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = def.Clone()
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // asked for by argocd-insecure
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, &inputError{msg: fmt.Sprintf("reading argocd-ca %q: %v", caFile, err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badInput(fmt.Sprintf("argocd-ca %q holds no PEM certificate", caFile))
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// do sends one API request with the credentials, decodes a JSON answer into
// out (when not nil) and turns error answers into *APIError. A session
// token is renewed once on 401.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the answer to %s %s: %w", method, path,
			&decodeError{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), err: err})
	}
	return nil
}

// send performs the request and returns the response when its status is
// 2xx; the caller closes the body.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any, accept string) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding the body of %s %s: %w", method, path, err)
		}
	}
	if err := c.ensureSession(ctx); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		token := c.currentToken()
		resp, err := c.roundTrip(ctx, method, path, query, payload, accept, token)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := readAPIError(resp, method, path)
		if resp.StatusCode == http.StatusUnauthorized && c.user != "" && attempt == 0 {
			c.logf("argocd: session refused (%s); logging in again", apiErr.Message)
			c.dropSession(token)
			if err := c.ensureSession(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, &AuthError{Login: c.user != "", err: apiErr}
		}
		return nil, apiErr
	}
}

func (c *Client) roundTrip(ctx context.Context, method, path string, query url.Values, payload []byte, accept, token string) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling Argo CD %s %s: %w", method, path, redactURLError(err))
	}
	return resp, nil
}

func (c *Client) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

func (c *Client) dropSession(stale string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == stale {
		c.token = ""
	}
}

// ensureSession logs in when username/password are set and no session
// token is held.
func (c *Client) ensureSession(ctx context.Context) error {
	if c.user == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"username": c.user, "password": c.password})
	resp, err := c.roundTrip(ctx, http.MethodPost, "/api/v1/session", nil, body, "application/json", "")
	if err != nil {
		return fmt.Errorf("logging in to Argo CD as %q: %w", c.user, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		apiErr := readAPIError(resp, http.MethodPost, "/api/v1/session")
		if resp.StatusCode == http.StatusUnauthorized {
			return &AuthError{Login: true, User: c.user, err: apiErr}
		}
		return fmt.Errorf("logging in to Argo CD as %q: %w", c.user, apiErr)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		// Asking again will not change the answer.
		return fmt.Errorf("logging in to Argo CD as %q: %w", c.user, &PermanentError{Method: http.MethodPost, URL: c.urlOf("/api/v1/session"),
			Got: fmt.Sprintf("%d without a session token (%s)", resp.StatusCode, orNone(resp.Header.Get("Content-Type"))), Expected: `{"token": "..."} as JSON`, err: err})
	}
	if c.onSession != nil {
		c.onSession(out.Token)
	}
	c.token = out.Token
	return nil
}

// redactURLError drops the URL from a transport error (it carries no
// secret today, but a proxy URL might).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func orNone(s string) string {
	if s == "" {
		return "no Content-Type"
	}
	return s
}
