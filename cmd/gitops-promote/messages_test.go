package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
)

// Finding 11: messages are readable and leak nothing.
func TestMessagesAreReadable(t *testing.T) {
	t.Parallel()
	t.Run("short secrets are masked as whole words only, and not handed to the runner", func(t *testing.T) {
		t.Parallel()
		var raw bytes.Buffer
		e := &env{redact: &redactor{}, rawStdout: &raw}
		a := actionio.New(actionio.WithWriter(&raw), actionio.WithGetenv(func(string) string { return "" }))
		if err := e.hideSecrets(a, true, "x", "gp-long-secret-123"); err != nil {
			t.Fatal(err)
		}
		got := e.redact.String("argocd.example.com refused token x; git said gp-long-secret-123 and agp-long-secret-1234")
		want := "argocd.example.com refused token ***; git said *** and a***4"
		if got != want {
			t.Errorf("redacted %q\nwant     %q", got, want)
		}
		if strings.Contains(raw.String(), "::add-mask::x\n") || !strings.Contains(raw.String(), "::add-mask::gp-long-secret-123\n") {
			t.Errorf("masks asked of the runner:\n%s", raw.String())
		}
	})
	t.Run("credentials in URLs are redacted, query strings included", func(t *testing.T) {
		t.Parallel()
		r := &redactor{}
		for in, want := range map[string]string{
			"GET https://h.example/x?access_token=abc123&ref=main failed": "GET https://h.example/x?access_token=***&ref=main failed",
			"see https://u:pw@h.example/a?X-Amz-Signature=f00#frag":       "see https://u:***@h.example/a?X-Amz-Signature=***#frag",
			"clone https://ghp_abc@github.com/a/b.git":                    "clone https://***@github.com/a/b.git",
			"ssh://git@host/acme/config.git stays":                        "ssh://git@host/acme/config.git stays",
		} {
			if got := r.String(in); got != want {
				t.Errorf("redacted %q\n       to %q\n     want %q", in, got, want)
			}
		}
	})
	run := func(t *testing.T, args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
		return code, stderr.String()
	}
	t.Run("a token with white space is bad input", func(t *testing.T) {
		t.Parallel()
		for _, tok := range []string{"ghp_abc\nghp_def", "ghp_abc def"} {
			code, stderr := run(t, "run", "--repository-url", "http://127.0.0.1:1/acme/config.git", "--overlays", "o", "--images", "a:1", "--token", tok, "--mode", "push")
			if code != 2 || !strings.Contains(stderr, "token: holds white space") || strings.Contains(stderr, "ghp_def") {
				t.Errorf("token %q: exit %d, stderr %q; want 2 naming the input, not the value", tok, code, stderr)
			}
		}
	})
	t.Run("ssh URLs are not said to hold credentials", func(t *testing.T) {
		t.Parallel()
		code, stderr := run(t, "run", "--repository-url", "ssh://git@git.example/acme/config.git", "--overlays", "o", "--images", "a:1", "--token", "t0ken-value", "--mode", "push")
		if code != 2 || strings.Contains(stderr, "credentials") || !strings.Contains(stderr, "ssh is not supported") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("a 100 KB value is cut", func(t *testing.T) {
		t.Parallel()
		code, stderr := run(t, "edit", "--root", t.TempDir(), "--overlays", "o", "--images", "ghcr.io/acme/app:"+strings.Repeat("v", 100<<10))
		if code != 2 || len(stderr) > 2<<10 || !strings.Contains(stderr, "bytes cut") {
			t.Errorf("exit %d, stderr of %d bytes: %.300q", code, len(stderr), stderr)
		}
	})
}

func FuzzRedactor(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x?token=a&b=c", "x y x", "://", "a?token=", "https://@/?=&="} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, s, secret string) {
		r := &redactor{}
		r.add(secret)
		got := r.String(s)
		if len(secret) >= minInWord && strings.TrimSpace(secret) != "" && strings.Contains(got, secret) && !strings.Contains("***", secret) {
			t.Fatalf("secret %q left in %q (from %q)", secret, got, s)
		}
	})
}
