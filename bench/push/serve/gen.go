package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
)

// genSpec shapes the generated config repository:
// apps/team-TT/app-NNNN/{README.md, base/4 files, overlays/<4 envs>/kustomization.yaml,
// overlays/{staging,prod,canary}/patch.yaml}: 12 files and 4 overlays an app.
type genSpec struct {
	Teams       int
	AppsPerTeam int
	Commits     int
}

// numEnvs is the number of overlays an app has: dev, staging, prod, canary.
const numEnvs = 4

func (g genSpec) apps() int     { return g.Teams * g.AppsPerTeam }
func (g genSpec) overlays() int { return g.apps() * numEnvs }
func (g genSpec) files() int    { return g.apps() * 12 }

// appDir is the folder of app i.
func (g genSpec) appDir(i int) string {
	return fmt.Sprintf("apps/team-%02d/app-%04d", i/g.AppsPerTeam, i)
}

// write emits a git fast-import stream: one commit adding every file, then
// Commits-1 commits each bumping the tag of one overlay.
func (g genSpec) write(w *bufio.Writer) error {
	envs := [numEnvs]string{"dev", "staging", "prod", "canary"}
	rng := rand.New(rand.NewPCG(1, 2))
	tags := make([]int, g.overlays())
	when := int64(1700000000)
	commit := func(msg string) {
		when += 60
		fmt.Fprintf(w, "commit refs/heads/main\nauthor Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n", when, when)
		data(w, msg)
	}
	commit("Initial config\n")
	for i := 0; i < g.apps(); i++ {
		dir := g.appDir(i)
		name := fmt.Sprintf("app-%04d", i)
		file(w, dir+"/README.md", fmt.Sprintf("# %s\n\nOwned by team %02d.\n", name, i/g.AppsPerTeam))
		file(w, dir+"/base/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n- service.yaml\n- configmap.yaml\n")
		file(w, dir+"/base/deployment.yaml", deployment(name))
		file(w, dir+"/base/service.yaml", fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  selector:\n    app: %s\n  ports:\n  - port: 80\n    targetPort: 8080\n", name, name))
		file(w, dir+"/base/configmap.yaml", fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: \"a,b,c\"\n", name))
		for e, env := range envs {
			file(w, fmt.Sprintf("%s/overlays/%s/kustomization.yaml", dir, env), overlay(name, env, 0))
			if e > 0 {
				file(w, fmt.Sprintf("%s/overlays/%s/patch.yaml", dir, env), fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  replicas: %d\n", name, 2*e))
			}
		}
	}
	w.WriteString("\n")
	for c := 1; c < g.Commits; c++ {
		o := rng.IntN(g.overlays())
		tags[o]++
		app, env := o/len(envs), envs[o%len(envs)]
		name := fmt.Sprintf("app-%04d", app)
		commit(fmt.Sprintf("Deploy %s %s 1.%d.0\n", name, env, tags[o]))
		file(w, fmt.Sprintf("%s/overlays/%s/kustomization.yaml", g.appDir(app), env), overlay(name, env, tags[o]))
		w.WriteString("\n")
	}
	w.WriteString("done\n")
	return nil
}

func data(w *bufio.Writer, s string) {
	fmt.Fprintf(w, "data %d\n%s", len(s), s)
}

func file(w *bufio.Writer, path, content string) {
	fmt.Fprintf(w, "M 100644 inline %s\n", path)
	data(w, content)
}

func overlay(name, env string, tag int) string {
	patch := "patches:\n- path: patch.yaml\n"
	if env == "dev" {
		patch = ""
	}
	return fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %[1]s-%[2]s
resources:
- ../../base
%[3]simages:
- name: ghcr.io/acme/%[1]s
  newTag: "1.%[4]d.0" # bumped by CI
`, name, env, patch, tag)
}

func deployment(name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels:
    app: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: %[1]s
        image: ghcr.io/acme/%[1]s
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
          limits:
            memory: 128Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
`, name)
}
