// Command scale measures `gitops-promote run --mode push` at scale: one
// image set in every prod overlay (1,250 by default) of a generated config
// repository whose app bases share one base and one component, served by
// the sandbox git server (git http-backend) on 127.0.0.1. Each run does
// what the run verb does, through the same packages: Fetch the branch head
// into memory (blobs on demand), kustomize.Edit over the snapshot's FS,
// kustomize.Validate of every edited overlay (and again with the same
// Validator, as a retry would), Commit, Push. It prints the
// time of each phase per run, and the medians.
//
//	go run ./bench/scale                        # 1,250 prod overlays, 3 runs
//	go run ./bench/scale -cpuprofile cpu.out    # profile the runs (pprof -focus Edit|Validate)
//	go run ./bench/scale -serve                 # only serve; prints the URL and token for the CLI
//
// The generated repository is kept under -out (bench/.out/scale) and
// reused by later runs of the same size.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

const repoName = "acme/config"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

type flags struct {
	out        string
	lay        layout
	runs       int
	validate   bool
	push       bool
	serve      bool
	addr       string
	token      string
	cpuprofile string
	verbose    bool
}

func run(ctx context.Context, args []string) error {
	var f flags
	fl := flag.NewFlagSet("scale", flag.ContinueOnError)
	fl.StringVar(&f.out, "out", "bench/.out/scale", "where the generated repository is kept")
	fl.IntVar(&f.lay.Teams, "teams", 25, "teams (folders under apps/)")
	fl.IntVar(&f.lay.AppsPerTeam, "apps-per-team", 50, "apps per team; each app has a staging and a prod overlay")
	fl.IntVar(&f.runs, "runs", 3, "runs to measure")
	fl.BoolVar(&f.validate, "validate", true, "run the validate phase (krusty build of each edited overlay)")
	fl.BoolVar(&f.push, "push", true, "commit and push (each run lands a new tag)")
	fl.BoolVar(&f.serve, "serve", false, "only serve the repository until interrupted")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address (loopback only)")
	fl.StringVar(&f.token, "token", "scale-bench", "token the server asks for (a local throwaway)")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of all runs here")
	fl.BoolVar(&f.verbose, "v", false, "log gitrepo's progress with timestamps")
	if err := fl.Parse(args); err != nil {
		return err
	}
	srv, err := serve(f)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	url := srv.RepoURL(repoName)
	if f.serve {
		fmt.Printf("ready %s token %s\n", url, f.token)
		fmt.Printf("try: gitops-promote run --mode push --repository-url %s --branch main --token %s --overlays '%s' --images ghcr.io/acme/envoy:1.31.0\n",
			url, f.token, prodGlob)
		<-ctx.Done()
		return nil
	}
	return measure(ctx, f, url)
}

// serve starts the sandbox git server over -out, generating the
// repository the first time.
func serve(f flags) (*gitserver.Server, error) {
	root, err := filepath.Abs(filepath.Join(f.out, fmt.Sprintf("root-%d-%d", f.lay.Teams, f.lay.AppsPerTeam)))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("making %q: %w", root, err)
	}
	srv, err := gitserver.Start(gitserver.WithRoot(root), gitserver.WithAddr(f.addr), gitserver.WithToken(f.token))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(srv.BareDir(repoName)); err == nil {
		return srv, nil
	}
	start := time.Now()
	if err := generate(srv, f); err != nil {
		_ = srv.Close()
		_ = os.RemoveAll(srv.BareDir(repoName))
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "generated %s: %d apps, %d prod overlays, %d files in %s\n",
		repoName, f.lay.apps(), f.lay.apps(), f.lay.files(), time.Since(start).Round(time.Millisecond))
	return srv, nil
}

func generate(srv *gitserver.Server, f flags) error {
	tree, err := os.MkdirTemp(f.out, "tree-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	if err := f.lay.write(tree); err != nil {
		return err
	}
	owner, name, _ := strings.Cut(repoName, "/")
	if _, err := srv.CreateRepo(owner, name); err != nil {
		return err
	}
	if _, err := srv.SeedFromDir(repoName, "main", tree); err != nil {
		return err
	}
	// One pack with bitmaps, as a hosted repository serves from.
	_, err = srv.Git(context.Background(), repoName, "repack", "-a", "-d", "-q", "--write-bitmap-index")
	return err
}

// phases are the measured steps of one run, in order.
var phases = []string{"fetch", "edit", "validate", "revalidate", "render", "commit", "push", "total"}

func measure(ctx context.Context, f flags, url string) error {
	opts := []gitrepo.Option{gitrepo.WithToken(f.token)}
	if f.verbose {
		start := time.Now()
		opts = append(opts, gitrepo.WithLogf(func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%8s "+format+"\n", append([]any{time.Since(start).Round(time.Millisecond)}, args...)...)
		}))
	}
	remote, err := gitrepo.New(url, opts...)
	if err != nil {
		return err
	}
	author := gitrepo.Signature{Name: "bench", Email: "bench@example.com"}
	if f.cpuprofile != "" {
		prof, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	times := map[string][]time.Duration{}
	stamp := time.Now().Unix()
	for i := range f.runs {
		ref, err := image.Parse(fmt.Sprintf("ghcr.io/acme/envoy:1.31.%d-%d", stamp, i))
		if err != nil {
			return err
		}
		got, err := once(ctx, f, remote, ref, author)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		var line []string
		for _, p := range phases {
			if d, ok := got[p]; ok {
				times[p] = append(times[p], d)
				line = append(line, fmt.Sprintf("%s %s", p, d.Round(time.Millisecond)))
			}
			if d, ok := got[p+" cpu"]; ok {
				times[p+" cpu"] = append(times[p+" cpu"], d)
				line[len(line)-1] += fmt.Sprintf(" (cpu %s)", d.Round(time.Millisecond))
			}
		}
		fmt.Printf("run %d: %s\n", i+1, strings.Join(line, ", "))
	}
	var line []string
	for _, p := range phases {
		if ds := times[p]; len(ds) > 0 {
			slices.Sort(ds)
			line = append(line, fmt.Sprintf("%s %s", p, ds[len(ds)/2].Round(time.Millisecond)))
		}
	}
	fmt.Printf("median of %d: %s\n", f.runs, strings.Join(line, ", "))
	if med := medians(times); med["render"] > 0 {
		for _, unit := range []string{"", " cpu"} {
			base := med["edit"+unit] + med["validate"+unit]
			fmt.Printf("rendered change%s: %s on edit + validate %s: +%.0f%% (less the revalidation it includes: +%.0f%%)\n",
				unit, med["render"+unit].Round(time.Millisecond), base.Round(time.Millisecond),
				100*float64(med["render"+unit])/float64(base), 100*float64(med["render"+unit]-med["revalidate"+unit])/float64(base))
		}
	}
	return nil
}

// once runs one promotion and returns the duration of each phase.
func once(ctx context.Context, f flags, remote *gitrepo.Remote, ref image.Ref, author gitrepo.Signature) (map[string]time.Duration, error) {
	got := map[string]time.Duration{}
	start := time.Now()
	step := func(name string, fn func() error) error {
		t, c := time.Now(), cpuTime()
		err := fn()
		got[name] = time.Since(t)
		got[name+" cpu"] = cpuTime() - c
		return err
	}
	var snap *gitrepo.Snapshot
	if err := step("fetch", func() (err error) { snap, err = remote.Fetch(ctx, "main"); return err }); err != nil {
		return nil, err
	}
	var res *kustomize.Result
	req := kustomize.Request{Overlays: []string{prodGlob}, Images: []image.Ref{ref}}
	if err := step("edit", func() (err error) { res, err = kustomize.Edit(snap.FS(), req); return err }); err != nil {
		return nil, err
	}
	if len(res.Files) != f.lay.apps() {
		return nil, fmt.Errorf("edit changed %d files; want %d", len(res.Files), f.lay.apps())
	}
	if f.validate {
		v := kustomize.NewValidator()
		if err := step("validate", func() error { return v.Validate(snap.FS(), res.Files, res.Overlays) }); err != nil {
			return nil, err
		}
		// What a retry after a lost push race pays where the overlays'
		// inputs did not change: the Validator checks, builds nothing.
		if err := step("revalidate", func() error { return v.Validate(snap.FS(), res.Files, res.Overlays) }); err != nil {
			return nil, err
		}
		// The rendered change (what the run's validate phase adds for the
		// PR body and the summary): RenderDiff on the same Validator is a
		// revalidation (nothing rebuilt, its builds are the "after" side)
		// plus one build per overlay of the files before the edit.
		if err := step("render", func() error {
			diffs, skipped, err := v.RenderDiff(snap.FS(), res.Files, res.Overlays)
			if err == nil && (len(diffs) != len(res.Files) || len(skipped) > 0) {
				err = fmt.Errorf("rendered %d changed objects (%d overlays skipped); want one Deployment per overlay, %d", len(diffs), len(skipped), len(res.Files))
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	if f.push {
		files := make([]gitrepo.File, 0, len(res.Files))
		for _, e := range res.Files {
			files = append(files, gitrepo.File{Path: e.Path, Content: e.After})
		}
		var sha string
		if err := step("commit", func() (err error) {
			sha, err = snap.Commit(files, "Deploy "+ref.String()+"\n", author)
			return err
		}); err != nil {
			return nil, err
		}
		if err := step("push", func() error { return snap.Push(ctx, sha, "main") }); err != nil {
			if errors.Is(err, gitrepo.ErrNonFastForward) {
				return nil, fmt.Errorf("someone else pushed to the benchmark's server: %w", err)
			}
			return nil, err
		}
	}
	got["total"] = time.Since(start) - got["revalidate"] // a run validates once
	return got, nil
}

// medians is the median duration of each phase.
func medians(times map[string][]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for p, ds := range times {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		out[p] = ds[len(ds)/2]
	}
	return out
}

// cpuTime is the user and system CPU time of the process so far: under a
// load that shares the cores, a phase's CPU time says more than its wall
// time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
