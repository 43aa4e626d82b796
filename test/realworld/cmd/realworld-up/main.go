// Command realworld-up brings up the real-world stack (a real Argo CD on a real kube-apiserver,
// the sandbox git server) with the example config repository and two applications, prints
// how to use it, and keeps it running until interrupted. `make realworld-up` runs it.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/test/realworld/world"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { log.Printf(format, args...) }
	w, err := world.Start(ctx,
		world.WithSeed(gitopspromote.Example()),
		world.WithApps(
			world.App{Name: "user-service-staging", Paths: []string{"apps/user-service/overlays/staging"}, AutoSync: true},
			world.App{Name: "order-service-staging", Paths: []string{"apps/order-service/overlays/staging"}, AutoSync: true},
		),
		world.WithKeepDir(),
		world.WithLogf(logf))
	if err != nil {
		log.Fatalf("realworld-up: %v", err)
	}
	defer w.Close()
	fmt.Printf(`
The real-world stack is up (folder %[1]s, logs in %[1]s/logs).

  Argo CD API   %[2]s   admin password %[3]s
                API token of the "ci" account: export ARGOCD_AUTH_TOKEN=%[4]s
  argocd CLI    %[5]s/argocd --server %[6]s --plaintext --auth-token "$ARGOCD_AUTH_TOKEN" app list
  Kubernetes    export KUBECONFIG=%[7]s
  git           %[8]s (user x-access-token, password %[9]s)

Try a promotion:
  go run ./cmd/gitops-promote run --repository-url %[8]s --token %[9]s --mode push \
    --overlays apps/user-service/overlays/staging --images ghcr.io/acme/user-service:1.5.0 \
    --argocd-server %[2]s --argocd-token "$ARGOCD_AUTH_TOKEN" --argocd-apps user-service-staging

Ctrl-C stops everything.
`, w.Dir, w.ArgoCDURL, w.AdminPassword, w.ArgoCDToken, w.BinDir, w.ArgoCDAddr, w.Kubeconfig, w.RepoURL, w.GitToken)
	for {
		select {
		case <-ctx.Done():
			log.Printf("stopping; the logs stay in %s/logs", w.Dir)
			return
		case <-time.After(5 * time.Second):
			for _, p := range w.Procs() {
				if p.Exited() {
					log.Printf("%s exited; last lines of its log:\n%s", p.Name, p.Tail(20))
					return
				}
			}
		}
	}
}
