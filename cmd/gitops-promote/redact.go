package main

import (
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
)

// minInWord is the length from which a secret is hidden wherever it
// appears, also inside a longer word. A shorter secret (a test token "x",
// a password "abc") is hidden only where it stands as a whole word, and is
// not handed to the runner's ::add-mask::, which masks inside words and
// would turn "argocd.example.com" into "argocd.e***ample.com".
const minInWord = 8

// redactor replaces secrets with *** in everything written through the
// writers it wraps, and the credentials of any URL it sees: the password
// of user-info and the values of query parameters that carry credentials
// (access_token, token, password, sig, X-Amz-Signature, ...).
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

// add registers secrets to hide (blank ones are ignored).
func (r *redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	// Longest first: a secret that contains another is hidden whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// String returns s with every secret and URL credential replaced.
func (r *redactor) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sec := range r.secrets {
		if len(sec) >= minInWord {
			s = strings.ReplaceAll(s, sec, "***")
		} else {
			s = replaceWord(s, sec)
		}
	}
	return redactURLs(s)
}

// wordByte reports whether b continues a word: a short secret next to one
// is part of a longer word, not the secret.
func wordByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

// replaceWord replaces sec where it stands as a whole word.
func replaceWord(s, sec string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, sec)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(sec)
		whole := (i == 0 || !wordByte(s[i-1]) || !wordByte(sec[0])) && (end == len(s) || !wordByte(s[end]) || !wordByte(sec[len(sec)-1]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString("***")
		} else {
			b.WriteString(sec)
		}
		s = s[end:]
	}
}

// urlPattern finds URLs in free text.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// secretParam reports whether a query parameter carries a credential.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "password", "passwd", "secret", "sig", "signature", "credential", "auth", "key", "session", "code"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// redactURLs hides the credentials of every URL in s: the password of
// user-info (or the user, for http(s), where a token may stand as the
// user) and the values of credential query parameters.
func redactURLs(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, func(match string) string {
		// Punctuation that ends a sentence or a parenthesis is not the URL's.
		raw := strings.TrimRight(match, ").,;:!]}")
		return redactURL(raw) + match[len(raw):]
	})
}

// redactURL hides the credentials of one URL.
func redactURL(raw string) string {
	out := raw
	if at := strings.Index(raw, "@"); at > 0 {
		if schemeEnd := strings.Index(raw, "://"); schemeEnd > 0 && at > schemeEnd {
			auth := raw[schemeEnd+3 : at]
			if !strings.ContainsAny(auth, "/?#") {
				user, _, hasPass := strings.Cut(auth, ":")
				scheme := strings.ToLower(raw[:schemeEnd])
				switch {
				case hasPass:
					out = raw[:schemeEnd+3] + user + ":***" + raw[at:]
				case scheme == "http" || scheme == "https":
					out = raw[:schemeEnd+3] + "***" + raw[at:]
				}
			}
		}
	}
	q := strings.IndexByte(out, '?')
	if q < 0 {
		return out
	}
	frag := ""
	query := out[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, _, found := strings.Cut(p, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if found && secretParam(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + "***"
		}
	}
	return out[:q+1] + strings.Join(parts, "&") + frag
}

func (r *redactor) wrap(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *redactor
	w io.Writer
}

func (w *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// hideSecrets redacts secrets from everything written, and in a runner also
// masks them in the job log (::add-mask:: on the raw stdout); a secret
// shorter than minInWord is not given to the runner, which would mask it
// inside other words.
func (e *env) hideSecrets(a *actionio.IO, runner bool, secrets ...string) error {
	e.redact.add(secrets...)
	if !runner {
		return nil
	}
	var mask []string
	for _, s := range secrets {
		if len(strings.TrimSpace(s)) >= minInWord {
			mask = append(mask, s)
		}
	}
	return a.AddMask(mask...)
}

// sessionHider is the onSession of adapters: an Argo CD session token
// obtained by login is hidden like the configured secrets.
func (e *env) sessionHider(a *actionio.IO, runner bool) func(string) {
	return func(token string) {
		_ = e.hideSecrets(a, runner, token) // masking is best effort once the run is under way
	}
}
