# Image of the manager, for docker-build, deploy and build-installer.
IMG ?= controller:latest

# Every tool is pinned here and built from the Go module proxy into bin/, once
# per version; nothing is downloaded from anywhere else.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.7.1
KIND_VERSION ?= v0.33.0
KWOK_VERSION ?= v0.8.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
KIND ?= $(LOCALBIN)/kind-$(KIND_VERSION)
KWOK ?= $(LOCALBIN)/kwok-$(KWOK_VERSION)

# Packaging and alerting: test/manifests runs the real tools on the
# shipped manifests, helm lint and template on charts/labelgroup-operator and promtool on the
# rules of the rendered PrometheusRule. helm is built from its Go module into
# bin/ once per version; promtool comes from Debian's prometheus package, and
# so does the prometheus that test/integration/dashboard runs every query of
# the Grafana dashboard on.
HELM_VERSION ?= v3.22.0
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
export HELM
MANIFEST_TEST_TOOLS := $(HELM) promtool

# kube-apiserver, etcd and the kind node's components are built from k8s.io/kubernetes
# at the version hack/tools/go.mod pins (see hack/tools). A new pin builds into a
# new folder; an unchanged pin reuses the cached binaries.
K8S_VERSION := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' hack/tools/go.mod)
K8S_BIN := $(LOCALBIN)/k8s-$(K8S_VERSION)
CONTROL_PLANE_BINARIES := $(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd

# A KUBEBUILDER_ASSETS given by the caller wins over the binaries built here.
ifeq ($(origin KUBEBUILDER_ASSETS),undefined)
KUBEBUILDER_ASSETS := $(K8S_BIN)
ENVTEST_BINARIES := $(CONTROL_PLANE_BINARIES)
endif
export KUBEBUILDER_ASSETS

# The Go modules: the product at the root (what the manager and the plugin
# import), test/ (every suite and the measuring harness) and hack/ (the image,
# cluster and dashboard tools), each with its own go.mod so that the product's
# lists only what it ships. hack/krew pins krew apart; hack/tools pins the
# Kubernetes binaries, which their builds check (go vet would type-check all of
# Kubernetes).
GO_MODULES := . test hack hack/krew

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-24s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and the RBAC role from the markers in the code, and the Grafana dashboard from hack/dashboard.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	go -C hack run ./dashboard -out ../config/grafana/labelgroup-operator.json
	$(MAKE) --no-print-directory chart-files

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against the code of every module.
	for m in $(GO_MODULES); do go -C $$m fmt ./...; done

.PHONY: vet
vet: ## Run go vet against the code of every module.
	for m in $(GO_MODULES); do go -C $$m vet ./...; done
	go -C test vet -tags e2e ./e2e/...

.PHONY: verify
verify: $(CONTROLLER_GEN) ## Regenerate CRDs, RBAC and deepcopy and fail if anything changed or is unformatted.
	hack/verify.sh

.PHONY: test
test: verify vet $(ENVTEST_BINARIES) $(MANIFEST_TEST_TOOLS) ## Run every test: verify, unit, envtest integration, manifests (helm, promtool, PSA), e2e on kind.
	go test ./... -coverprofile cover.out -coverpkg=$(COVER_PACKAGES)
	go -C test test ./... -coverprofile ../cover-test.out -coverpkg=$(COVER_PACKAGES)
	go -C hack test ./...
	tail -n +2 cover-test.out >> cover.out && rm cover-test.out
	go tool cover -func cover.out | tail -n 1
	$(MAKE) --no-print-directory test-krew
	$(MAKE) test-e2e

.PHONY: bench
bench: ## Run the benchmarks of the pure packages.
	go test ./internal/... -run '^$$' -bench . -benchmem

# Coverage counts the product's packages, from its own unit tests and the
# test module's suites.
COVER_PACKAGES := github.com/labelgroup/labelgroup-operator/api/...,github.com/labelgroup/labelgroup-operator/internal/...

##@ Packaging and alerting: the Helm chart, promtool

.PHONY: chart-files
chart-files: $(KUSTOMIZE) ## Copy the generated CRD, the manager's roles, the alert rules, the dashboard and the admission policies into charts/labelgroup-operator (make manifests runs it).
	rm -f charts/labelgroup-operator/crds/*.yaml
	cp config/crd/bases/*.yaml charts/labelgroup-operator/crds/
	cp config/rbac/role.yaml charts/labelgroup-operator/files/manager-role.yaml
	cp config/prometheus/prometheus_rule.yaml charts/labelgroup-operator/files/prometheus-rule.yaml
	cp config/grafana/labelgroup-operator.json charts/labelgroup-operator/files/grafana-dashboard.json
	cp config/admission/policy.yaml charts/labelgroup-operator/files/admission-policy.yaml
	cp config/admission/binding.yaml charts/labelgroup-operator/files/admission-binding.yaml
	$(KUSTOMIZE) build config/admission-pdb > charts/labelgroup-operator/files/admission-pdb.yaml
	cp config/components/member-metadata/role.yaml charts/labelgroup-operator/files/member-metadata-role.yaml
	cp config/components/pod-disruption-budgets/role.yaml charts/labelgroup-operator/files/pod-disruption-budgets-role.yaml

.PHONY: promtool
promtool: ## Install promtool from Debian's prometheus package when missing (needs root).
	hack/install-promtool.sh

.PHONY: dashboard-screenshot
dashboard-screenshot: $(ENVTEST_BINARIES) promtool ## Retake docs/images/dashboard-overlap.png: headless Chromium on Prometheus's graph of the dashboard's overlap query, during test/integration/dashboard (about 3 minutes; not part of test).
	hack/apt-install.sh chromium
	mkdir -p docs/images
	DASHBOARD_SCREENSHOT=$(abspath docs/images/dashboard-overlap.png) go -C test test ./integration/dashboard/ -count=1 -v -timeout 10m

.PHONY: test-manifests
test-manifests: $(MANIFEST_TEST_TOOLS) ## Check the shipped manifests: helm lint/template, promtool, Prometheus Operator types, Pod Security.
	go -C test test ./manifests/... -count=1 -v

$(HELM):
	$(call go-install-tool,$@,helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: bench-admission
bench-admission: $(ENVTEST_BINARIES) ## Measure LabelGroup create latency with config/admission installed, on envtest (slow; not part of test).
	go -C test test ./integration/admission/ -run '^$$' -bench . -benchtime 10x -timeout 60m

.PHONY: sizing
sizing: $(ENVTEST_BINARIES) ## Measure the manager's convergence time and peak memory at 10,000 and 100,000 pods (envtest, about 10 minutes).
	go build -o bin/manager ./cmd/manager
	go -C test build -o $(LOCALBIN)/scale ./scale
	for pods in 10000 100000; do $(LOCALBIN)/scale sizing -manager bin/manager -pods $$pods; done
	$(LOCALBIN)/scale sizing -manager bin/manager -pods 100000 -memory-limit 268435456 # the shipped 256Mi

##@ Scale

# make bench-scale BENCH_SCALE_ARGS="--pods 5000 --churn-rate 100" changes the
# run; bin/scale bench --help lists the parameters.
BENCH_SCALE_ARGS ?=

.PHONY: bench-scale
bench-scale: $(CONTROL_PLANE_BINARIES) $(K8S_BIN)/kube-controller-manager $(KWOK) ## Compare the operator with the EndpointSlice controller at 10,000 pods (not part of make test; see docs/performance.md).
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go -C test build -o $(LOCALBIN)/scale ./scale
	$(LOCALBIN)/scale bench --assets $(K8S_BIN) --kwok $(KWOK) --operator $(LOCALBIN)/manager \
		--crd-dir config/crd/bases --out-dir $(LOCALBIN)/bench-scale $(BENCH_SCALE_ARGS)

##@ Build

.PHONY: demo
demo: build $(CONTROL_PLANE_BINARIES) ## Run the operator and the samples on an embedded control plane (envtest: no cluster, no Docker), until Ctrl-C.
	go -C hack build -o $(LOCALBIN)/demo-control-plane ./demo
	$(LOCALBIN)/demo-control-plane --crd-dir config/crd/bases --dir bin/demo -- hack/demo.sh \
		|| [ $$? -eq 130 ] # Ctrl-C is how the demo ends (go run would turn 130 into 1)

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager ./cmd/manager

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./cmd/manager

# DOCKER_BUILD_ARGS may select other base images: --build-arg BUILDER_IMAGE=...
# --build-arg RUNTIME_IMAGE=... (see the Dockerfile).
DOCKER_BUILD_ARGS ?=

.PHONY: docker-build
docker-build: ## Build the manager's container image (needs a Docker engine).
	docker build $(DOCKER_BUILD_ARGS) -t $(IMG) .

.PHONY: docker-build-local
docker-build-local: ## Build the Dockerfile on local stand-ins for its base images (no registry) and run the image as non-root with --help.
	$(WITH_DOCKER) hack/docker-build-local.sh $(IMG)

.PHONY: build-installer
build-installer: manifests generate $(KUSTOMIZE) ## Write dist/install.yaml: the CRD and everything the manager needs.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRD into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | kubectl apply -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Uninstall the CRD. Call with ignore-not-found=true to ignore resource not found errors.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the manager to the cluster in ~/.kube/config.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Undeploy the manager. Call with ignore-not-found=true to ignore resource not found errors.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

##@ Images

# Image tarballs made with no registry and no Docker (hack/imagetar). Their
# names start with localhost/ so that nothing ever tries to pull them.
PAUSE_IMAGE_TAR ?= $(LOCALBIN)/pause.tar
E2E_IMG ?= localhost/labelgroup-operator:e2e
MANAGER_IMAGE_TAR ?= $(LOCALBIN)/manager-image.tar

.PHONY: pause-image
pause-image: ## Build the pause image tarball (the node image's sandbox image, and docker-check's container).
	CGO_ENABLED=0 go -C hack build -trimpath -ldflags=-s -o $(LOCALBIN)/pause ./pause
	go -C hack run ./imagetar --binary $(LOCALBIN)/pause --image localhost/pause:dev --out $(PAUSE_IMAGE_TAR)

.PHONY: manager-image-tar
manager-image-tar: ## Pack a static manager binary into an image tarball (non-root), which test-e2e kind-loads.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/static/manager ./cmd/manager
	go -C hack run ./imagetar --binary $(LOCALBIN)/static/manager --image $(E2E_IMG) --out $(MANAGER_IMAGE_TAR)

##@ Docker

# hack/with-docker.sh runs a command with a Docker engine that starts
# privileged containers: it installs docker.io when missing, and starts dockerd
# for the command's length when none is running (with hack/boundedrunc as its
# runtime where the capability bounding set is not full).
WITH_DOCKER ?= hack/with-docker.sh

.PHONY: docker-check
docker-check: pause-image ## Check that Docker runs a privileged container and a privileged exec (starts and stops dockerd if none runs).
	$(WITH_DOCKER) hack/check-privileged.sh $(PAUSE_IMAGE_TAR)

##@ E2E

# The e2e suite (test/e2e, build tag e2e) proves the operator as shipped on
# the cluster KUBECONFIG names; test-e2e gives it a new kind cluster.
E2E_TEST ?= go -C test test -tags e2e ./e2e/... -count=1 -timeout 30m -v -ginkgo.v
KIND_CLUSTER ?= labelgroup-operator-e2e
E2E_KIND_KUBECONFIG ?= $(LOCALBIN)/e2e-kind/kubeconfig

# kind's node image. Unless KIND_NODE_IMAGE is given (say, the official
# kindest/node image, where a registry can be reached), it is built here with no
# registry by hack/kind-node-image.sh: Debian packages, the Kubernetes binaries
# of the pinned sources, and kind's base image files from its Go module; cached
# in bin/kind-node by a key of its inputs.
ifeq ($(origin KIND_NODE_IMAGE),undefined)
KIND_NODE_IMAGE := localhost/kind-node:$(K8S_VERSION)
KIND_NODE_IMAGE_DEPS := kind-node-image
endif
NODE_IMAGE_BINARIES := $(addprefix $(K8S_BIN)/,kubelet kubeadm kubectl kube-proxy kube-apiserver kube-controller-manager kube-scheduler etcd)
IMAGETAR := $(LOCALBIN)/imagetar
# The kind module's files (images/base/files) are read from the module cache.
KIND_DIR = $(shell cd / && go mod download -json sigs.k8s.io/kind@$(KIND_VERSION) | awk -F'"' '$$2 == "Dir" { print $$4 }')

$(IMAGETAR): $(wildcard hack/imagetar/*.go)
	go -C hack build -o $@ ./imagetar

.PHONY: kind-node-image
kind-node-image: $(NODE_IMAGE_BINARIES) pause-image $(IMAGETAR) ## Build the kind node image KIND_NODE_IMAGE from pinned sources and Debian packages (cached; needs root and Docker).
	$(WITH_DOCKER) env K8S_BIN=$(K8S_BIN) K8S_VERSION=$(K8S_VERSION) PAUSE_BINARY=$(LOCALBIN)/pause \
		KIND_DIR=$(KIND_DIR) IMAGETAR=$(IMAGETAR) NODE_DIR=$(LOCALBIN)/kind-node \
		hack/kind-node-image.sh $(KIND_NODE_IMAGE)

# hack/e2e-kind.sh creates the cluster, loads the manager's image, deploys
# config/e2e-kind (config/default with that image), runs the suite and deletes
# the cluster, pass or fail; with-docker.sh stops the dockerd it started.
.PHONY: test-e2e
test-e2e: $(KIND) $(KIND_NODE_IMAGE_DEPS) manager-image-tar ## Run the e2e suite on a new kind cluster: kind create, kind load, deploy, test, delete the cluster (needs root; starts Docker if needed).
	$(WITH_DOCKER) env KIND=$(KIND) KIND_CLUSTER=$(KIND_CLUSTER) KIND_NODE_IMAGE=$(KIND_NODE_IMAGE) \
		KIND_KUBECONFIG=$(E2E_KIND_KUBECONFIG) E2E_IMAGE_ARCHIVE=$(MANAGER_IMAGE_TAR) \
		hack/e2e-kind.sh $(E2E_TEST)

##@ Tools

.PHONY: control-plane-binaries
control-plane-binaries: $(CONTROL_PLANE_BINARIES) ## Build kube-apiserver and etcd for envtest and the demo.

# The version stamp makes the binaries report the pinned release (kubectl
# version, the node's kubeletVersion) instead of v0.0.0-master.
K8S_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(patsubst v%,%,$(word 1,$(subst ., ,$(K8S_VERSION)))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(K8S_VERSION)))

$(K8S_BIN)/%: hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && go build -ldflags "$(K8S_LDFLAGS)" -o $@ ./$*

$(CONTROLLER_GEN):
	$(call go-install-tool,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

$(KUSTOMIZE):
	$(call go-install-tool,$@,sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

$(KIND):
	$(call go-install-tool,$@,sigs.k8s.io/kind,$(KIND_VERSION))

$(KWOK):
	$(call go-install-tool,$@,sigs.k8s.io/kwok/cmd/kwok,$(KWOK_VERSION))

# go-install-tool installs package $2 at version $3 as the file $1.
define go-install-tool
@set -e; tmp=$$(mktemp -d); \
echo "Installing $(2)@$(3) as $(1)"; \
GOBIN=$$tmp go install $(2)@$(3); \
mkdir -p $(LOCALBIN); mv $$tmp/* $(1); rm -rf $$tmp
endef

##@ kubectl plugin

# kubectl-labelgroup, built into bin/: with bin/ on PATH, kubectl runs it as
# `kubectl labelgroup`. make build builds it, and the e2e targets build it and
# put bin/ first on PATH, so the suite runs it the way users do.
PLUGIN ?= $(LOCALBIN)/kubectl-labelgroup

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-labelgroup.
	go build -o $(PLUGIN) ./cmd/kubectl-labelgroup

build: plugin
test-e2e: plugin
test-e2e: export PATH := $(LOCALBIN):$(PATH)

##@ Release: the plugin's archives and its krew manifest

# The release's version, v + the chart's appVersion unless given.
VERSION ?= v$(shell awk '$$1 == "appVersion:" { print $$2 }' charts/labelgroup-operator/Chart.yaml)
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE_DIST ?= dist/plugin

# krew is pinned in hack/krew/go.mod, a module of its own so that it never
# enters the product's go.mod; its binaries are built from there into bin/.
KREW_VERSION := $(shell awk '$$1 == "sigs.k8s.io/krew" { print $$2 }' hack/krew/go.mod)
KREW ?= $(LOCALBIN)/kubectl-krew-$(KREW_VERSION)
KREW_VALIDATE ?= $(LOCALBIN)/validate-krew-manifest-$(KREW_VERSION)
# The krew install test runs `kubectl krew`: the machine's kubectl, else the
# one built from hack/tools at the pinned Kubernetes version.
KUBECTL ?= $(or $(shell command -v kubectl 2>/dev/null),$(K8S_BIN)/kubectl)

.PHONY: release
release: ## Build the plugin's archives (linux, darwin; amd64, arm64; stripped) with their sha256 into dist/plugin, and write plugins/labelgroup.yaml, its krew manifest.
	rm -rf $(RELEASE_DIST)
	hack/release.sh $(VERSION) $(RELEASE_DIST) $(RELEASE_PLATFORMS)
	cd hack/krew && go run . -version $(VERSION) -dist $(abspath $(RELEASE_DIST)) -out $(abspath plugins/labelgroup.yaml)

.PHONY: test-krew
test-krew: $(KREW) $(KREW_VALIDATE) $(KUBECTL) ## Validate plugins/labelgroup.yaml with krew's validator, and install the plugin with krew from a local archive (make test runs it).
	cd hack/krew && KREW=$(KREW) KREW_VALIDATE=$(KREW_VALIDATE) KUBECTL=$(KUBECTL) go test ./... -count=1 -v

$(KREW): hack/krew/go.mod hack/krew/go.sum
	cd hack/krew && go build -o $@ sigs.k8s.io/krew/cmd/krew

$(KREW_VALIDATE): hack/krew/go.mod hack/krew/go.sum
	cd hack/krew && go build -o $@ sigs.k8s.io/krew/cmd/validate-krew-manifest
