package world

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// Proc is one process of the world: its log goes to a file in the world's folder.
type Proc = procs.Proc

// StartProcess starts a component of the world with its own process group (stopped by Close)
// and its log in the world's folder. bin is a name in the world's bin folder, or a path.
// Later components (a notifications controller, Flux's controllers) start through this.
func (w *World) StartProcess(name, bin string, args, env []string) (*Proc, error) {
	path := bin
	if !filepath.IsAbs(bin) {
		if p := filepath.Join(w.BinDir, bin); fileExists(p) {
			path = p
		} else if p, err := exec.LookPath(bin); err == nil {
			path = p
		} else {
			return nil, fmt.Errorf("starting %s: no %q in %s or PATH: run 'make realworld-build' (test/realworld/build.sh)", name, bin, w.BinDir)
		}
	}
	return w.group.Start(name, path, args, env)
}

// WaitUp waits until ready answers nil, the process exits, or timeout. Its error names the
// component and carries the tail of its log.
func (w *World) WaitUp(ctx context.Context, p *Proc, timeout time.Duration, ready func(ctx context.Context) error) error {
	return w.group.WaitUp(ctx, p, timeout, ready)
}

// tcpReady answers nil once the port accepts a connection.
func tcpReady(port int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", procs.Addr(port))
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// redisReady answers nil once redis answers PING.
func redisReady(port int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", procs.Addr(port))
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(buf[:n], []byte("+PONG")) {
			return fmt.Errorf("PING answered %q", buf[:n])
		}
		return nil
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lookBinDir finds the bin folder of test/realworld/build.sh: $GITOPS_PROMOTE_REALWORLD_BIN, or
// what `build.sh --bin-dir` prints (it fails, naming the build command, when nothing is built).
func lookBinDir(ctx context.Context) (string, error) {
	if d := os.Getenv("GITOPS_PROMOTE_REALWORLD_BIN"); d != "" {
		return d, nil
	}
	script, err := buildScript()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script, "--bin-dir")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", errors.New(strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("running %s --bin-dir: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildScript finds test/realworld/build.sh from the working directory upwards.
func buildScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding test/realworld/build.sh: %w", err)
	}
	for {
		p := filepath.Join(dir, "test", "realworld", "build.sh")
		if fileExists(p) {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("test/realworld/build.sh not found above the working directory; set GITOPS_PROMOTE_REALWORLD_BIN to the folder of the built binaries")
		}
		dir = parent
	}
}
