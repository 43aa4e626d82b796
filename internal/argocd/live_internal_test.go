package argocd

import (
	"strings"
	"testing"
)

func deployment(image string) string {
	return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"prod"},"spec":{"template":{"spec":{"initContainers":[{"name":"init","image":"busybox:1"}],"containers":[{"name":"web","image":"` + image + `"}]}}}}`
}

func TestLiveImagesRule(t *testing.T) {
	t.Parallel()
	const ours = "ghcr.io/acme/web:1.1.0"
	res := func(live, target string) []ManagedResource {
		return []ManagedResource{{Group: "apps", Kind: "Deployment", Namespace: "prod", Name: "web", LiveState: live, TargetState: target},
			{Kind: "Service", Namespace: "prod", Name: "web", LiveState: `{"kind":"Service"}`, TargetState: `{"kind":"Service"}`}}
	}
	dig := "sha256:" + strings.Repeat("a", 64)
	cases := []struct {
		name    string
		res     []ManagedResource
		summary []string
		images  []string
		want    State
		says    string
	}{
		{"live runs ours", res(deployment(ours), deployment(ours)), []string{ours, "busybox:1"}, []string{ours}, Deployed, "live containers run " + ours},
		{"live lags", res(deployment("ghcr.io/acme/web:1.0.0"), deployment(ours)), nil, []string{ours}, Waiting, "the live Deployment prod/web container web runs ghcr.io/acme/web:1.0.0, not " + ours},
		{"live object missing", res("null", deployment(ours)), nil, []string{ours}, Waiting, "does not exist yet"},
		{"summary lacks ours", res(deployment(ours), deployment(ours)), []string{"ghcr.io/acme/web:1.0.0"}, []string{ours}, Waiting, "status.summary.images does not list"},
		{"not rendered", res(deployment("ghcr.io/acme/web:1.0.0"), deployment("ghcr.io/acme/web:1.0.0")), nil, []string{ours}, Failed, "no container it renders uses"},
		{"digest", res(deployment("ghcr.io/acme/web@"+dig), deployment("ghcr.io/acme/web@"+dig)), nil, []string{"ghcr.io/acme/web@" + dig}, Deployed, ""},
		{"newName alone keeps the tag", res(deployment("mirror.io/web:7"), deployment("mirror.io/web:7")), nil, []string{"mirror.io/web"}, Deployed, ""},
		{"a registry port is not a tag", res(deployment("reg:5000/web:2"), deployment("reg:5000/web:2")), nil, []string{"reg:5000/web:2"}, Deployed, ""},
	}
	for _, tc := range cases {
		v := liveImages(tc.res, tc.summary, tc.images, "abc1234")
		if v.State != tc.want || !strings.Contains(v.Reason, tc.says) {
			t.Errorf("%s: %s %q; want %s saying %q", tc.name, v.State, v.Reason, tc.want, tc.says)
		}
	}
}
