package gitopspromote_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

type actionFile struct {
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
	Branding map[string]string `yaml:"branding"`
}

// action.yml is the Action's contract: every input `run` reads, with the tool's own defaults,
// every output `run` writes, and a Docker runtime that runs `run`.
func TestActionYAMLMatchesTheContract(t *testing.T) {
	b, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}

	var wantInputs []string
	for _, s := range config.Specs() {
		if !slices.Contains(s.Verbs, config.VerbRun) {
			continue
		}
		wantInputs = append(wantInputs, s.Name)
		in, ok := a.Inputs[s.Name]
		switch {
		case !ok:
			t.Errorf("action.yml lacks input %q", s.Name)
			continue
		case in.Description == "":
			t.Errorf("input %q has no description", s.Name)
		case in.Required && s.Name != config.InOverlays:
			t.Errorf("input %q is required in action.yml; only overlays is", s.Name)
		}
		got := ""
		if in.Default != nil {
			got = *in.Default
		}
		if strings.HasPrefix(got, "${{") { // the runner fills it, e.g. github.token
			continue
		}
		if got != s.Default {
			t.Errorf("input %q: action.yml default %q, the tool's default %q", s.Name, got, s.Default)
		}
	}
	var gotInputs []string
	for name := range a.Inputs {
		gotInputs = append(gotInputs, name)
	}
	slices.Sort(wantInputs)
	slices.Sort(gotInputs)
	if diff := cmp.Diff(wantInputs, gotInputs); diff != "" {
		t.Errorf("inputs of action.yml (-run reads +action.yml declares):\n%s", diff)
	}

	var wantOutputs, gotOutputs []string
	for _, o := range (&promote.Result{}).Outputs() {
		wantOutputs = append(wantOutputs, o.Name)
	}
	for name, o := range a.Outputs {
		gotOutputs = append(gotOutputs, name)
		if o.Description == "" {
			t.Errorf("output %q has no description", name)
		}
	}
	slices.Sort(wantOutputs)
	slices.Sort(gotOutputs)
	if diff := cmp.Diff(wantOutputs, gotOutputs); diff != "" {
		t.Errorf("outputs of action.yml (-run writes +action.yml declares):\n%s", diff)
	}

	if a.Runs.Using != "docker" || a.Runs.Image != "Dockerfile" || !slices.Equal(a.Runs.Args, []string{"run"}) {
		t.Errorf("runs = %+v, want docker, Dockerfile, [run] (release.yml swaps the image for docker://ghcr.io/...)", a.Runs)
	}
	if a.Branding["icon"] == "" || a.Branding["color"] == "" {
		t.Errorf("branding = %v, want an icon and a color", a.Branding)
	}
}

// The image GitHub runs: a static binary on distroless static, as root (the default user:
// GitHub's Docker actions need it to write the runner's files), no git, entrypoint the tool.
func TestDockerfileFinalStage(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := regexp.MustCompile(`(?m)^FROM `).Split(string(b), -1)
	final := stages[len(stages)-1]
	for _, want := range []string{"gcr.io/distroless/static", `ENTRYPOINT ["/usr/local/bin/gitops-promote"]`, `CMD ["run"]`} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage lacks %q:\n%s", want, final)
		}
	}
	if strings.Contains(final, ":nonroot") || regexp.MustCompile(`(?m)^USER `).MatchString(final) {
		t.Errorf("final stage changes the user; Docker actions must run as the image's default (root):\n%s", final)
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
	if regexp.MustCompile(`(?m)^RUN .*apt-get install .*\bgit\b`).MatchString(final) {
		t.Error("the final image installs git; the tool needs none")
	}
}
