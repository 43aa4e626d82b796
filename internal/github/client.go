package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
	"golang.org/x/oauth2"
)

// MinPollInterval is the shortest wait between two polls of a pull request.
const MinPollInterval = 5 * time.Second

// Clock is the time source the client sleeps through; tests inject a fake.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Client talks to one GitHub (github.com or a GitHub Enterprise Server).
type Client struct {
	rest            *gh.Client
	gql             *githubv4.Client
	logf            func(format string, args ...any)
	clock           Clock
	pollInterval    time.Duration
	pollMax         time.Duration
	unknownWait     time.Duration
	unknownTries    int
	checksWarnAfter time.Duration
}

type options struct {
	httpClient      *http.Client
	logf            func(format string, args ...any)
	clock           Clock
	pollInterval    time.Duration
	checksWarnAfter time.Duration
	maxRetries      int
	maxWait         time.Duration
}

// Option configures a Client.
type Option func(*options)

// WithHTTPClient sets the HTTP client whose transport carries the requests
// (default http.DefaultTransport); its Timeout, if set, bounds each attempt
// of a request (default 60 s), not the waits between attempts.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithLogf reports progress and warnings, one line per event.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithClock sets the clock used for every wait (rate limits, polling).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithPollInterval sets the first wait between polls of a pull request
// (default and minimum 5 s; it grows to 30 s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithChecksWarnAfter sets how long WaitMerged waits for required checks to
// start before it warns that they never did (default 3 minutes).
func WithChecksWarnAfter(d time.Duration) Option { return func(o *options) { o.checksWarnAfter = d } }

// WithRetries sets how many times one request is retried after a rate
// limit or a 5xx answer (default 5).
func WithRetries(n int) Option { return func(o *options) { o.maxRetries = n } }

// WithMaxRateLimitWait sets the longest single rate-limit wait accepted;
// a longer one fails at once with a clear error (default 15 minutes).
func WithMaxRateLimitWait(d time.Duration) Option { return func(o *options) { o.maxWait = d } }

// New returns a client for the REST API at apiURL (https://api.github.com,
// or https://HOST/api/v3 for GitHub Enterprise Server). GraphQL is
// <apiURL>/graphql, or https://HOST/api/graphql when apiURL ends in /api/v3.
func New(apiURL, token string, opts ...Option) (*Client, error) {
	o := options{
		logf: func(string, ...any) {}, clock: realClock{}, pollInterval: MinPollInterval,
		checksWarnAfter: 3 * time.Minute, maxRetries: 5, maxWait: 15 * time.Minute,
	}
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
	if o.pollInterval < MinPollInterval {
		return nil, &inputError{msg: fmt.Sprintf("poll interval %s is below the minimum of %s", o.pollInterval, MinPollInterval)}
	}
	if o.maxRetries < 0 {
		return nil, &inputError{msg: "the retry count cannot be negative"}
	}
	base := http.DefaultTransport
	timeout := time.Minute
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

	rest := gh.NewClient(&http.Client{Transport: authed})
	rest.BaseURL = restURL
	rest.UploadURL = restURL
	gql := githubv4.NewEnterpriseClient(gqlURL, &http.Client{Transport: &graphQLErrorTransport{base: authed}})
	return &Client{
		rest: rest, gql: gql, logf: o.logf, clock: o.clock,
		pollInterval: o.pollInterval, pollMax: 30 * time.Second,
		unknownWait: 2 * time.Second, unknownTries: 5, checksWarnAfter: o.checksWarnAfter,
	}, nil
}

// endpoints derives the REST root (with a trailing slash, as go-github
// wants) and the GraphQL URL from github-api-url.
func endpoints(apiURL string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(apiURL))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, "", &inputError{msg: fmt.Sprintf("github-api-url %q is not an http(s) URL", redactURL(apiURL))}
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	gql := *u
	if strings.HasSuffix(u.Path, "/api/v3") {
		gql.Path = strings.TrimSuffix(u.Path, "/v3") + "/graphql"
	} else {
		gql.Path = u.Path + "/graphql"
	}
	rest := *u
	rest.Path = u.Path + "/"
	return &rest, gql.String(), nil
}

// redactURL drops user information from a URL before it is shown.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// inputError is a problem with what the person gave: exit 2.
type inputError struct{ msg string }

func (e *inputError) Error() string  { return e.msg }
func (e *inputError) BadInput() bool { return true }

// apiError wraps a failed GitHub call with what was being done, and adds a
// hint when the token was refused.
func apiError(doing string, err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnauthorized {
		return &authError{doing: doing, err: err}
	}
	if err != nil && strings.Contains(err.Error(), "non-200 OK status code: 401") {
		return &authError{doing: doing, err: err}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

type authError struct {
	doing string
	err   error
}

func (e *authError) Error() string {
	return fmt.Sprintf("%s: GitHub refused the token: %v", e.doing, e.err)
}
func (e *authError) Unwrap() error { return e.err }
func (e *authError) Hint() string {
	return "check `token`: it must be valid for this GitHub and allowed to write contents and pull requests"
}
