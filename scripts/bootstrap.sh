#!/usr/bin/env bash
# Make this machine ready to run audio-uplink: system packages, a Python >= 3.11
# and a local virtualenv with the project installed (editable, with test extras).
# Sourced by scripts/demo.sh and scripts/test.sh; may also be run directly.
# Idempotent: when everything is already in place it installs nothing and is fast.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOGS="$REPO/.venv-logs"
mkdir -p "$LOGS"

die() { echo "bootstrap: $*" >&2; exit 1; }

# sudo only when we are not already root (CI and dev machines run as root).
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install system packages"
    SUDO=(sudo)
fi

# Install the given apt packages that are not installed yet; `apt-get update`
# runs at most once per bootstrap and only when something is actually missing.
APT_UPDATED=0
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "bootstrap: apt-get install ${missing[*]} (log: $LOGS/apt.log)"
    {
        if [ "$APT_UPDATED" -eq 0 ]; then
            "${SUDO[@]}" apt-get update -q
        fi
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}"
    } >"$LOGS/apt.log" 2>&1 || { cat "$LOGS/apt.log" >&2; die "apt-get install failed"; }
    APT_UPDATED=1
}

# --- Python >= 3.11 --------------------------------------------------------------
py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
find_python() {
    local c
    for c in python3 python3.12 python3.11; do
        if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then echo "$c"; return 0; fi
    done
    return 1
}
if ! PY="$(find_python)"; then
    apt_install python3
    PY="$(find_python)" || die "need Python >= 3.11, found $(python3 --version 2>&1)"
fi

# --- System packages -------------------------------------------------------------
# portaudio19-dev: headers to build PyAudio. pulseaudio & co: the microphone tests
# start their own PulseAudio daemon and reach it through ALSA's pulse plugin.
# libopus0: the library opuslib loads for codec = "opus" (the tests cover it).
# sox: the receiver tests check that a recording left by a SIGKILL opens in sox.
# redis-server, haproxy: tests/redis runs receivers behind a real HAProxy into a real Redis.
# espeak-ng: speech with pauses for the silence suppression test and bench.
pkgs=(portaudio19-dev pulseaudio pulseaudio-utils libasound2-plugins libopus0 sox redis-server haproxy espeak-ng)
# Debian ships venv/ensurepip separately; other Pythons (pyenv, ...) have them built in.
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    pkgs+=(python3-venv)
fi
# gcc and Python.h are needed to compile PyAudio's C extension.
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
if ! "$PY" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    pkgs+=(python3-dev)
fi
apt_install "${pkgs[@]}"

# --- Virtualenv ------------------------------------------------------------------
VENV="$REPO/.venv"
# Recreate a venv whose interpreter no longer runs (e.g. its base Python was removed).
if [ -d "$VENV" ] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    echo "bootstrap: $VENV is broken, recreating it"
    rm -rf "$VENV"
fi
if [ ! -d "$VENV" ]; then
    echo "bootstrap: creating $VENV with $("$PY" --version)"
    "$PY" -m venv "$VENV" >"$LOGS/venv.log" 2>&1 || { cat "$LOGS/venv.log" >&2; die "venv creation failed"; }
fi

# Reinstall only when pyproject.toml (the dependency list) changed since the last
# install; the stamp file's name carries the hash of the pyproject.toml installed.
hash="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
stamp="$VENV/.installed-$hash"
if [ ! -e "$stamp" ]; then
    echo "bootstrap: pip install -e \".[test,bench,redis,vad]\" (log: $LOGS/pip.log)"
    # pip may print "WARNING: Location ... is ignored" on this machine: harmless,
    # so its output goes to the log and is shown only if the install fails.
    (cd "$REPO" && "$VENV/bin/python" -m pip install -q -e ".[test,bench,redis,vad]") >"$LOGS/pip.log" 2>&1 \
        || { cat "$LOGS/pip.log" >&2; die "pip install failed"; }
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

# --- Node.js test server ----------------------------------------------------------
# tests/e2e/test_refusal.py meets the official Socket.IO 4 server. Node.js and npm
# come with this project's machines; without them that one test is skipped.
NODE_DIR="$REPO/tests/node"
if command -v npm >/dev/null 2>&1; then
    lock="$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)"
    if [ ! -e "$NODE_DIR/node_modules/.installed-$lock" ]; then
        echo "bootstrap: npm ci in tests/node (log: $LOGS/npm.log)"
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund) >"$LOGS/npm.log" 2>&1 \
            || { cat "$LOGS/npm.log" >&2; die "npm ci failed"; }
        touch "$NODE_DIR/node_modules/.installed-$lock"
    fi
fi

export VENV
case ":$PATH:" in
    *":$VENV/bin:"*) ;;  # already there (bootstrap sourced twice): keep PATH short
    *) export PATH="$VENV/bin:$PATH" ;;
esac
