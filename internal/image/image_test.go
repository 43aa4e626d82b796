package image

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const d256 = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg  string
		want Ref
	}{
		{"app:1.2.3", Ref{Name: "app", Tag: "1.2.3"}},
		{"app@" + d256, Ref{Name: "app", Digest: d256}},
		{"app:1@" + d256, Ref{Name: "app", Tag: "1", Digest: d256}},
		{"app=ghcr.io/acme/app", Ref{Name: "app", NewName: "ghcr.io/acme/app"}},
		{"app=ghcr.io/acme/app:v2", Ref{Name: "app", NewName: "ghcr.io/acme/app", Tag: "v2"}},
		{"app=ghcr.io/acme/app@" + d256, Ref{Name: "app", NewName: "ghcr.io/acme/app", Digest: d256}},
		{"app=ghcr.io/acme/app:v2@" + d256, Ref{Name: "app", NewName: "ghcr.io/acme/app", Tag: "v2", Digest: d256}},
		{"localhost:5000/app:1", Ref{Name: "localhost:5000/app", Tag: "1"}},
		{"localhost:5000/team/app@" + d256, Ref{Name: "localhost:5000/team/app", Digest: d256}},
		{"app=localhost:5000/app", Ref{Name: "app", NewName: "localhost:5000/app"}},
		{"registry.example.com:443/a/b/c:1.0", Ref{Name: "registry.example.com:443/a/b/c", Tag: "1.0"}},
		{"app:*", Ref{Name: "app", Tag: Keep}},
		{"app@*", Ref{Name: "app", Digest: Keep}},
		{"app:*@*", Ref{Name: "app", Tag: Keep, Digest: Keep}},
		{"app=*:2", Ref{Name: "app", NewName: Keep, Tag: "2"}},
		{"app=*", Ref{Name: "app", NewName: Keep}},
		{"  app:1  ", Ref{Name: "app", Tag: "1"}},
		{"my_app__x-y.z:_TAG-1.x", Ref{Name: "my_app__x-y.z", Tag: "_TAG-1.x"}},
		{"app:1234", Ref{Name: "app", Tag: "1234"}},
		{"app:" + strings.Repeat("a", 128), Ref{Name: "app", Tag: strings.Repeat("a", 128)}},
		{"app@sha512:" + strings.Repeat("ab", 64), Ref{Name: "app", Digest: "sha512:" + strings.Repeat("ab", 64)}},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.arg)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.arg, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.arg, diff)
			}
			again, err := Parse(got.String())
			if err != nil || again != got {
				t.Errorf("Parse(%q.String() = %q) = %+v, %v; want %+v", tc.arg, got.String(), again, err, got)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg, part, says string
	}{
		{"", "argument", "is empty"},
		{"app", "argument", "has no tag, digest or new name"},
		{"app:", "tag", `is empty after ":"`},
		{"app@", "digest", `is empty after "@"`},
		{"app=", "new name", `is empty after "="`},
		{"=app:1", "name", `is empty before "="`},
		{"app=:1", "new name", "is empty"},
		{":1", "name", "is empty"},
		{"App:1", "name", "not lower-case"},
		{"app=Ghcr.io/x", "new name", "not lower-case"},
		{"ap*p:1", "name", `"*"`},
		{"app[0]:1", "name", `"["`},
		{"a|b:1", "name", `"|"`},
		{"*:1", "name", `cannot be "*"`},
		{"app:-1", "tag", "is not"},
		{"app:.x", "tag", "is not"},
		{"app:" + strings.Repeat("a", 129), "tag", "is not"},
		{"app:v1+build", "tag", "is not"},
		{"app@sha256:abc", "digest", "64 lower-case hex"},
		{"app@sha256:" + strings.Repeat("A", 64), "digest", "64 lower-case hex"},
		{"app@md5", "digest", "algorithm:hex"},
		{"app@Sha256:" + strings.Repeat("a", 64), "digest", "algorithm:hex"},
		{"app@foo:xyz", "digest", "lower-case hex"},
		{"app@" + d256 + "@" + d256, "digest", "64 lower-case hex"},
		{"a//b:1", "name", "path component"},
		{"-app:1", "name", "path component"},
		{"app-:1", "name", "path component"},
		{"localhost:port/app:1", "name", "port"},
		{"bad_host.io/app:1", "name", "host"},
		{"app name:1", "name", `" "`},
		{"app=" + strings.Repeat("a", 256), "new name", "longer than 255"},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.arg)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v; want a *ParseError", tc.arg, err)
			}
			if pe.Part != tc.part || !strings.Contains(pe.Reason, tc.says) {
				t.Errorf("Parse(%q): part %q reason %q; want part %q, reason with %q", tc.arg, pe.Part, pe.Reason, tc.part, tc.says)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "name=newName:tag@digest") || !strings.Contains(msg, tc.part) {
				t.Errorf("message %q: want one line naming the part and listing the forms", msg)
			}
			if !strings.Contains(msg, "image "+quote(tc.arg)) {
				t.Errorf("message %q does not name the argument", msg)
			}
			if !pe.BadInput() {
				t.Error("BadInput() = false")
			}
		})
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestParseName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg, want string
		wantErr   bool
	}{
		{arg: "ghcr.io/acme/app", want: "ghcr.io/acme/app"},
		{arg: " app ", want: "app"},
		{arg: "localhost:5000/app", want: "localhost:5000/app"},
		{arg: "", wantErr: true},
		{arg: "App", wantErr: true},
		{arg: "app[", wantErr: true},
		{arg: "*", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			t.Parallel()
			got, err := ParseName(tc.arg)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseName(%q) = %q, %v; want %q, error %v", tc.arg, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref  Ref
		want string
	}{
		{Ref{Name: "app", Tag: "1"}, "app:1"},
		{Ref{Name: "app", NewName: "x/y", Tag: "1", Digest: d256}, "app=x/y:1@" + d256},
		{Ref{Name: "app", NewName: Keep}, "app=*"},
		{Ref{Name: "app"}, "app"},
	}
	for _, tc := range tests {
		if got := tc.ref.String(); got != tc.want {
			t.Errorf("%+v.String() = %q; want %q", tc.ref, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"app:1", "app@" + d256, "a=b:c@" + d256, "localhost:5000/a:1", "app:*", "=x", "a=", "a@b@c", "A:1", "a[:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Errorf("Parse(%q): message on several lines: %q", s, err)
			}
			return
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Errorf("Parse(%q) = %+v; Parse(String()) = %+v, %v", s, r, again, err)
		}
		if strings.ContainsAny(r.Name, "*[]()?+{}|^$\\") {
			t.Errorf("Parse(%q): name %q holds a regexp metacharacter", s, r.Name)
		}
	})
}
