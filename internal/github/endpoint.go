package github

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Endpoint is one GitHub API as other packages reach it with their own
// requests (internal/ghstatus): an HTTP client that sends as a Client does,
// with the token, GitHub's rate limits waited out and 5xx answers to
// idempotent requests retried; the REST root; the GraphQL URL.
type Endpoint struct {
	HTTP    *http.Client
	REST    *url.URL // with a trailing slash, as go-github wants
	GraphQL string
}

// NewEndpoint returns the Endpoint of apiURL (see New) for token. Of the
// options, WithHTTPClient, WithLogf, WithClock, WithRetries and
// WithMaxRateLimitWait apply.
func NewEndpoint(apiURL, token string, opts ...Option) (*Endpoint, error) {
	o := options{logf: func(string, ...any) {}, clock: realClock{}, maxRetries: 5, maxWait: 15 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	restURL, gqlURL, err := endpoints(apiURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, &inputError{msg: "a GitHub token is required for the GitHub API"}
	}
	base, timeout := http.DefaultTransport, time.Minute
	if o.httpClient != nil {
		if o.httpClient.Timeout > 0 {
			timeout = o.httpClient.Timeout
		}
		if o.httpClient.Transport != nil {
			base = o.httpClient.Transport
		}
	}
	limits := &rateLimitTransport{base: base, clock: o.clock, logf: o.logf, maxRetries: o.maxRetries, maxWait: o.maxWait, attemptTimeout: timeout}
	authed := &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), Base: limits}
	return &Endpoint{HTTP: &http.Client{Transport: authed}, REST: restURL, GraphQL: gqlURL}, nil
}

// Idempotent marks ctx so that a POST sent with it (a GraphQL query, not a
// mutation) is retried after a 5xx answer like a GET.
func Idempotent(ctx context.Context) context.Context { return idempotent(ctx) }
