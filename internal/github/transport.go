package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// secondaryMinWait is the least wait after a secondary rate limit that came
// without Retry-After, as GitHub's documentation asks.
const secondaryMinWait = time.Minute

// rateLimitTransport waits out GitHub's rate limits and retries 5xx answers
// to idempotent requests. It sits under both the REST and GraphQL clients.
type rateLimitTransport struct {
	base       http.RoundTripper
	clock      Clock
	logf       func(format string, args ...any)
	maxRetries int
	maxWait    time.Duration
	// attemptTimeout bounds one request and its response body; waits
	// between attempts are not counted.
	attemptTimeout time.Duration
}

// cancelOnClose ends an attempt's context when the body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

type idempotentKey struct{}

// idempotent marks a POST that may be retried (a GraphQL query).
func idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	v, _ := req.Context().Value(idempotentKey{}).(bool)
	return v
}

// RateLimitError is returned when GitHub still limits requests after the
// retries, or asks for a wait longer than the client accepts.
type RateLimitError struct {
	Secondary bool
	Status    int
	Wait      time.Duration // what GitHub asked for last
	Retries   int
}

// Error implements error.
func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("GitHub API %s rate limit (HTTP %d) still in force after %d retries; it asks for another %s",
		kind, e.Status, e.Retries, e.Wait.Round(time.Second))
}

// Hint says what to do.
func (e *RateLimitError) Hint() string {
	return "wait for the limit to reset and run again; fewer parallel jobs, or a GitHub App token (higher limits), help"
}

// ServerError is returned when GitHub keeps answering 5xx.
type ServerError struct {
	Status  int
	Retries int
}

// Error implements error.
func (e *ServerError) Error() string {
	return fmt.Sprintf("GitHub API answered HTTP %d after %d retries", e.Status, e.Retries)
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var secondary, server *backoff.ExponentialBackOff
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewinding the request body for a retry: %w", err)
			}
			req = req.Clone(ctx)
			req.Body = body
		}
		actx, cancel := context.WithTimeout(ctx, t.attemptTimeout)
		resp, err := t.base.RoundTrip(req.WithContext(actx))
		if err != nil {
			cancel()
			if ctx.Err() == nil && actx.Err() != nil {
				return nil, fmt.Errorf("no answer from GitHub within %s: %w", t.attemptTimeout, err)
			}
			return nil, err
		}
		resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		canRetry := attempt < t.maxRetries && (req.Body == nil || req.GetBody != nil)
		wait, limited, isSecondary := t.rateLimitWait(resp, &secondary)
		switch {
		case limited:
			if !canRetry || wait > t.maxWait {
				drain(resp)
				return nil, &RateLimitError{Secondary: isSecondary, Status: resp.StatusCode, Wait: wait, Retries: attempt}
			}
			t.logf("GitHub API rate limit (HTTP %d) on %s %s: waiting %s", resp.StatusCode, req.Method, req.URL.Path, wait.Round(time.Second))
		case resp.StatusCode >= 500 && isIdempotent(req):
			if !canRetry {
				drain(resp)
				return nil, &ServerError{Status: resp.StatusCode, Retries: attempt}
			}
			if server == nil {
				server = newBackoff(time.Second, 30*time.Second, 0.2)
			}
			wait = server.NextBackOff()
			t.logf("GitHub API answered HTTP %d on %s %s: retrying in %s", resp.StatusCode, req.Method, req.URL.Path, wait.Round(time.Millisecond))
		default:
			return resp, nil
		}
		drain(resp)
		if err := t.clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func newBackoff(initial, max time.Duration, jitter float64) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.Multiplier, b.RandomizationFactor = initial, max, 2, jitter
	b.Reset()
	return b
}

// rateLimitWait decides whether resp is a rate limit and how long to wait,
// following GitHub's documented order: Retry-After; then remaining 0 with
// the reset time; then, for a secondary limit without headers, at least a
// minute, growing exponentially.
func (t *rateLimitTransport) rateLimitWait(resp *http.Response, secondary **backoff.ExponentialBackOff) (time.Duration, bool, bool) {
	h := resp.Header
	if resp.StatusCode == http.StatusOK {
		// GraphQL answers an exhausted primary limit with 200, remaining 0
		// and an error of type RATE_LIMITED.
		if h.Get("X-RateLimit-Remaining") != "0" || resp.Request == nil || !strings.HasSuffix(resp.Request.URL.Path, "graphql") || !bodySays(resp, "rate_limited", "rate limit") {
			return 0, false, false
		}
		return t.untilReset(h), true, false
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false, false
	}
	if s := h.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true, true
		}
		if at, err := http.ParseTime(s); err == nil {
			return max(at.Sub(t.clock.Now()), 0), true, true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" && h.Get("X-RateLimit-Reset") != "" {
		return t.untilReset(h), true, false
	}
	if resp.StatusCode == http.StatusTooManyRequests || bodySays(resp, "secondary rate limit", "abuse detection") {
		if *secondary == nil {
			*secondary = newBackoff(secondaryMinWait, 10*time.Minute, 0)
		}
		return max((*secondary).NextBackOff(), secondaryMinWait), true, true
	}
	return 0, false, false
}

// untilReset is the wait until x-ratelimit-reset, plus a second (the
// header has whole seconds); at least a second.
func (t *rateLimitTransport) untilReset(h http.Header) time.Duration {
	reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return secondaryMinWait
	}
	return max(time.Unix(reset, 0).Sub(t.clock.Now())+time.Second, time.Second)
}

// bodySays peeks at the body for any of the phrases (lower case), leaving
// the body readable for the caller.
func bodySays(resp *http.Response, phrases ...string) bool {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
	s := strings.ToLower(string(data))
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// gqlError is one entry of a GraphQL response's "errors", with the "type"
// GitHub adds (STALE_DATA, NOT_FOUND, UNPROCESSABLE, ...), which the
// githubv4 client does not expose.
type gqlError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type gqlErrorsKey struct{}

type gqlErrorSink struct{ errs []gqlError }

// graphQLErrorTransport copies the typed GraphQL errors of a response into
// the sink on the request's context.
type graphQLErrorTransport struct{ base http.RoundTripper }

func (t *graphQLErrorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	sink, _ := req.Context().Value(gqlErrorsKey{}).(*gqlErrorSink)
	if err != nil || sink == nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the GraphQL response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var out struct {
		Errors []gqlError `json:"errors"`
	}
	if json.Unmarshal(data, &out) == nil {
		sink.errs = out.Errors
	}
	return resp, nil
}
