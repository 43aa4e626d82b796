package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
	"github.com/google/go-cmp/cmp"
)

const prodFile = "apps/web/overlays/prod/kustomization.yaml"

var newProd = []byte("resources:\n- ../../base\nimages:\n- name: web\n  newTag: \"1.1\" # pinned\n")

func TestFetchCommitPushLands(t *testing.T) {
	w := newWorld(t)
	r := w.remote(t, testToken)
	snap, err := r.Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w.seed, snap.Head()); diff != "" {
		t.Errorf("Head (-want +got):\n%s", diff)
	}
	sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Push(t.Context(), sha, "main"); err != nil {
		t.Fatal(err)
	}
	dir := w.clone(t)
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(prodFile)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(newProd), string(got)); diff != "" {
		t.Errorf("cloned %s (-want +got):\n%s", prodFile, diff)
	}
	wantLog := strings.Join([]string{
		sha,
		w.seed,
		"github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com> 1795773600 +0000",
		"github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com> 1795773600 +0000",
		"Set web to 1.1",
	}, "\n")
	gotLog := w.git(t, "log", "-1", "--format=%H%n%P%n%an <%ae> %at %ad%n%cn <%ce> %ct %cd%n%B", "--date=format:+0000", "main")
	if diff := cmp.Diff(wantLog, gotLog); diff != "" {
		t.Errorf("commit on main (-want +got):\n%s", diff)
	}
	// Only the one file changed.
	if diff := cmp.Diff(prodFile, w.git(t, "diff", "--name-only", w.seed, sha)); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if out := w.git(t, "fsck", "--no-dangling"); out != "" {
		t.Errorf("fsck: %s", out)
	}
}

func TestSnapshotFS(t *testing.T) {
	w := newWorld(t)
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	fsys := snap.FS()
	var names []string
	for name := range seedFiles {
		names = append(names, name)
	}
	if err := fstest.TestFS(fsys, names...); err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(fsys, prodFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seedFiles[prodFile], string(got)); diff != "" {
		t.Errorf("ReadFile (-want +got):\n%s", diff)
	}
	matches, err := fs.Glob(fsys, "apps/*/overlays/prod/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/api/overlays/prod/kustomization.yaml", "apps/web/overlays/prod/kustomization.yaml"}
	if diff := cmp.Diff(want, matches); diff != "" {
		t.Errorf("Glob (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"missing file", "apps/web/overlays/qa/kustomization.yaml", fs.ErrNotExist},
		{"through a file", "README.md/x", fs.ErrNotExist},
		{"not a valid path", "../etc/passwd", fs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fs.Stat(fsys, tc.path)
			if !errors.Is(err, tc.want) {
				t.Errorf("Stat(%q) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

func TestCommit(t *testing.T) {
	tests := []struct {
		name        string
		files       []File
		wantErr     error
		wantBad     bool
		wantObjects int // blobs + trees + the commit
	}{
		{
			name:        "one file rewrites only the trees along its path",
			files:       []File{{Path: prodFile, Content: newProd}},
			wantObjects: 1 + 5 + 1, // blob; root, apps, web, overlays, prod; commit
		},
		{
			name:        "new file in a new folder",
			files:       []File{{Path: "apps/web/overlays/qa/kustomization.yaml", Content: []byte("resources: []\n")}},
			wantObjects: 1 + 5 + 1,
		},
		{
			name:    "same bytes is no change",
			files:   []File{{Path: prodFile, Content: []byte(seedFiles[prodFile])}},
			wantErr: ErrNoChange,
		},
		{
			name:    "no files is no change",
			wantErr: ErrNoChange,
		},
		{
			name:    "path escaping the repository",
			files:   []File{{Path: "../x", Content: []byte("x")}},
			wantBad: true,
		},
		{
			name:    "absolute path",
			files:   []File{{Path: "/etc/x", Content: []byte("x")}},
			wantBad: true,
		},
	}
	w := newWorld(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			sha, err := snap.Commit(tc.files, "msg", author)
			if tc.wantErr != nil || tc.wantBad {
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("Commit error = %v, want %v", err, tc.wantErr)
				}
				var bad interface{ BadInput() bool }
				if tc.wantBad && (!errors.As(err, &bad) || !bad.BadInput()) {
					t.Errorf("Commit error = %v, want a bad-input error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h, mc, err := snap.madeCommit(sha, "main")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantObjects, len(mc.objects)); diff != "" {
				t.Errorf("new objects (-want +got):\n%s", diff)
			}
			if mc.objects[len(mc.objects)-1] != h {
				t.Errorf("the commit is not among the new objects")
			}
		})
	}
}

func TestPushLostRace(t *testing.T) {
	tests := []struct {
		name string
		// race lands another commit on main after our fetch, either before
		// our push starts or between its ref advertisement and its pack.
		race func(t *testing.T, w *world) error
	}{
		{"moved before the push", func(_ *testing.T, w *world) error {
			_, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{"README.md": []byte("other\n")}, "other pipeline")
			return err
		}},
		{"moved during the push", func(t *testing.T, w *world) error {
			w.srv.BeforeReceive(func(repo string) {
				w.srv.BeforeReceive(nil)
				if _, err := w.srv.CommitFiles(repo, "main", map[string][]byte{"README.md": []byte("other\n")}, "other pipeline"); err != nil {
					t.Errorf("injecting another pipeline's commit: %v", err)
				}
			})
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.race(t, w); err != nil {
				t.Fatal(err)
			}
			err = snap.Push(t.Context(), sha, "main")
			if !errors.Is(err, ErrNonFastForward) {
				t.Fatalf("Push error = %v, want ErrNonFastForward", err)
			}
			other := w.head(t)
			if other == sha || w.git(t, "rev-parse", other+"^") != w.seed {
				t.Errorf("main = %s, want the other pipeline's commit on the seed", other)
			}
			if out := w.git(t, "fsck", "--no-dangling"); out != "" {
				t.Errorf("fsck: %s", out)
			}
		})
	}
}

func TestPushRetriesTransientFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      func(s *gitserver.Server)
		wantPushes int // receive-pack POSTs the server saw
	}{
		{"500 once", func(s *gitserver.Server) { s.Fail500(1) }, 1},
		{"cut before apply", func(s *gitserver.Server) { s.CutPushes(1, gitserver.CutBeforeApply) }, 2},
		{"cut after apply", func(s *gitserver.Server) { s.CutPushes(1, gitserver.CutAfterApply) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
			if err != nil {
				t.Fatal(err)
			}
			w.srv.ResetRequests()
			tc.fault(w.srv)
			if err := snap.Push(t.Context(), sha, "main"); err != nil {
				t.Fatalf("Push through a transient fault: %v", err)
			}
			if diff := cmp.Diff(sha, w.head(t)); diff != "" {
				t.Errorf("main (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("1", w.git(t, "rev-list", "--count", w.seed+"..main")); diff != "" {
				t.Errorf("commits landed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPushes, w.pushes()); diff != "" {
				t.Errorf("receive-pack requests (-want +got):\n%s", diff)
			}
			if !w.logs.contains("retrying in") {
				t.Errorf("no retry was logged: %q", w.logs.all())
			}
			if out := w.git(t, "fsck", "--no-dangling"); out != "" {
				t.Errorf("fsck: %s", out)
			}
		})
	}
}

func TestPushGivesUpOnLastingFaults(t *testing.T) {
	w := newWorld(t)
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.ResetRequests()
	w.srv.Fail500(100)
	err = snap.Push(t.Context(), sha, "main")
	var temp interface{ Temporary() bool }
	if !errors.As(err, &temp) || !temp.Temporary() {
		t.Fatalf("Push error = %v, want a temporary network error", err)
	}
	if got := len(w.srv.Requests()); got != 4 {
		t.Errorf("requests = %d, want 4 (the retry budget)", got)
	}
	if diff := cmp.Diff(w.seed, w.head(t)); diff != "" {
		t.Errorf("main (-want +got):\n%s", diff)
	}
}

func TestProtectedBranch(t *testing.T) {
	tests := []struct {
		name        string
		kind        gitserver.Protection
		wantRuleset bool
		wantInError []string
	}{
		{
			name: "classic",
			kind: gitserver.Classic,
			wantInError: []string{
				"error: GH006: Protected branch update failed for refs/heads/main.",
				"- Changes must be made through a pull request.",
				"(protected branch hook declined)",
			},
		},
		{
			name:        "ruleset",
			kind:        gitserver.Ruleset,
			wantRuleset: true,
			wantInError: []string{
				"error: GH013: Repository rule violations found for refs/heads/main.",
				"Review all repository rules at ",
				"(push declined due to repository rule violations)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if err := w.srv.Protect(repoName, "main", tc.kind); err != nil {
				t.Fatal(err)
			}
			snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
			if err != nil {
				t.Fatal(err)
			}
			w.srv.ResetRequests()
			err = snap.Push(t.Context(), sha, "main")
			var pe *ProtectedError
			if !errors.As(err, &pe) {
				t.Fatalf("Push error = %v, want *ProtectedError", err)
			}
			if pe.Ruleset != tc.wantRuleset || pe.Branch != "main" {
				t.Errorf("ProtectedError = %+v, want Ruleset %v on main", pe, tc.wantRuleset)
			}
			for _, s := range tc.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not quote %q", err, s)
				}
			}
			if !errors.Is(err, ErrProtectedBranch) {
				t.Errorf("errors.Is(err, ErrProtectedBranch) = false")
			}
			var h interface{ Hint() string }
			if !errors.As(err, &h) || !strings.Contains(h.Hint(), "mode: pull-request") {
				t.Errorf("hint does not name mode: pull-request: %v", err)
			}
			if got := w.pushes(); got != 1 {
				t.Errorf("receive-pack requests = %d, want 1 (a refusal is not retried)", got)
			}
			if diff := cmp.Diff(w.seed, w.head(t)); diff != "" {
				t.Errorf("main (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthAndNotFound(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		url       func(w *world) string
		branch    string
		want      error
		wantInMsg string
	}{
		{"wrong token", "ghs_wrongtoken", nil, "main", ErrAuth, "Invalid username or token"},
		{"no token", "", nil, "main", ErrAuth, "refused the token"},
		{"missing repository", testToken, func(w *world) string { return w.srv.RepoURL("acme/nothing") }, "main", ErrNotFound, "not found"},
		{"missing branch", testToken, nil, "release", ErrNotFound, `branch "release"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.remote(t, tc.token)
			if tc.url != nil {
				var err error
				if r, err = New(tc.url(w), WithToken(tc.token), WithRetry(4, 10*time.Millisecond, 5*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			w.srv.ResetRequests()
			_, err := r.Fetch(t.Context(), tc.branch)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Fetch error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantInMsg)
			}
			var h interface{ Hint() string }
			if !errors.As(err, &h) || h.Hint() == "" {
				t.Errorf("error %q has no hint", err)
			}
			if got := len(w.srv.Requests()); got > 2 {
				t.Errorf("requests = %d, want at most 2: no retry storm", got)
			}
		})
	}
}

func TestPushForce(t *testing.T) {
	w := newWorld(t)
	if _, err := w.srv.CommitFiles(repoName, "gitops-promote/main/web", map[string][]byte{"README.md": []byte("old PR\n")}, "old PR"); err != nil {
		t.Fatal(err)
	}
	snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.PushForce(t.Context(), sha, "main"); err == nil {
		t.Fatal("PushForce to the target branch succeeded")
	}
	if err := snap.PushForce(t.Context(), sha, "gitops-promote/main/web"); err != nil {
		t.Fatal(err)
	}
	got, err := w.srv.Head(repoName, "gitops-promote/main/web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sha, got); diff != "" {
		t.Errorf("PR branch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(w.seed, w.head(t)); diff != "" {
		t.Errorf("main moved (-want +got):\n%s", diff)
	}
}

func TestParseSignature(t *testing.T) {
	tests := []struct {
		in      string
		want    Signature
		wantErr bool
	}{
		{in: "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>",
			want: Signature{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"}},
		{in: "  Jane Q. Doe   <jane@example.com> ", want: Signature{Name: "Jane Q. Doe", Email: "jane@example.com"}},
		{in: "jane@example.com", wantErr: true},
		{in: "<jane@example.com>", wantErr: true},
		{in: "Jane <>", wantErr: true},
		{in: "Jane <jane example.com>", wantErr: true},
		{in: "Jane <jane@example.com", wantErr: true},
		{in: "Ja<ne <jane@example.com>", wantErr: true},
		{in: "Jane\n <jane@example.com>", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSignature(tc.in)
			if tc.wantErr {
				var bad interface{ BadInput() bool }
				if !errors.As(err, &bad) || !bad.BadInput() {
					t.Errorf("ParseSignature(%q) error = %v, want a bad-input error", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseSignature (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultBranch(t *testing.T) {
	w := newWorld(t)
	got, err := w.remote(t, testToken).DefaultBranch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("main", got); diff != "" {
		t.Errorf("DefaultBranch (-want +got):\n%s", diff)
	}
	w.git(t, "symbolic-ref", "HEAD", "refs/heads/trunk")
	w.git(t, "branch", "trunk", "main")
	got, err = w.remote(t, testToken).DefaultBranch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("trunk", got); diff != "" {
		t.Errorf("DefaultBranch after moving HEAD (-want +got):\n%s", diff)
	}
}

func TestPushWithReadOnlyToken(t *testing.T) {
	const ro = "ghs_readonlyTOKEN0123456789"
	srv, err := gitserver.Start(gitserver.WithToken(testToken), gitserver.WithReadOnlyToken(ro), gitserver.WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if _, err := srv.CreateRepo("acme", "config"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CommitFiles(repoName, "main", map[string][]byte{prodFile: []byte(seedFiles[prodFile])}, "seed"); err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv, logs: &logSink{}}
	snap, err := w.remote(t, ro).Fetch(t.Context(), "main")
	if err != nil {
		t.Fatalf("a read-only token cannot fetch: %v", err)
	}
	sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	err = snap.Push(t.Context(), sha, "main")
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Push error = %v, want ErrAuth", err)
	}
	if want := "Permission to acme/config.git denied to github-actions[bot]."; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not quote the server's %q", err, want)
	}
	if strings.Contains(err.Error(), ro) {
		t.Errorf("error %q holds the token", err)
	}
	if got := len(srv.Requests()); got != 1 {
		t.Errorf("requests = %d, want 1: a refused token is not retried", got)
	}
}

func TestPushForceLease(t *testing.T) {
	const pr = "gitops-promote/main/web"
	tests := []struct {
		name    string
		setup   func(t *testing.T, w *world)
		wantErr error
	}{
		{"creates a missing branch", func(*testing.T, *world) {}, nil},
		{"lease broken by a push in between", func(t *testing.T, w *world) {
			if _, err := w.srv.CommitFiles(repoName, pr, map[string][]byte{"README.md": []byte("v1\n")}, "v1"); err != nil {
				t.Fatal(err)
			}
			w.srv.BeforeReceive(func(repo string) {
				w.srv.BeforeReceive(nil)
				if _, err := w.srv.CommitFiles(repo, pr, map[string][]byte{"README.md": []byte("v2\n")}, "v2"); err != nil {
					t.Errorf("moving the PR branch: %v", err)
				}
			})
		}, ErrNonFastForward},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			snap, err := w.remote(t, testToken).Fetch(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(t, w)
			err = snap.PushForce(t.Context(), sha, pr)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("PushForce error = %v, want %v", err, tc.wantErr)
			}
			got, _ := w.srv.Head(repoName, pr)
			if landed := got == sha; landed != (tc.wantErr == nil) {
				t.Errorf("PR branch = %s; landed %v, want %v", got, landed, tc.wantErr == nil)
			}
		})
	}
}
