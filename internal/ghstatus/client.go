package ghstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"

	"github.com/gitops-promote/gitops-promote/internal/github"
)

// Default poll intervals: the first wait, and the longest it grows to.
const (
	DefaultPollInterval = 5 * time.Second
	MaxPollInterval     = 30 * time.Second
)

// Client reads what the pullers write back to one GitHub repository.
type Client struct {
	rest        *gh.Client
	gql         *githubv4.Client
	cache       *etagCache
	owner, repo string
	logf        func(format string, args ...any)
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	interval    time.Duration
	maxInterval time.Duration
}

type options struct {
	logf        func(format string, args ...any)
	interval    time.Duration
	maxInterval time.Duration
	httpClient  *http.Client
}

// Option configures a Client.
type Option func(*options)

// WithLogf reports progress and warnings, one line per event.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithPollInterval sets the first wait between two reads (default 5 s) and
// the longest it grows to (default 30 s).
func WithPollInterval(first, longest time.Duration) Option {
	return func(o *options) { o.interval, o.maxInterval = first, longest }
}

// WithHTTPClient sets the HTTP client whose transport carries the requests.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// New returns a client of owner/repo at apiURL (github-api-url) with token.
// Requests go through internal/github's transport (rate limits waited out,
// 5xx retried) under a cache that makes every GET conditional.
func New(apiURL, token, owner, repo string, opts ...Option) (*Client, error) {
	o := options{logf: func(string, ...any) {}, interval: DefaultPollInterval, maxInterval: MaxPollInterval}
	for _, opt := range opts {
		opt(&o)
	}
	if o.interval <= 0 || o.maxInterval < o.interval {
		return nil, fmt.Errorf("poll interval %s..%s: want 0 < first <= longest", o.interval, o.maxInterval)
	}
	gopts := []github.Option{github.WithLogf(o.logf)}
	if o.httpClient != nil {
		gopts = append(gopts, github.WithHTTPClient(o.httpClient))
	}
	ep, err := github.NewEndpoint(apiURL, token, gopts...)
	if err != nil {
		return nil, err
	}
	cache := newETagCache(ep.HTTP.Transport)
	hc := &http.Client{Transport: cache}
	rest := gh.NewClient(hc)
	rest.BaseURL, rest.UploadURL = ep.REST, ep.REST
	return &Client{
		rest: rest, gql: githubv4.NewEnterpriseClient(ep.GraphQL, hc), cache: cache,
		owner: owner, repo: repo, logf: o.logf, now: time.Now, sleep: sleepCtx,
		interval: o.interval, maxInterval: o.maxInterval,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Requests returns how many requests the client sent, and how many of them
// GitHub counts against the rate limit (all but the 304 answers).
func (c *Client) Requests() (sent, counted int) { return c.cache.counted() }

// apiError wraps a failed read with what was read and, when GitHub refused
// it, which permission the token needs.
func apiError(doing, permission string, err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return &hintedError{err: fmt.Errorf("%s: %w", doing, err),
				hint: "the token needs " + permission + " on the repository (a GitHub App or fine-grained token: " + permission + "; a workflow: permissions: " + permission + ")"}
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }
func (e *hintedError) Hint() string  { return e.hint }
