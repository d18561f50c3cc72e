# Two commands do everything on a fresh Debian 12 machine:
#   make run   installs what is missing, builds, and opens the workstation
#   make test  installs what is missing, then runs every check and test
# Nothing is cached between runs except what apt, npm and cargo keep themselves,
# so a missing install step shows up here rather than on the next machine.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
export PATH := $(CARGO_BIN):$(PATH)

# Desktop shell (webkit2gtk 4.1, libsoup 3), the end-to-end harness (Xvfb,
# WebKitWebDriver, ImageMagick for screenshots), the C toolchain for -sys
# crates, mpmath for the dose engine's independent cross-check, a session
# D-Bus with GNOME Keyring, where the store keeps its key, SoftHSM2 with
# OpenSC's tools for PKCS#11 smart cards, and pcsc-lite with vsmartcard's
# virtual reader for PC/SC card events (unshare and mount give the test pcscd
# its own /run/pcscd), and PostgreSQL 15, each test run on its own private
# cluster (util-linux's runuser runs it as postgres when the tests run as root),
# poppler-utils, whose pdftotext and pdftoppm read the printed PDFs back,
# python3-hl7, whose mllp_send is an independent HL7 v2 sender for the listener's tests,
# and python3-venv for the PyPI peers (python-peers).
APT_PACKAGES := build-essential pkg-config curl ca-certificates openssl file \
	libwebkit2gtk-4.1-dev libsoup-3.0-dev librsvg2-dev libssl-dev libxdo-dev \
	xvfb xauth webkit2gtk-driver imagemagick fonts-dejavu-core \
	python3 python3-mpmath \
	dbus dbus-bin dbus-daemon gnome-keyring \
	softhsm2 opensc \
	pcscd libpcsclite-dev vsmartcard-vpcd util-linux mount \
	postgresql postgresql-client poppler-utils python3-hl7 python3-venv \
	orthanc orthanc-dicomweb dcmtk socat

NODE_MIN_MAJOR := 20

.PHONY: help deps system-deps python-peers rust-toolchain node-deps tauri-driver ui bindings build run has-secret-service lint test bench screenshots

help:
	@echo "make run    build and open the Clinical Workstation"
	@echo "make test   install what is missing, then run every check and test"

deps: system-deps rust-toolchain node-deps tauri-driver python-peers

# Independent peers from PyPI, in their own environment (Debian's python3 is
# externally managed): hl7apy (MIT) validates every HL7 v2 message we send, and
# python-hl7 (BSD) is the clinical system that receives our MDM^T02 over MLLP;
# fhir.resources (BSD) every FHIR document, with lxml (BSD) for the ITK3 XML; aiosmtpd (Apache-2.0) is the SMTP
# server with STARTTLS, and mesh-sandbox (MIT) the MESH server, that the
# discharge outbox delivers to.
PEERS := target/python-peers
PEER_PACKAGES := 'hl7apy==1.3.5' 'hl7==0.4.5' 'fhir.resources==8.3.0' 'lxml==6.1.3' 'aiosmtpd==1.4.6' 'mesh-sandbox==1.0.137'
python-peers: system-deps
	@[ -x $(PEERS)/bin/python ] || /usr/bin/python3 -m venv $(PEERS)
	@$(PEERS)/bin/python -c 'import hl7apy, hl7.mllp, fhir.resources, lxml, aiosmtpd, mesh_sandbox' 2>/dev/null || $(PEERS)/bin/pip install --quiet --disable-pip-version-check $(PEER_PACKAGES)

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v node >/dev/null || { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	@major=$$(node -p 'process.versions.node.split(".")[0]'); \
	[ "$$major" -ge $(NODE_MIN_MAJOR) ] || { echo "Node.js $(NODE_MIN_MAJOR) or newer is needed (found $$(node --version)). Install it from your distribution's backports or NodeSource, then run make again." >&2; exit 1; }

rust-toolchain:
	@command -v cargo >/dev/null || { curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

node-deps:
	cd ui && npm ci --no-audit --no-fund --loglevel=error

tauri-driver:
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

ui: node-deps
	cd ui && npm run build

# Regenerate ui/src/lib/bindings.ts after changing a command or its types.
bindings:
	UPDATE_BINDINGS=1 cargo test --lib generated_typescript_bindings_are_current

build: deps ui
	cargo build --locked --workspace

# A demonstration store when there is none (nothing else ever creates a store),
# fictional patients in it (only added to an empty store), and five demonstration
# smart cards (SoftHSM2) beside it; PINs in the README. Four of the patients are
# mid-course on SACT (cws demo courses; once per store), and a day of ADT fills
# three wards of twenty beds (cws demo ward-day; its messages are kept once each).
DEMO_PATIENTS := 200
DEMO_CARDS = $${XDG_DATA_HOME:-$$HOME/.local/share}/clinicalworkstation/demo-cards
# The demonstration PACS (scripts/demo-pacs.sh): Orthanc on loopback port 18042
# with a few synthetic studies; Dr Oncology works on WARD9 and the nurse on WARD7,
# so their inpatients' images are theirs to see, and anyone else's needs break-glass.
DEMO_PACS = $${XDG_DATA_HOME:-$$HOME/.local/share}/clinicalworkstation/demo-pacs
SEED_AND_START = ./target/debug/cws store init --demo --if-missing && \
	./target/debug/cws card demo-init --if-missing && \
	./target/debug/cws demo seed --if-empty --patients $(DEMO_PATIENTS) && \
	SOFTHSM2_CONF=$(DEMO_CARDS)/softhsm2.conf ./target/debug/cws demo courses --cards $(DEMO_CARDS) && \
	./target/debug/cws demo ward-day && \
	./target/debug/cws user wards 555000000001 --wards WARD9 >/dev/null && \
	./target/debug/cws user wards 555000000003 --wards WARD7 >/dev/null && \
	sh scripts/demo-pacs.sh && \
	CWS_CONFIG=$(DEMO_PACS)/workstation.toml \
	SOFTHSM2_CONF=$(DEMO_CARDS)/softhsm2.conf CWS_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so \
	CWS_CARD_CA=$(DEMO_CARDS)/demo-ca.pem ./target/debug/clinical-workstation

# On a desktop the store's key goes in your login keyring. Without a Secret
# Service on the session bus (a minimal window manager, a remote X session), or
# without a display, a private D-Bus and GNOME Keyring (password "demo") stand
# in; without a display, Xvfb too.
PRIVATE_KEYRING = dbus-run-session -- sh -c 'printf demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null && $(1)'
HAS_SECRET_SERVICE = dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.ListActivatableNames 2>/dev/null | grep -q '"org.freedesktop.secrets"' || \
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'

# Succeeds when the session bus has (or can start) a Secret Service; tests/make_run.rs checks it.
has-secret-service:
	@$(HAS_SECRET_SERVICE)

run: build
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo "No display found: starting the workstation on a virtual 1366x768 screen (Xvfb), its store key in a private keyring."; \
		$(call PRIVATE_KEYRING,WEBKIT_DISABLE_DMABUF_RENDERER=1 xvfb-run -a -s "-screen 0 1366x768x24" sh -c "$(SEED_AND_START)"); \
	elif $(HAS_SECRET_SERVICE); then \
		$(SEED_AND_START); \
	else \
		echo "No Secret Service on this desktop's session bus: keeping the store key in a private keyring (password demo)."; \
		$(call PRIVATE_KEYRING,$(SEED_AND_START)); \
	fi

lint: deps ui
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cd ui && npm run check

test: lint
	cd ui && npm test
	cargo test --locked --workspace

# Benchmarks (criterion); figures go in docs/PERFORMANCE.md.
bench: deps ui
	cargo bench --locked -p dosing -p store -p identity -p access -p services --features store/bench

# Refresh the README's screenshots from the end-to-end run.
screenshots: deps ui
	cargo test --locked --test e2e_shell --test e2e_dose_calculator --test e2e_patient_search --test e2e_smart_card --test e2e_sact --test e2e_bed_board --test e2e_imaging --test e2e_discharge
	cp target/screenshots/bed-board-ward-day.png target/screenshots/bed-board-wards.png
	mkdir -p docs/screenshots && cp target/screenshots/{dose-calculator,patient-search,deceased-banner,locked,card-sign-in,sact-prescribe,sact-verify,sact-administer,sact-lifetime-chart,bed-board,bed-board-wards,patient-results,imaging-studies,imaging-break-glass,patient-without-a-valid-nhs-number,discharge-dashboard,discharge-still-needed,discharge-signed-letter}.png docs/screenshots/
