package world

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestAComponentThatDoesNotComeUpNamesItself: the error names the component and carries the
// tail of its log.
func TestAComponentThatDoesNotComeUpNamesItself(t *testing.T) {
	w := &World{Dir: t.TempDir(), BinDir: t.TempDir(), logf: func(string, ...any) {}}
	defer w.Close()
	p, err := w.StartProcess("fake-controller", "/bin/sh", []string{"-c", "echo listening failed: address in use; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = w.WaitUp(context.Background(), p, 30*time.Second, func(context.Context) error { return errors.New("not yet") })
	if err == nil {
		t.Fatal("WaitUp succeeded for a process that exited")
	}
	for _, s := range []string{"fake-controller exited", "listening failed: address in use"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// TestAMissingBinaryNamesTheBuildCommand: a bin folder without the binaries, or no build at
// all, says how to build them.
func TestAMissingBinaryNamesTheBuildCommand(t *testing.T) {
	_, err := Start(context.Background(), WithSeed(os.DirFS(t.TempDir())), WithBinDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "make realworld-build") {
		t.Errorf("Start with an empty bin folder: %v, want an error naming make realworld-build", err)
	}
	t.Setenv("GITOPS_PROMOTE_REALWORLD_BIN", "")
	t.Setenv("GITOPS_PROMOTE_REALWORLD_CACHE", t.TempDir())
	_, err = lookBinDir(context.Background())
	if err == nil || !strings.Contains(err.Error(), "make realworld-build") {
		t.Errorf("lookBinDir with an empty cache: %v, want an error naming make realworld-build", err)
	}
}
