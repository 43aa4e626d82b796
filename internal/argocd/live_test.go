package argocd_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
)

// Finding 1, after the sync: "deployed" rests on the live objects Argo CD
// reports (managed-resources), not only on the status. An application
// whose rendered containers do not use the images we set fails instead of
// reporting deployed.
func TestDeployedRestsOnTheLiveObjects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		images  []string
		want    argocd.State
		message string
	}{
		{"the live Deployment runs our image", []string{"ghcr.io/acme/web:1.1.0"}, argocd.Deployed, "the live containers run ghcr.io/acme/web:1.1.0"},
		{"no container uses our image", []string{"ghcr.io/acme/api:9.9.9"}, argocd.Failed, "no container it renders uses ghcr.io/acme/api:9.9.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, nil)
			ours := w.push(t, "1.1.0")
			spec := w.spec(ours)
			spec.Images = func(argocd.AppRef) []string { return tc.images }
			sts, err := w.client(t).Wait(withTimeout(t, 40*time.Second), spec)
			if len(sts) != 1 || sts[0].State != tc.want {
				t.Fatalf("Wait = %+v, %v; want %s\nlog:\n%s", sts, err, tc.want, w.logs.all())
			}
			var de *argocd.DeployError
			switch {
			case tc.want == argocd.Deployed && err != nil:
				t.Errorf("Wait: %v", err)
			case tc.want == argocd.Failed && (!errors.As(err, &de) || de.TimedOut):
				t.Errorf("Wait error %v; want a DeployError at once, not a time-out", err)
			}
			if got := sts[0].Reason + " " + errString(err); !strings.Contains(got, tc.message) {
				t.Errorf("reason %q does not say %q", got, tc.message)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
