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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one process of the world: its log goes to a file in the world's folder.
type Proc struct {
	Name    string // the component, e.g. "kube-apiserver"
	LogPath string
	cmd     *exec.Cmd
	log     *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // its exit, valid after done
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Tail is the end of the process's log, at most n lines.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.LogPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Proc) stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.done
	}
}

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
	logPath := filepath.Join(w.Dir, "logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = w.Dir
	// Own process group (Close kills children too: git and kustomize of the repo-server), and
	// killed with us if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, path, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	w.logf("started %s (pid %d), log %s", name, p.Pid(), logPath)
	return p, nil
}

// WaitUp waits until ready answers nil, the process exits, or timeout. Its error names the
// component and carries the tail of its log.
func (w *World) WaitUp(ctx context.Context, p *Proc, timeout time.Duration, ready func(ctx context.Context) error) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = ready(cctx)
		ccancel()
		if last == nil {
			w.logf("%s up in %s", p.Name, time.Since(start).Round(10*time.Millisecond))
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%w) before it came up; last lines of %s:\n%s", p.Name, p.err, p.LogPath, p.Tail(30))
		case <-ctx.Done():
			return fmt.Errorf("%s did not come up within %s (%w); last lines of %s:\n%s", p.Name, timeout, last, p.LogPath, p.Tail(30))
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// FreePort is a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// freePorts is n distinct free ports.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// tcpReady answers nil once the port accepts a connection.
func tcpReady(port int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr(port))
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
		c, err := d.DialContext(ctx, "tcp", addr(port))
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
