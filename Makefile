# The two commands a newcomer needs:
#   make demo   builds vitrine and styles a bundled product photo with the CLI (results in out/), then builds the
#               browser package and serves the demo page on 127.0.0.1 (the URL is printed; Ctrl-C stops it)
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

.PHONY: js-lint limits-test demo serve e2e test build system-deps venv wasm-target model-check cargo-test large-test lint browser-deps node-deps clean \
	web wasm-bindgen-cli browser-test web-test package-test size-budget wasm-lint ecosystem-deps ecosystem-test server-test \
	cargo-fuzz fuzz-test fuzz soak-test soak engines-test engines-deps engines-node-deps live-test

demo: build
	@mkdir -p out
	target/release/vitrine info
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_style19.png --style 19
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_mix.png --style 3:0.5,12:0.5 --strength 0.85 --preserve-color
	target/release/vitrine stylize www/samples/logo.png -o out/logo_style7.png --style 7
	target/release/vitrine stylize www/samples/studio-mug.jpg -o out/studio-mug_style7.png --style 7
	target/release/vitrine stylize www/samples/studio-mug.jpg -o out/studio-mug_style19_white.jpg --style 19 --background white
	target/release/vitrine stylize www/samples/studio-mug.jpg -o out/studio-mug_style19_cutout.png --style 19 --background transparent
	target/release/vitrine sheet www/samples/coffee.jpg -o out/coffee_sheet.jpg --tile 200
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_rocket_look.png --style-image www/samples/rocket.jpg
	target/release/vitrine style www/samples/rocket.jpg -o out/brand.json
	target/release/vitrine stylize www/samples/coffee.jpg -o out/coffee_brand.png --style-vector out/brand.json --strength 0.8
	@echo "Styled photos are in out/"
	@$(MAKE) --no-print-directory serve

# The demo page (www/index.html) with the package, on 127.0.0.1 only; runs in the foreground until Ctrl-C.
serve: web
	node www/serve.mjs

build: system-deps
	$(CARGO) build --release

test: system-deps venv wasm-target model-check cargo-test large-test limits-test lint js-lint server-test browser-test live-test engines-test soak-test e2e fuzz-test

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

# The three model files must be exactly what the converter makes from the pinned package.
model-check: venv
	$(PYTHON) models/convert.py --check
	$(PYTHON) -m unittest discover -s models -p "test_*.py"

cargo-test: system-deps
	$(GPU_TEST_ENV) $(CARGO) test

# A 2048x2048 photo on lavapipe, whose 128 MiB bindings force tiling, against onnxruntime on the whole image. The
# reference is 50 MB, so it is made here rather than committed.
LARGE_REFERENCE := target/large-reference/coffee_2048_style19.safetensors
large-test: system-deps venv
	@[ -f $(LARGE_REFERENCE) ] || $(PYTHON) models/large_reference.py $(LARGE_REFERENCE)
	$(GPU_TEST_ENV) $(CARGO) test --test large -- --ignored --nocapture

# A 768 px photo under `ulimit -v` too small for its whole run: styled in tiles within the limit, as the whole run.
limits-test: build venv
	bash tests/limits.sh

# The package's JavaScript type-checked against the DOM and its own declarations (TypeScript's checkJs).
js-lint: node-deps
	cd www && node_modules/.bin/tsc -p jsconfig.check.json

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# The demo server against symlinks out of its root, unreadable and vanishing files, FIFOs, descriptor exhaustion
# (a child under a low ulimit -n) and abandoned downloads (its descriptors counted in /proc).
server-test:
	node --test tests/server/

# Coverage-guided fuzzing (cargo-fuzz's libFuzzer on the stable toolchain, fuzz/run.sh): model files, style files
# and specs, PNG/JPEG/WebP/GIF images, the tile planner. fuzz-test replays every kept crash and seed and fuzzes each
# target for FUZZ_TEST_SECONDS (last in `make test`: a kept crash that still fails lets the other tests run first);
# `make fuzz` for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 20
CARGO_FUZZ_VERSION := 0.13.2

cargo-fuzz:
	@if [ "$$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $(CARGO_FUZZ_VERSION)" ]; then \
		$(CARGO) install cargo-fuzz --locked --version =$(CARGO_FUZZ_VERSION); \
	fi

fuzz-test: cargo-fuzz
	fuzz/run.sh $(FUZZ_TEST_SECONDS)

fuzz: cargo-fuzz
	fuzz/run.sh $(FUZZ_SECONDS)

# Soak: 1000 calls natively (resident memory) and in headless Chromium through the packed package on the CPU path
# and SwiftShader's WebGPU (wasm memory, JS heap, live GPU buffers), each asserted flat after 50 calls of warm-up.
# `make soak` runs longer with larger images (SOAK_CALLS, SOAK_SIDE).
soak-test: web node-deps browser-deps
	$(CARGO) test --test soak -- --ignored --nocapture
	node tests/soak/run.mjs

soak: web node-deps browser-deps
	SOAK_CALLS=$${SOAK_CALLS:-5000} SOAK_SIDE=$${SOAK_SIDE:-64} $(CARGO) test --release --test soak -- --ignored --nocapture
	SOAK_CALLS=$${SOAK_CALLS:-3000} SOAK_SIDE=$${SOAK_SIDE:-48} node tests/soak/run.mjs

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

# The wasm-bindgen CLI must be exactly the version Cargo.lock pins for the crate, or its output will not load.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)

wasm-bindgen-cli:
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		$(CARGO) install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION); \
	fi

# The npm package in www/pkg: the crate for wasm32 (WebGPU and the CPU path), its JS bindings, wasm-opt from npm's
# binaryen (Debian's breaks the module), the JS wrapper and its declarations, the preset model and its thumbnails,
# and the arbitrary-style pair (models/arbitrary_*.vitrine.safetensors), which the package fetches on first use.
WASM_OUT := target/wasm32-unknown-unknown/wasm-release/vitrine.wasm
BINDGEN_DIR := target/web/bindgen

web: wasm-target wasm-bindgen-cli node-deps
	$(CARGO) build --lib --target wasm32-unknown-unknown --no-default-features --features gpu --profile wasm-release
	@mkdir -p $(BINDGEN_DIR)
	wasm-bindgen --target web --no-typescript --out-dir $(BINDGEN_DIR) --out-name vitrine_wasm $(WASM_OUT)
	www/node_modules/.bin/wasm-opt -O3 $(BINDGEN_DIR)/vitrine_wasm_bg.wasm -o $(BINDGEN_DIR)/vitrine_wasm_bg.wasm
	node www/lib/build.mjs $(BINDGEN_DIR) www/pkg

# Browser tests: clippy on the wasm build, the crate's wasm tests in headless Chromium (GPU on SwiftShader against
# the CPU path), the packed package in a scratch app against onnxruntime, the package built by Vite (plain HTML,
# React) and run under a Content Security Policy, and the size budgets.
browser-test: wasm-lint web-test package-test ecosystem-test size-budget

wasm-lint: wasm-target
	$(CARGO) clippy --lib --target wasm32-unknown-unknown --no-default-features --features gpu -- -D warnings

web-test: wasm-target wasm-bindgen-cli browser-deps
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 WASM_BINDGEN_TEST_WEBDRIVER_JSON=www/webdriver.json \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
		$(CARGO) test --target wasm32-unknown-unknown --no-default-features --features gpu --test web

package-test: web browser-deps
	node tests/package/run.mjs

# Live frames in headless Chromium: styler.live on a fake camera (a Y4M clip the test writes) and on a WebM clip
# the page records, on SwiftShader's WebGPU (the frame path: zero readbacks) and the CPU path, each drawn frame
# against stylize on the same frame; dropped frames, stop(), the element's Live mode, a refused and an absent camera,
# and the README's camera page.
live-test: web browser-deps
	node tests/live/run.mjs

# Vite, React and their types, pinned by tests/ecosystem/package-lock.json and kept out of www's dependencies.
ecosystem-deps: tests/ecosystem/node_modules/.package-lock.json

tests/ecosystem/node_modules/.package-lock.json: tests/ecosystem/package.json tests/ecosystem/package-lock.json
	cd tests/ecosystem && npm ci --no-audit --no-fund

# The packed package in a Vite build of the Styler API, of vitrine/presets, of the README's five-line page and of a
# React + TypeScript app, in headless Chromium under the README's Content Security Policy (the elements' PNGs against
# the release CLI's); imported in Node.
ecosystem-test: build web node-deps browser-deps ecosystem-deps
	node tests/ecosystem/run.mjs

size-budget: web
	node www/size-budget.mjs www/pkg

# The package's core in Firefox ESR (headless, WebDriver BiDi) and WebKitGTK (MiniBrowser under Xvfb, through
# WebKitWebDriver), each pixel for pixel against Chromium's in the same run, and again with each engine's WebGPU
# switched on (Firefox's finds lavapipe). Only Debian's browsers, never a download.
engines-test: system-deps web node-deps browser-deps engines-deps engines-node-deps
	$(GPU_TEST_ENV) node tests/engines/run.mjs

engines-deps:
	@if ! dpkg -s firefox-esr webkit2gtk-driver xvfb >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends firefox-esr webkit2gtk-driver xvfb; \
	fi

# puppeteer-core (Firefox) and selenium-webdriver (WebKitWebDriver), pinned by tests/engines/package-lock.json.
engines-node-deps: tests/engines/node_modules/.package-lock.json

tests/engines/node_modules/.package-lock.json: tests/engines/package.json tests/engines/package-lock.json
	cd tests/engines && npm ci --no-audit --no-fund

# The demo page end to end in headless Chromium, on SwiftShader's WebGPU and on the CPU path, against the CLI.
e2e: web node-deps browser-deps build
	node tests/e2e/run.mjs

# Benchmarks against onnxruntime on the same machine, in the same run (benches/BENCHMARKS.md). Programs, not tests:
# never part of `make test`. BENCH_NATIVE_FLAGS / BENCH_BROWSER_FLAGS pass options (sizes, runs) to each.
.PHONY: bench bench-native bench-browser bench-deps device-bundle bench-backdrop
bench: bench-native bench-browser bench-backdrop

# The backdrop analysis's cost against the network's at 1024 px on the CPU path (BACKDROP_SIZE, BACKDROP_RUNS).
BACKDROP_SIZE ?= 1024
BACKDROP_RUNS ?= 7
bench-backdrop:
	$(CARGO) bench --bench backdrop -- --size $(BACKDROP_SIZE) --runs $(BACKDROP_RUNS)

# vitrine's CPU path (and its GPU path on whatever adapter wgpu finds; a software one is labelled) against
# onnxruntime's CPU provider with the same thread count, at 256, 512 and 1024 px.
bench-native: venv system-deps
	$(PYTHON) benches/native.py --gpu $(BENCH_NATIVE_FLAGS)

# vitrine's package on WebGPU and on its wasm CPU path against onnxruntime-web's webgpu and wasm providers.
bench-browser: web node-deps browser-deps venv bench-deps
	node benches/browser/run.mjs $(BENCH_BROWSER_FLAGS)

# onnxruntime-web, pinned by benches/browser/package-lock.json and kept out of www's dependencies.
bench-deps: benches/browser/node_modules/.package-lock.json

benches/browser/node_modules/.package-lock.json: benches/browser/package.json benches/browser/package-lock.json
	cd benches/browser && npm ci --no-audit --no-fund

# Everything benches/device.sh needs on an NVIDIA machine without a Rust toolchain or network, in one folder to carry
# there (benches/BENCHMARKS.md): the release bench binary, the model, the photo as RGBA8 at 512, 1024 and 2048 px
# (the script writes the planar f32 from it, which keeps the folder small), the two scripts, Debian's Vulkan loader.
DEVICE_BUNDLE := target/device
device-bundle: venv
	@bin=$$($(CARGO) bench --bench native --no-run --message-format=json | python3 -c 'import json, sys; print(next(m["executable"] for m in map(json.loads, sys.stdin) if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "native" and m.get("executable")))') && \
		rm -rf $(DEVICE_BUNDLE) && mkdir -p $(DEVICE_BUNDLE)/inputs $(DEVICE_BUNDLE)/gl && \
		strip -o $(DEVICE_BUNDLE)/native "$$bin"
	$(PYTHON) benches/native.py --prepare-only --sizes 512,1024,2048
	cp target/bench/photo_512.rgba target/bench/photo_1024.rgba target/bench/photo_2048.rgba $(DEVICE_BUNDLE)/inputs/
	cp models/multistyle26.vitrine.safetensors benches/device.sh benches/torch_net.py $(DEVICE_BUNDLE)/
	cd $(DEVICE_BUNDLE)/gl && (apt-get download libvulkan1 || ($(SUDO) apt-get update -qq && apt-get download libvulkan1)) || \
		echo "warning: no Vulkan loader .deb in $(DEVICE_BUNDLE)/gl: the NVIDIA machine must have libvulkan.so.1"
	@du -sh $(DEVICE_BUNDLE)

clean:
	rm -rf out target $(VENV)
