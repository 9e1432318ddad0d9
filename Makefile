# node-agent: the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := build
DOTNET ?= dotnet
CONFIG ?= Release
BIN := bin/node-agent
DEMO_ROOT := demo-root
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: build publish rpm run demo-daemon test unit golden bench e2e e2e-systemd deps clean

# ReadyToRun: node-agent and its packages are compiled ahead of time for this machine's
# architecture, so a --once run spends its time working instead of in the JIT.
RID ?= linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(shell uname -m)))

build: ## framework-dependent build: ./bin/node-agent
	$(DOTNET) publish agent/NodeAgent.csproj -c $(CONFIG) -o bin --nologo -v quiet -p:UseAppHost=true \
		-r $(RID) --self-contained false -p:PublishReadyToRun=true
	@echo "built $(BIN)"

# The self-contained build for hosts without .NET (the RPM and the container image take it from
# PUBLISHED). It compiles in its own tree below PUBLISH_OBJ, never in agent/obj: a self-contained,
# trimmed ReadyToRun build sharing intermediates with `make build` can pick up the other's stale
# ReadyToRun images, and such a binary aborts at start. The analyzers run in `make build` over the
# same sources (a third of a cold publish otherwise); ILLink reports trim warnings by itself.
PUBLISH_RID := linux-x64
PUBLISH_DIR := dist/publish/$(PUBLISH_RID)
PUBLISHED := $(PUBLISH_DIR)/node-agent
PUBLISH_OBJ := artifacts/publish-$(PUBLISH_RID)

publish: ## self-contained, trimmed, ReadyToRun linux-x64 build: ./dist/publish/linux-x64/node-agent (no .NET runtime needed)
	@rm -rf $(PUBLISH_DIR)
	@# The SDK regenerates the publish deps.json only when its own inputs change, not when the
	@# trimmer keeps a new framework assembly: a stale one omits it and the binary cannot load it.
	@rm -f $(PUBLISH_OBJ)/obj/NodeAgent/*/NodeAgent.genpublishdeps.cache $(PUBLISH_OBJ)/obj/NodeAgent/*/node-agent.deps.json
	$(DOTNET) publish agent/NodeAgent.csproj -c $(CONFIG) -r $(PUBLISH_RID) --self-contained true \
		-p:PublishTrimmed=true -p:PublishReadyToRun=true -p:RunAnalyzers=false \
		--artifacts-path $(CURDIR)/$(PUBLISH_OBJ) -o $(PUBLISH_DIR) --nologo -v quiet
	@echo "built $(PUBLISHED) ($$(du -sh $(PUBLISH_DIR) | cut -f1) in $(PUBLISH_DIR))"

run: build ## render examples/ into ./demo-root and show what was written
	@rm -rf $(DEMO_ROOT)
	$(BIN) --once --manifests examples --root $(DEMO_ROOT) --reload-command ''
	@echo
	@cd $(DEMO_ROOT) && for f in $$(find etc -type f | sort); do echo "===== $(DEMO_ROOT)/$$f"; cat "$$f"; done

demo-daemon: build ## the daemon against an in-process fake API server serving examples/: a change, an outage, /metrics, SIGTERM
	@rm -rf $(DEMO_ROOT)-daemon
	@$(DOTNET) run -c Release --project bench/NodeAgent.Bench.csproj -- demo-daemon $(DEMO_ROOT)-daemon

test: build publish deps rpm ## everything: unit, golden, property, bad-input, crash, real-consumer, published-binary and packaging tests
	NODE_AGENT_BIN=$(CURDIR)/$(BIN) NODE_AGENT_PUBLISHED=$(CURDIR)/$(PUBLISHED) NODE_AGENT_RPM=$(RPM) 		scripts/test-summary.sh $(DOTNET) test tests/NodeAgent.Tests.csproj -c $(CONFIG) --nologo $(TEST_ARGS)

e2e: build deps ## only the real-registry tests: skopeo and containerd's ctr pull through a TLS mirror on 127.0.0.1 trusting the rendered files
	NODE_AGENT_BIN=$(CURDIR)/$(BIN) $(DOTNET) test tests/NodeAgent.Tests.csproj -c $(CONFIG) --nologo \
		--filter "FullyQualifiedName~TlsMirrorEndToEnd|FullyQualifiedName~ContainerdClientTests" --logger "console;verbosity=detailed" $(TEST_ARGS)

# Part of `make test` too (as root; otherwise it is skipped and says why). The first run builds a
# Debian root with debootstrap (a few minutes, cached in /var/tmp); later runs take seconds.
e2e-systemd: build rpm deps ## only the real-systemd test: the RPM under systemd as PID 1 (systemd-nspawn), a stand-in CRI-O, as root
	NODE_AGENT_BIN=$(CURDIR)/$(BIN) NODE_AGENT_RPM=$(RPM) scripts/test-summary.sh $(DOTNET) test tests/NodeAgent.Tests.csproj -c $(CONFIG) --nologo \
		--filter "FullyQualifiedName~RealSystemdTests" --logger "console;verbosity=detailed" $(TEST_ARGS)

golden: build ## rewrite the expected files of every golden case from the current renderer (review the diff!)
	NODE_AGENT_BIN=$(CURDIR)/$(BIN) NODE_AGENT_UPDATE_GOLDEN=1 $(DOTNET) test tests/NodeAgent.Tests.csproj -c $(CONFIG) --nologo \
		--filter "FullyQualifiedName~Golden"
	git status --short tests/testdata

bench: build ## BenchmarkDotNet render benchmark and whole-process timings
	$(DOTNET) run -c Release --project bench/NodeAgent.Bench.csproj -- $(BENCH_ARGS)

VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' agent/NodeAgent.csproj)
RPM_TOP := $(CURDIR)/dist/rpm
RPM := $(RPM_TOP)/RPMS/x86_64/node-agent-$(VERSION)-1.x86_64.rpm
# A gzip payload: quick to write here, and every rpm RHEL has shipped reads it.
rpm: publish ## the RHEL package from the published binary: dist/rpm/RPMS/x86_64/node-agent-<version>-1.x86_64.rpm
	@rm -rf $(RPM_TOP) && mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/stage/node-agent-$(VERSION)
	@cd $(RPM_TOP)/stage/node-agent-$(VERSION) && mkdir -p systemd rpm deploy/bootstrap && \
		cp -a $(CURDIR)/$(PUBLISH_DIR) publish && \
		cp $(CURDIR)/systemd/node-agent.service $(CURDIR)/systemd/config.json systemd/ && \
		cp $(CURDIR)/deploy/bootstrap/node-agent-bootstrap.service deploy/bootstrap/ && \
		cp $(CURDIR)/rpm/node-agent.sysconfig rpm/ && cp $(CURDIR)/README.md $(CURDIR)/LICENSE .
	@tar -C $(RPM_TOP)/stage -cf $(RPM_TOP)/SOURCES/node-agent-$(VERSION).tar node-agent-$(VERSION)
	@rm -rf $(RPM_TOP)/stage
	rpmbuild -bb rpm/node-agent.spec --quiet --define "_topdir $(RPM_TOP)" --define "pkg_version $(VERSION)" \
		--define "_binary_payload w6.gzdio"
	@echo "built $(RPM:$(CURDIR)/%=%)"

deps: ## install the Debian packages the tests use when running as root; otherwise name what is missing
	@bash scripts/test-deps.sh

clean: ## remove every build output: bin/, dist/, the publish tree, the demo roots
	rm -rf dist $(PUBLISH_OBJ) bin $(DEMO_ROOT) $(DEMO_ROOT)-daemon agent/bin agent/obj tests/bin tests/obj bench/bin bench/obj BenchmarkDotNet.Artifacts
