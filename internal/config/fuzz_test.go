package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary values to every input: Load never panics, and
// every problem it reports is a one-line bad-input error naming an input.
func FuzzLoad(f *testing.F) {
	f.Add("app:1", "apps/x", "push", "15m", "true", "argocd:443", "Ada <a@b.c>", "{{ .Changes }}")
	f.Add("", "../x", "pushh", "-1s", "yes", "http://x", "nobody", "{{")
	f.Add("a\nb", "/abs", "pull-request", "0", "FALSE", "https://u:p@h", "<>", "")
	f.Fuzz(func(t *testing.T, images, overlays, mode, timeout, boolean, server, author, tmpl string) {
		in := map[string]string{
			InImages: images, InOverlays: overlays, InMode: mode, InTimeout: timeout, InAutoMerge: boolean,
			InDryRun: boolean, InArgoCDServer: server, InAuthor: author, InCommitMessage: tmpl,
			InRepositoryURL: server, InArgoCDApps: images, InPRBranch: overlays,
		}
		_, err := Load(func(name string) []string {
			if v, ok := in[name]; ok {
				return []string{v}
			}
			return nil
		})
		if err == nil {
			return
		}
		var errs *Errors
		if !errors.As(err, &errs) {
			t.Fatalf("Load error %T %v, want *Errors", err, err)
		}
		names := map[string]bool{InRevision: true}
		for _, s := range Specs() {
			names[s.Name] = true
		}
		for _, p := range errs.Problems() {
			var ie *InputError
			if !errors.As(p, &ie) || !names[ie.Input] {
				t.Errorf("problem %v does not name an input", p)
			}
			if strings.ContainsAny(p.Error(), "\r\n") && !strings.ContainsAny(images+overlays+mode+timeout+boolean+server+author+tmpl, "\r\n") {
				t.Errorf("problem %q spans lines", p.Error())
			}
		}
	})
}

// FuzzParseAuthor: no panic, and an accepted author round-trips.
func FuzzParseAuthor(f *testing.F) {
	f.Add(DefaultAuthor)
	f.Add("a <b@c>")
	f.Add(" <@>")
	f.Fuzz(func(t *testing.T, s string) {
		name, email, err := ParseAuthor(s)
		if err != nil {
			return
		}
		n2, e2, err := ParseAuthor(name + " <" + email + ">")
		if err != nil || n2 != name || e2 != email {
			t.Errorf("ParseAuthor(%q) = %q, %q; does not round-trip: %q %q %v", s, name, email, n2, e2, err)
		}
	})
}
