package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunReportsEveryInputProblemAtOnce: the image grammar and the Argo CD
// credentials are checked outside config, yet one run names them together
// with config's problems, one line each, exit 2, nothing contacted.
func TestRunReportsEveryInputProblemAtOnce(t *testing.T) {
	t.Parallel()
	const badImage = `error: images: image "app:": tag is empty after ":"; use name:tag, name@digest, name:tag@digest, name=newName, name=newName:tag, name=newName@digest or name=newName:tag@digest ("*" for a part keeps the stored value)`
	// Port 1 on loopback: anything contacted would fail with exit 1, not 2.
	const url = "http://127.0.0.1:1/acme/config.git"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "config problems and a bad image",
			args: []string{"--overlays", "../x", "--images", "app:", "--mode", "bogus"},
			want: []string{
				`error: overlays: got "../x", want a path inside the config repo (no ..)`,
				"error: repository-url: required: give repository (owner/name) or repository-url",
				`error: mode: got "bogus", want one of push, pull-request, auto`,
				badImage,
			},
		},
		{
			name: "a bad image and no Argo CD credentials",
			args: []string{"--repository-url", url, "--overlays", "x", "--images", "app:", "--argocd-server", "argocd.example.com", "--argocd-apps", "web"},
			want: []string{badImage, "error: no Argo CD credentials: set argocd-token, or argocd-username and argocd-password"},
		},
		{
			name: "config's Argo CD problem is not repeated",
			args: []string{"--repository-url", url, "--overlays", "x", "--images", "app:1", "--argocd-server", "argocd.example.com", "--argocd-apps", "web", "--argocd-username", "u"},
			want: []string{"error: argocd-password: argocd-username and argocd-password go together"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"run"}, tc.args...), &stdout, &stderr, func(string) string { return "" })
			got := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s", diff)
			}
			if code != 2 || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", code, stdout.String())
			}
		})
	}
}
