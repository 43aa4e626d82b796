package argocd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// APIError is an error answer from Argo CD: the HTTP status and the
// decoded {"error","code","message"} body (gRPC code in Code).
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Code       int
	Message    string
}

// Error describes the failed call.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("Argo CD answered %s %s with %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Temporary reports whether trying again later may succeed.
func (e *APIError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError:
		return true
	}
	return false
}

func readAPIError(resp *http.Response, method, path string) *APIError {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode}
	var body struct {
		Error   string `json:"error"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Message != "" || body.Error != "") {
		e.Code, e.Message = body.Code, body.Message
		if e.Message == "" {
			e.Message = body.Error
		}
		return e
	}
	e.Message = strings.TrimSpace(string(raw))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "..."
	}
	return e
}

// AuthError means Argo CD refused the credentials (401): an expired or
// invalid token, or a wrong username or password.
type AuthError struct {
	Login bool   // the credentials were a username and password
	User  string // set when the login itself was refused
	err   *APIError
}

// Error says which credential was refused and Argo CD's reason.
func (e *AuthError) Error() string {
	switch {
	case e.User != "":
		return fmt.Sprintf("Argo CD refused the login of user %q: %s", e.User, e.err.Message)
	case e.Login:
		return fmt.Sprintf("Argo CD refused the session even after logging in again: %s", e.err.Message)
	default:
		return fmt.Sprintf("Argo CD refused the token (expired or invalid): %s", e.err.Message)
	}
}

// Unwrap returns the API error.
func (e *AuthError) Unwrap() error { return e.err }

// Hint names the fix.
func (e *AuthError) Hint() string {
	if e.Login {
		return "check argocd-username and argocd-password, and that the account may log in (accounts.<name>: login)"
	}
	return "give a valid argocd-token (argocd account generate-token), or argocd-username and argocd-password"
}

// AppNotFoundError is Argo CD's 403 for an application: it answers so for
// a missing application and for one the credentials may not read alike.
type AppNotFoundError struct {
	App AppRef
	err *APIError
}

// Error names the application and explains the 403.
func (e *AppNotFoundError) Error() string {
	ns := e.App.Namespace
	if ns == "" {
		ns = "Argo CD's own namespace"
	} else {
		ns = fmt.Sprintf("namespace %q", ns)
	}
	return fmt.Sprintf("Argo CD application %q in %s is missing or not readable with these credentials "+
		"(Argo CD answers 403 permission denied for missing and forbidden applications alike)", e.App.Name, ns)
}

// Unwrap returns the API error.
func (e *AppNotFoundError) Unwrap() error { return e.err }

// Hint names the fix.
func (e *AppNotFoundError) Hint() string {
	return "check the name and namespace in argocd-apps ([namespace/]name) and that the account may get the application (RBAC: applications, get)"
}

// DeployError is a deploy that failed or timed out: the last status of the
// application and the resources that are not Synced or Healthy.
type DeployError struct {
	Status     AppStatus
	Unready    []string
	Conditions []string // "Type: message" of the application's conditions
	TimedOut   bool
	lastError  error
	cause      error
}

// Error gives the reason, the last status and the unready resources.
func (e *DeployError) Error() string {
	var b strings.Builder
	if e.TimedOut {
		fmt.Fprintf(&b, "timed out waiting for Argo CD application %s", e.Status.App)
	} else {
		fmt.Fprintf(&b, "Argo CD application %s failed", e.Status.App)
	}
	if e.Status.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Status.Reason)
	}
	fmt.Fprintf(&b, "; last status: %s", e.Status.Line())
	if len(e.Unready) > 0 {
		fmt.Fprintf(&b, "; not ready: %s", strings.Join(e.Unready, "; "))
	}
	if len(e.Conditions) > 0 {
		fmt.Fprintf(&b, "; conditions: %s", strings.Join(e.Conditions, "; "))
	}
	if e.lastError != nil {
		fmt.Fprintf(&b, "; last error: %v", e.lastError)
	}
	return b.String()
}

// Unwrap returns the context error of a timeout.
func (e *DeployError) Unwrap() error { return e.cause }

// Hint names what a person should do.
func (e *DeployError) Hint() string {
	if e.TimedOut {
		return "look at the application in Argo CD; raise timeout if the rollout is just slow"
	}
	return "look at the application in Argo CD, fix the manifests or the cluster, and promote again"
}

type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// BadInput marks the error as the person's input.
func (e *inputError) BadInput() bool { return true }

func badInput(msg string) error { return &inputError{msg: msg} }

// SupersededError says that Argo CD compared a later commit that contains
// ours but replaced our image values: ours will never be deployed as such.
// It is the run's superseded outcome (exit 0), not a failure.
type SupersededError struct {
	App            AppRef
	Revision, Ours string
}

func (e *SupersededError) Error() string {
	return fmt.Sprintf("Argo CD application %s is at %s, a later commit that replaced our image values: %s is superseded",
		e.App, short(e.Revision), short(e.Ours))
}

// Superseded reports true: a later change won, nothing failed.
func (e *SupersededError) Superseded() bool { return true }
