package config

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// SplitList splits list values: each value may hold several entries, one per
// line; blank lines and surrounding spaces are dropped.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for line := range strings.SplitSeq(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

// ParseBool parses an input boolean: exactly true or false (as GitHub Actions
// inputs are written), case-insensitive.
func ParseBool(input, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, problem(input, "got %q, want true or false", v)
}

// ParseDuration parses a positive Go duration such as 90s or 15m.
func ParseDuration(input, v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, problem(input, "got %q, want a positive Go duration such as 90s or 15m", v)
	}
	return d, nil
}

func parseEnum[T ~string](input, v string, allowed ...T) (T, error) {
	v = strings.TrimSpace(v)
	for _, a := range allowed {
		if v == string(a) {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", problem(input, "got %q, want one of %s", v, strings.Join(names, ", "))
}

// ParseAuthor splits "Name <email>" into its parts. The name is what precedes
// the last " <"; the email is inside the angle brackets and holds an @.
func ParseAuthor(v string) (name, email string, err error) {
	v = strings.TrimSpace(v)
	i := strings.LastIndex(v, " <")
	bad := func() (string, string, error) {
		return "", "", problem(InAuthor, "got %q, want \"Name <email>\"", v)
	}
	if i <= 0 || !strings.HasSuffix(v, ">") || strings.ContainsAny(v, "\n\r\x00") {
		return bad()
	}
	name = strings.TrimSpace(v[:i])
	email = v[i+2 : len(v)-1]
	if name == "" || strings.ContainsAny(name, "<>") || strings.ContainsAny(email, "<> ") ||
		strings.Count(email, "@") != 1 || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") {
		return bad()
	}
	return name, email, nil
}

// isLocalHost reports whether host names this machine: http:// is allowed only there.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseHTTPURL checks an http(s) URL: https anywhere, http only for localhost
// and loopback addresses, no credentials in it (they belong in the secret
// inputs), no query or fragment. The error never repeats the URL's userinfo.
func ParseHTTPURL(input, v string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, problem(input, "got %q, want an http(s) URL", redactRaw(v))
	}
	switch u.Scheme {
	case "https", "http":
		if u.User != nil {
			return nil, problem(input, "holds credentials; give them in the token or password inputs instead")
		}
		if u.Scheme == "http" && !isLocalHost(u.Hostname()) {
			return nil, problem(input, "got %q: http:// is allowed only for localhost or 127.0.0.1, use https://", u.Redacted())
		}
	case "ssh", "git", "git+ssh":
		// A user name (ssh://git@host/...) is no credential: say what is wrong.
		return nil, problem(input, "got %q, want an https:// URL: git runs over HTTPS with the token (ssh is not supported)", u.Redacted())
	default:
		return nil, problem(input, "got %q, want an https:// URL (http:// only for localhost)", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, problem(input, "got %q, want a URL without query or fragment", u.Redacted())
	}
	return u, nil
}

var hostPort = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)

// ParseArgoCDServer turns argocd-server into a base URL: host[:port] means
// https://host[:port]; a URL is checked by [ParseHTTPURL].
func ParseArgoCDServer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "://") {
		u, err := ParseHTTPURL(InArgoCDServer, v)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(u.String(), "/"), nil
	}
	if !hostPort.MatchString(v) {
		return "", problem(InArgoCDServer, "got %q, want host[:port] or an https:// URL", redactRaw(v))
	}
	return "https://" + v, nil
}

// redactRaw drops what looks like userinfo from a string that did not parse as
// a URL, so a secret typed into a URL input is never echoed.
func redactRaw(v string) string {
	if at := strings.LastIndex(v, "@"); at >= 0 {
		if i := strings.Index(v, "://"); i >= 0 && i < at {
			return v[:i+3] + "REDACTED" + v[at:]
		}
		return "REDACTED" + v[at:]
	}
	return v
}

var (
	repoName   = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	appName    = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	revisionRe = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
)

// checkTemplate parses a Go template over the change list.
func checkTemplate(input, v string) error {
	if v == "" {
		return nil
	}
	if _, err := template.New(input).Option("missingkey=error").Parse(v); err != nil {
		return problem(input, "is not a valid Go template: %s", oneLine(err.Error()))
	}
	return nil
}

// checkBranch refuses names git refuses (a subset of git check-ref-format).
func checkBranch(input, v string) error {
	if v == "" {
		return nil
	}
	bad := strings.HasPrefix(v, "-") || strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") ||
		strings.HasSuffix(v, ".") || strings.HasSuffix(v, ".lock") || strings.Contains(v, "..") ||
		strings.Contains(v, "//") || strings.Contains(v, "@{") || v == "@" ||
		strings.ContainsAny(v, " ~^:?*[\\\x7f")
	for _, r := range v {
		if r < 0x20 {
			bad = true
		}
	}
	if bad {
		return problem(input, "got %q, want a valid git branch name", v)
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
