// Package procs runs the processes of a real-world test stack: each in its own process group
// (stopped by its PID, killed with the test binary), its log in a file of the stack's folder,
// waited for until it answers, and its log's tail in every error about it.
package procs

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one process of a stack.
type Proc struct {
	Name    string // the component, e.g. "kube-apiserver"
	LogPath string
	cmd     *exec.Cmd
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

// Stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
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

// Group is the processes of one stack, in start order. Dir holds their logs (Dir/logs) and is
// their working folder; Logf hears one line per start and readiness.
type Group struct {
	Dir  string
	Logf func(format string, args ...any)

	mu    sync.Mutex
	procs []*Proc
}

func (g *Group) logf(format string, args ...any) {
	if g.Logf != nil {
		g.Logf(format, args...)
	}
}

// Start starts path as component name, in its own process group (its children, git and
// kustomize of Argo CD's repo-server say, stop with it), killed with us if the test binary dies.
func (g *Group) Start(name, path string, args, env []string) (*Proc, error) {
	logPath := filepath.Join(g.Dir, "logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Dir = env, g.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, path, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	g.logf("started %s (pid %d), log %s", name, p.Pid(), logPath)
	return p, nil
}

// WaitUp waits until ready answers nil, the process exits, or timeout. Its error names the
// component and carries the tail of its log.
func (g *Group) WaitUp(ctx context.Context, p *Proc, timeout time.Duration, ready func(ctx context.Context) error) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last := ready(cctx)
		ccancel()
		if last == nil {
			g.logf("%s up in %s", p.Name, time.Since(start).Round(10*time.Millisecond))
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

// All is every process of the group, in start order.
func (g *Group) All() []*Proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*Proc(nil), g.procs...)
}

// StopAll stops every process, newest first.
func (g *Group) StopAll(grace time.Duration) {
	all := g.All()
	for i := len(all) - 1; i >= 0; i-- {
		all[i].Stop(grace)
	}
}

// Logs is the tail of every process's log, for a failing test.
func (g *Group) Logs(n int) string {
	var b strings.Builder
	for _, p := range g.All() {
		fmt.Fprintf(&b, "==== %s (%s)\n%s\n", p.Name, p.LogPath, p.Tail(n))
	}
	return b.String()
}

// FreePorts is n distinct free TCP ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
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

// Addr is port on 127.0.0.1 as host:port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
