# Image of the manager, for docker-build, deploy and build-installer.
IMG ?= controller:latest

# Every tool is pinned here and built from the Go module proxy into bin/, once
# per version; nothing is downloaded from anywhere else.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.7.1
KIND_VERSION ?= v0.30.0
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

# kube-apiserver, etcd and the node components are built from k8s.io/kubernetes
# at the version hack/tools/go.mod pins (see hack/tools). A new pin builds into a
# new folder; an unchanged pin reuses the cached binaries.
K8S_VERSION := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' hack/tools/go.mod)
K8S_BIN := $(LOCALBIN)/k8s-$(K8S_VERSION)
CONTROL_PLANE_BINARIES := $(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd
NODE_BINARIES := $(K8S_BIN)/kube-controller-manager $(K8S_BIN)/kube-scheduler $(K8S_BIN)/kubelet

# A KUBEBUILDER_ASSETS given by the caller wins over the binaries built here.
ifeq ($(origin KUBEBUILDER_ASSETS),undefined)
KUBEBUILDER_ASSETS := $(K8S_BIN)
ENVTEST_BINARIES := $(CONTROL_PLANE_BINARIES)
endif
export KUBEBUILDER_ASSETS

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
	go run ./hack/dashboard
	$(MAKE) --no-print-directory chart-files

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against the code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against the code.
	go vet ./...
	go vet -tags e2e ./test/e2e/...
	cd hack/krew && go vet ./...

.PHONY: verify
verify: $(CONTROLLER_GEN) ## Regenerate CRDs, RBAC and deepcopy and fail if anything changed or is unformatted.
	hack/verify.sh

.PHONY: test
test: verify vet $(ENVTEST_BINARIES) $(MANIFEST_TEST_TOOLS) ## Run every test: verify, unit, envtest integration, manifests (helm, promtool, PSA), e2e on a local cluster.
	go test ./... -coverprofile cover.out -coverpkg=./api/...,./internal/...
	go tool cover -func cover.out | tail -n 1
	$(MAKE) --no-print-directory test-krew
	$(MAKE) test-e2e-local

.PHONY: bench
bench: ## Run the benchmarks of the pure packages.
	go test ./internal/... -run '^$$' -bench . -benchmem

##@ Packaging and alerting: the Helm chart, promtool

.PHONY: chart-files
chart-files: ## Copy the generated CRD, the manager's roles, the alert rules, the dashboard and the admission policy into charts/labelgroup-operator (make manifests runs it).
	rm -f charts/labelgroup-operator/crds/*.yaml
	cp config/crd/bases/*.yaml charts/labelgroup-operator/crds/
	cp config/rbac/role.yaml charts/labelgroup-operator/files/manager-role.yaml
	cp config/prometheus/prometheus_rule.yaml charts/labelgroup-operator/files/prometheus-rule.yaml
	cp config/grafana/labelgroup-operator.json charts/labelgroup-operator/files/grafana-dashboard.json
	cp config/admission/policy.yaml charts/labelgroup-operator/files/admission-policy.yaml
	cp config/admission/binding.yaml charts/labelgroup-operator/files/admission-binding.yaml
	cp config/components/member-metadata/role.yaml charts/labelgroup-operator/files/member-metadata-role.yaml

.PHONY: promtool
promtool: ## Install promtool from Debian's prometheus package when missing (needs root).
	hack/install-promtool.sh

.PHONY: dashboard-screenshot
dashboard-screenshot: $(ENVTEST_BINARIES) promtool ## Retake docs/images/dashboard-overlap.png: headless Chromium on Prometheus's graph of the dashboard's overlap query, during test/integration/dashboard (about 3 minutes; not part of test).
	hack/apt-install.sh chromium
	mkdir -p docs/images
	DASHBOARD_SCREENSHOT=$(abspath docs/images/dashboard-overlap.png) go test ./test/integration/dashboard/ -count=1 -v -timeout 10m

.PHONY: test-manifests
test-manifests: $(MANIFEST_TEST_TOOLS) ## Check the shipped manifests: helm lint/template, promtool, Prometheus Operator types, Pod Security.
	go test ./test/manifests/... -count=1 -v

$(HELM):
	$(call go-install-tool,$@,helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: bench-admission
bench-admission: $(ENVTEST_BINARIES) ## Measure LabelGroup create latency with config/admission installed, on envtest (slow; not part of test).
	go test ./test/integration/admission/ -run '^$$' -bench . -benchtime 10x -timeout 60m

.PHONY: sizing
sizing: $(ENVTEST_BINARIES) ## Measure the manager's convergence time and peak memory at 10,000 and 100,000 pods (envtest, about 10 minutes).
	go build -o bin/manager ./cmd/manager
	for pods in 10000 100000; do go run ./hack/sizing -manager bin/manager -pods $$pods; done
	go run ./hack/sizing -manager bin/manager -pods 100000 -memory-limit 268435456 # the shipped 256Mi

##@ Scale

# make bench-scale BENCH_SCALE_ARGS="--pods 5000 --churn-rate 100" changes the
# run; hack/benchscale --help lists the parameters.
BENCH_SCALE_ARGS ?=

.PHONY: bench-scale
bench-scale: $(CONTROL_PLANE_BINARIES) $(K8S_BIN)/kube-controller-manager $(KWOK) ## Compare the operator with the EndpointSlice controller at 10,000 pods (not part of make test; see docs/performance.md).
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/benchscale ./hack/benchscale
	$(LOCALBIN)/benchscale --assets $(K8S_BIN) --kwok $(KWOK) --operator $(LOCALBIN)/manager \
		--crd-dir config/crd/bases --out-dir $(LOCALBIN)/bench-scale $(BENCH_SCALE_ARGS)

##@ Build

.PHONY: demo
demo: build localcluster $(CONTROL_PLANE_BINARIES) ## Run the operator and the samples on an embedded local control plane, until Ctrl-C.
	LOCALCLUSTER_DIR=bin/demo hack/with-local-cluster.sh --assets $(KUBEBUILDER_ASSETS) --crd-dir config/crd/bases -- hack/demo.sh \
		|| [ $$? -eq 130 ] # Ctrl-C is how the demo ends

.PHONY: localcluster
localcluster: ## Build the local cluster launcher (hack/localcluster) used by demo and test-e2e-local.
	go build -o bin/localcluster ./hack/localcluster

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager ./cmd/manager

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the manager's container image (needs a Docker engine).
	docker build -t $(IMG) .

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

##@ Local cluster

# Images for the local cluster are image tarballs imported into its containerd:
# there is no registry. Their names start with localhost/ so that nothing ever
# tries to pull them.
PAUSE_IMAGE_TAR ?= $(LOCALBIN)/pause.tar
E2E_IMG ?= localhost/labelgroup-operator:e2e
MANAGER_IMAGE_TAR ?= $(LOCALBIN)/manager-image.tar

.PHONY: node-deps
node-deps: ## Install containerd, runc and the CNI plugins from Debian when missing (needs root).
	hack/install-node-deps.sh

.PHONY: pause-image
pause-image: ## Build the local cluster's pause image tarball.
	CGO_ENABLED=0 go build -trimpath -ldflags=-s -o $(LOCALBIN)/pause ./hack/pause
	go run ./hack/imagetar --binary $(LOCALBIN)/pause --image localhost/pause:dev --out $(PAUSE_IMAGE_TAR)

.PHONY: manager-image-tar
manager-image-tar: ## Pack a static manager binary into an image tarball (non-root) for the local cluster.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/static/manager ./cmd/manager
	go run ./hack/imagetar --binary $(LOCALBIN)/static/manager --image $(E2E_IMG) --out $(MANAGER_IMAGE_TAR)

.PHONY: local-cluster
local-cluster: node-deps node-binaries localcluster pause-image ## Run a single-node cluster (containerd + kubelet) until Ctrl-C (needs root).
	$(LOCALBIN)/localcluster --node --assets $(K8S_BIN) --pause-image-tar $(PAUSE_IMAGE_TAR)

##@ E2E

# The e2e suite (test/e2e, build tag e2e) proves the operator as shipped on
# the cluster KUBECONFIG names. Both targets deploy config/default and run the
# same suite; they differ only in how the cluster starts and how the
# manager's image gets there.
E2E_TEST ?= go test -tags e2e ./test/e2e/... -count=1 -timeout 30m -v -ginkgo.v
KIND_CLUSTER ?= labelgroup-operator-e2e
E2E_KIND_KUBECONFIG ?= $(LOCALBIN)/e2e-kind/kubeconfig
E2E_LOCAL_DIR ?= bin/e2e-local

# The first line removes a cluster an interrupted run left (kind refuses to
# create it again; deleting none is no error). The cluster is deleted whether
# the tests pass or fail.
.PHONY: test-e2e
test-e2e: $(KIND) $(KUSTOMIZE) ## Run the e2e suite on a new kind cluster (needs Docker): docker-build, kind load, deploy, test, delete the cluster.
	$(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(E2E_KIND_KUBECONFIG)
	mkdir -p $(dir $(E2E_KIND_KUBECONFIG))
	$(KIND) create cluster --name $(KIND_CLUSTER) --kubeconfig $(E2E_KIND_KUBECONFIG) --wait 5m
	KUBECONFIG=$(E2E_KIND_KUBECONFIG) $(MAKE) --no-print-directory e2e-on-kind \
		|| { $(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(E2E_KIND_KUBECONFIG); exit 1; }
	$(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(E2E_KIND_KUBECONFIG)

# The part of test-e2e that runs against its kind cluster. KIND_CLUSTER tells
# the suite how to reach the node's containerd (docker exec).
.PHONY: e2e-on-kind
e2e-on-kind:
	$(MAKE) docker-build IMG=$(E2E_IMG)
	$(KIND) load docker-image $(E2E_IMG) --name $(KIND_CLUSTER)
	$(MAKE) deploy IMG=$(E2E_IMG)
	KIND_CLUSTER=$(KIND_CLUSTER) E2E_KUSTOMIZE_DIR=config/default $(E2E_TEST)

# The launcher imports the image tarball into the node's containerd and stops
# the cluster when the tests end, pass or fail; hack/e2e-local.sh deploys
# config/default through the overlay config/e2e-local.
.PHONY: test-e2e-local
test-e2e-local: node-deps node-binaries localcluster pause-image manager-image-tar ## Run the e2e suite on a single-node local cluster (needs root, no Docker).
	LOCALCLUSTER_DIR=$(E2E_LOCAL_DIR) hack/with-local-cluster.sh --node --assets $(K8S_BIN) \
		--pause-image-tar $(PAUSE_IMAGE_TAR) --image-tar $(MANAGER_IMAGE_TAR) -- hack/e2e-local.sh $(E2E_TEST)

##@ Tools

.PHONY: control-plane-binaries
control-plane-binaries: $(CONTROL_PLANE_BINARIES) ## Build kube-apiserver and etcd for envtest and the demo.

.PHONY: node-binaries
node-binaries: $(CONTROL_PLANE_BINARIES) $(NODE_BINARIES) ## Build the control plane and the node components for the local cluster.

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
test-e2e-local: plugin
test-e2e: plugin
test-e2e-local test-e2e: export PATH := $(LOCALBIN):$(PATH)

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
