package argocd

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// PermanentError is an answer that asking again will not change: the API
// path does not exist (404, 405, 501), the server does not take the request
// (400, 406, 415), or a 2xx whose body is not the JSON expected. It names
// the URL (Argo CD's base URL never carries credentials) and what was
// expected, and ends a wait at once.
type PermanentError struct {
	Method   string
	URL      string // scheme, host and path; no query
	Got      string // e.g. "404 Not Found" or "200 with a text/html body"
	Expected string
	err      error
}

// Error names the request, what came back and what was expected.
func (e *PermanentError) Error() string {
	return fmt.Sprintf("Argo CD at %s %s answered %s; expected %s", e.Method, e.URL, e.Got, e.Expected)
}

// Unwrap returns the underlying *APIError or decoding error.
func (e *PermanentError) Unwrap() error { return e.err }

// Hint names the likely fix.
func (e *PermanentError) Hint() string {
	return "check argocd-server: it must be the Argo CD API server (host[:port], or its URL with the path prefix it is served under, as --rootpath), not the UI behind another proxy path"
}

// permanentStatus reports whether an HTTP status will not change by asking again.
func permanentStatus(code int) bool {
	switch code {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable,
		http.StatusGone, http.StatusRequestURITooLong, http.StatusUnsupportedMediaType, http.StatusNotImplemented:
		return true
	}
	return false
}

// permanent turns err into a *PermanentError when it is an answer that will
// not change; other errors are returned as they are.
func (c *Client) permanent(err error, method, path, expected string) error {
	var apiErr *APIError
	var de *decodeError
	switch {
	case errors.As(err, &apiErr) && permanentStatus(apiErr.StatusCode):
		got := fmt.Sprintf("%d %s", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		if m := strings.TrimSpace(apiErr.Message); m != "" && m != http.StatusText(apiErr.StatusCode) {
			got += " (" + cut(m, 200) + ")"
		}
		return &PermanentError{Method: method, URL: c.urlOf(path), Got: got, Expected: expected, err: err}
	case errors.As(err, &de):
		return &PermanentError{Method: method, URL: c.urlOf(path), Got: de.got(), Expected: expected, err: err}
	}
	return err
}

// urlOf is the URL of an API path, without a query.
func (c *Client) urlOf(path string) string {
	u := *c.base
	u.Path += path
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// decodeError is a 2xx answer whose body is not the JSON expected.
type decodeError struct {
	status      int
	contentType string
	err         error
}

func (e *decodeError) Error() string { return fmt.Sprintf("%s: %v", e.got(), e.err) }
func (e *decodeError) Unwrap() error { return e.err }

func (e *decodeError) got() string {
	ct := e.contentType
	if ct == "" {
		ct = "no Content-Type"
	}
	return fmt.Sprintf("%d with a body that is not JSON (%s)", e.status, ct)
}

// cut shortens s to at most n bytes (on a rune boundary), marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
