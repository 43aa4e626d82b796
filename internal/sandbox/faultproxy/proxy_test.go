package faultproxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// start runs the real git server with one repository behind a proxy.
func start(t *testing.T) (*gitserver.Server, *Proxy, string) {
	t.Helper()
	s, err := gitserver.Start(gitserver.WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	repo, err := s.CreateRepo("acme", "config")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitFiles(repo, "main", map[string][]byte{"a.txt": []byte("a\n")}, "seed"); err != nil {
		t.Fatal(err)
	}
	p, err := Start(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return s, p, p.URL(s.RepoURL(repo)) + "/info/refs?service=git-upload-pack"
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Exchanges pass through untouched, several on one kept-alive connection,
// until a fault is injected; then only the matching ones are broken.
func TestProxyPassesAndBreaksWhatItIsTold(t *testing.T) {
	_, p, url := start(t)
	c := &http.Client{Timeout: 5 * time.Second}
	for range 2 {
		code, body, err := get(c, url)
		if err != nil || code != 200 || !strings.Contains(body, "refs/heads/main") {
			t.Fatalf("through the proxy: %d %v\n%s", code, err, body)
		}
	}
	p.Inject(Pushes, CutBeforeApply, 1) // a GET is not a push: it passes
	if code, _, err := get(c, url); err != nil || code != 200 {
		t.Fatalf("a fetch with a push fault pending: %d %v", code, err)
	}
	p.Inject(Any, CutBeforeApply, 1)
	if _, _, err := get(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}, url); err == nil {
		t.Fatal("a cut request got an answer")
	}
	if code, _, err := get(c, url); err != nil || code != 200 {
		t.Fatalf("after the spent fault: %d %v", code, err)
	}
	var faults []Fault
	for _, e := range p.Log() {
		faults = append(faults, e.Fault)
	}
	want := []Fault{Pass, Pass, Pass, CutBeforeApply, Pass}
	if len(faults) != len(want) {
		t.Fatalf("log %v, want %v", faults, want)
	}
	for i := range want {
		if faults[i] != want[i] {
			t.Errorf("exchange %d: %v, want %v", i, faults[i], want[i])
		}
	}
}

// A hung exchange never answers: the client's own deadline ends it, and
// Close frees the connection.
func TestProxyHangNeverAnswers(t *testing.T) {
	_, p, url := start(t)
	p.Inject(Any, Hang, -1)
	c := &http.Client{Timeout: 300 * time.Millisecond}
	_, _, err := get(c, url)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a hung request ended with %v, want the client's timeout", err)
	}
}

// A dropped answer was produced by the server (its status is logged) but
// never reaches the client.
func TestProxyDropAnswerReachesTheServer(t *testing.T) {
	_, p, url := start(t)
	p.Inject(Any, DropAnswer, 1)
	seen := make(chan Exchange, 1)
	p.AfterFault(func(e Exchange) { seen <- e })
	_, _, err := get(&http.Client{Timeout: 2 * time.Second}, url)
	if err == nil {
		t.Fatal("a dropped answer reached the client")
	}
	if e := <-seen; e.Status != 200 || e.Fault != DropAnswer {
		t.Errorf("after-fault callback got %+v, want the server's 200 under drop answer", e)
	}
}
