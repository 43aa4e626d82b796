package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// layout shapes the generated config repository: every app's base builds
// on one shared base (bases/web, six resources) and one shared component
// (components/monitoring), so each overlay's build reads the same shared
// files again; each app has a staging and a prod overlay.
//
//	bases/web/{kustomization.yaml, deployment.yaml, service.yaml, hpa.yaml, pdb.yaml, serviceaccount.yaml, networkpolicy.yaml}
//	components/monitoring/{kustomization.yaml, servicemonitor.yaml}
//	apps/team-TT/app-NNNN/{README.md, base/kustomization.yaml,
//	                       overlays/{staging,prod}/{kustomization.yaml, patch.yaml}}
type layout struct {
	Teams       int
	AppsPerTeam int
}

func (l layout) apps() int { return l.Teams * l.AppsPerTeam }

// files is the number of files write makes.
func (l layout) files() int { return 9 + l.apps()*6 }

func (l layout) appDir(i int) string {
	return fmt.Sprintf("apps/team-%02d/app-%04d", i/l.AppsPerTeam, i)
}

// prodGlob matches every prod overlay.
const prodGlob = "apps/*/*/overlays/prod"

// write creates the tree under dir.
func (l layout) write(dir string) error {
	put := func(p, content string) error {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return os.WriteFile(full, []byte(content), 0o644)
	}
	for p, content := range sharedFiles {
		if err := put(p, content); err != nil {
			return fmt.Errorf("writing %q: %w", p, err)
		}
	}
	for i := range l.apps() {
		d, name := l.appDir(i), fmt.Sprintf("app-%04d", i)
		files := map[string]string{
			d + "/README.md":                           fmt.Sprintf("# %s\n\nOwned by team %02d.\n", name, i/l.AppsPerTeam),
			d + "/base/kustomization.yaml":             appBase(name),
			d + "/overlays/staging/kustomization.yaml": overlay(name, "staging"),
			d + "/overlays/staging/patch.yaml":         patch(name, 2),
			d + "/overlays/prod/kustomization.yaml":    overlay(name, "prod"),
			d + "/overlays/prod/patch.yaml":            patch(name, 4),
		}
		for p, content := range files {
			if err := put(p, content); err != nil {
				return fmt.Errorf("writing %q: %w", p, err)
			}
		}
	}
	return nil
}

func appBase(name string) string {
	return fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: %[1]s-
labels:
- pairs:
    app.kubernetes.io/name: %[1]s
  includeSelectors: true
resources:
- ../../../../bases/web
components:
- ../../../../components/monitoring
configMapGenerator:
- name: settings
  literals:
  - APP=%[1]s
  - LOG_LEVEL=info
`, name)
}

func overlay(name, env string) string {
	return fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# %[1]s in %[2]s: the tags are bumped by CI.
namespace: %[1]s-%[2]s
resources:
- ../../base
patches:
- path: patch.yaml
images:
- name: ghcr.io/acme/web
  newName: ghcr.io/acme/%[1]s
  newTag: "1.0.0" # app
- name: ghcr.io/acme/envoy
  newTag: 1.30.0 # sidecar, same in every app
`, name, env)
}

func patch(name string, replicas int) string {
	return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: %d\n", replicas)
}

var sharedFiles = map[string]string{
	"bases/web/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- serviceaccount.yaml
- deployment.yaml
- service.yaml
- hpa.yaml
- pdb.yaml
- networkpolicy.yaml
`,
	"bases/web/serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n",
	"bases/web/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      component: web
  template:
    metadata:
      labels:
        component: web
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: ghcr.io/acme/web
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef:
            name: settings
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
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8080
          initialDelaySeconds: 10
      - name: envoy
        image: ghcr.io/acme/envoy
        args: ["--config-path", "/etc/envoy/envoy.yaml"]
        ports:
        - containerPort: 9901
`,
	"bases/web/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    component: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
`,
	"bases/web/hpa.yaml": `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
`,
	"bases/web/pdb.yaml": `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels:
      component: web
`,
	"bases/web/networkpolicy.yaml": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector:
    matchLabels:
      component: web
  ingress:
  - ports:
    - port: 8080
`,
	"components/monitoring/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
- servicemonitor.yaml
`,
	"components/monitoring/servicemonitor.yaml": `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web
spec:
  selector:
    matchLabels:
      component: web
  endpoints:
  - port: http
    interval: 30s
`,
}
