# The commands a newcomer needs. `make test` is what CI runs (.ci/run).

KUSTOMIZE_VERSION ?= v5.8.0
BIN               := $(CURDIR)/bin
KUSTOMIZE         := $(BIN)/kustomize

.PHONY: test vet lint demo bench build fuzz realworld-build realworld realworld-up realworld-flux

## test: vet, then every test with the race detector (installs the kustomize CLI for the differential test)
test: $(KUSTOMIZE) vet
	KUSTOMIZE_BIN=$(KUSTOMIZE) go test -race -timeout 30m ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

## lint: golangci-lint v2 with .golangci.yml (built from the module proxy on first use; slow once)
GOLANGCI_LINT_VERSION ?= v2.15.0
lint: $(BIN)/golangci-lint
	$(BIN)/golangci-lint run ./...

$(BIN)/golangci-lint:
	GOBIN=$(BIN) GOFLAGS= go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## demo: a full promotion on the built-in sandbox
demo:
	go run ./cmd/gitops-promote demo

## build: a static binary in ./bin
build:
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/gitops-promote ./cmd/gitops-promote

## bench: refresh every figure of docs/benchmarks.md
bench: $(KUSTOMIZE) build
	KUSTOMIZE_BIN=$(KUSTOMIZE) bench/run.sh

# The real kustomize CLI, pinned, built from the module proxy (no binary download).
$(KUSTOMIZE):
	GOBIN=$(BIN) GOFLAGS= go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

## realworld-build: build the real-world tier's binaries once (Argo CD v3.2.11, kube-apiserver v1.34.2,
## kustomize v5.8.0 from the module proxy; etcd and redis from Debian). Cached: a second run takes seconds.
realworld-build:
	test/realworld/build.sh

## realworld: the real-world tier: the real gitops-promote binary against a real Argo CD on a real kube-apiserver
REALWORLD_TESTFLAGS ?= -v
realworld: realworld-build
	go test -tags realworld -count=1 -timeout 30m $(REALWORLD_TESTFLAGS) ./test/realworld/

## realworld-up: bring the real-world stack up with the example repository and leave it running (Ctrl-C stops it)
realworld-up: realworld-build
	go run ./test/realworld/cmd/realworld-up

## fuzz: a short fuzzing run of each input check (the seeds also run in `make test`)
FUZZTIME ?= 3s
fuzz:
	go test ./internal/actionio -run '^$$' -fuzz '^FuzzEscaper$$' -fuzztime $(FUZZTIME)
	go test ./internal/kustomize -run '^$$' -fuzz '^FuzzCheckPlainYAML$$' -fuzztime $(FUZZTIME)
	go test ./internal/kustomize -run '^$$' -fuzz '^FuzzIsRemote$$' -fuzztime $(FUZZTIME)

## realworld-flux: the Flux scenarios of the real-world tier: the binary against the real source-controller
## v1.9.3, kustomize-controller v1.9.6 and notification-controller v1.9.3 on a real kube-apiserver v1.34.2 (binaries built once and cached;
## kube-apiserver by test/realworld/build.sh, Flux by test/realworld/build.sh --flux)
realworld-flux: realworld-build
	test/realworld/build.sh --flux
	go test -tags realworld -count=1 -timeout 20m ./test/realworld/fluxtier/
