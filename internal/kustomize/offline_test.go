package kustomize

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
)

const deployYAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"

// Finding 9: validation stays offline. Remote resources and remote bases,
// however deep, are refused as bad input naming the overlay and the URL,
// and nothing reaches the network or runs git; validate-remote
// (WithRemote) lets the build fetch them.
func TestValidateIsOfflineByDefault(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(deployYAML))
	}))
	t.Cleanup(srv.Close)
	fsys := fstest.MapFS{
		"http/kustomization.yaml":   {Data: []byte("resources:\n- " + srv.URL + "/deploy.yaml\nimages:\n- name: app\n  newTag: v1\n")},
		"git/kustomization.yaml":    {Data: []byte("resources:\n- ../base\nimages:\n- name: app\n  newTag: v1\n")},
		"base/kustomization.yaml":   {Data: []byte("resources:\n- git::" + srv.URL + "/acme/base.git//deploy?ref=main\n")},
		"scp/kustomization.yaml":    {Data: []byte("components:\n- git@127.0.0.1:acme/comp.git\nimages:\n- name: app\n  newTag: v1\n")},
		"local/kustomization.yaml":  {Data: []byte("resources:\n- cm.yaml\nimages:\n- name: app\n  newTag: v1\n")},
		"local/cm.yaml":             {Data: []byte(deployYAML)},
		"github/kustomization.yaml": {Data: []byte("resources:\n- github.com/acme/base//deploy?ref=v1\nimages:\n- name: app\n  newTag: v1\n")},
	}
	overlays := []string{"http", "git", "scp", "local", "github"}
	res, err := Edit(fsys, Request{Overlays: overlays, Images: refs(t, "app:v2")})
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(fsys, res.Files, overlays)
	if n := hits.Load(); n != 0 {
		t.Errorf("validation reached the network %d times", n)
	}
	var remote []*RemoteError
	for _, e := range unjoin(err) {
		var re *RemoteError
		if !errors.As(e, &re) {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		remote = append(remote, re)
	}
	want := map[string]string{
		"http":   srv.URL + "/deploy.yaml",
		"git":    "git::" + srv.URL + "/acme/base.git//deploy?ref=main",
		"scp":    "git@127.0.0.1:acme/comp.git",
		"github": "github.com/acme/base//deploy?ref=v1",
	}
	if len(remote) != len(want) {
		t.Fatalf("Validate = %v; want a refusal for each of %v", err, want)
	}
	for _, re := range remote {
		if want[re.Overlay] != re.URL {
			t.Errorf("refusal %+v; want URL %q", re, want[re.Overlay])
		}
		msg := re.Error()
		if !strings.Contains(msg, `overlay "`+re.Overlay+`"`) || !strings.Contains(msg, re.URL) || !re.BadInput() {
			t.Errorf("message %q does not name the overlay and the URL", msg)
		}
	}

	// validate-remote: the build may fetch.
	err = NewValidator(WithRemote()).Validate(fsys, res.Files, []string{"http"})
	if err != nil {
		t.Errorf("Validate with remote fetching: %v", err)
	}
	if hits.Load() == 0 {
		t.Error("with WithRemote the remote resource was not fetched")
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}

// FuzzIsRemote: never panics; a URL with a scheme is always remote.
func FuzzIsRemote(f *testing.F) {
	for _, s := range []string{"../base", "https://x/y.yaml", "git@github.com:a/b", "github.com/a/b", "GIT::file:///x", "a=b", "deploy.yaml"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := isRemote(s)
		if strings.Contains(s, "://") && !strings.ContainsAny(s, "\n") && !got {
			t.Fatalf("isRemote(%q) = false", s)
		}
	})
}
