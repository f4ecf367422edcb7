#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) into a per-version cache outside the clone:
#   scripts/install-code-server.sh        prints the path of the code-server executable
# Node 20 as the machine has it; code-server 4.100.3 is VS Code 1.100. Its ripgrep dependency
# would download a binary, so the download cache is seeded with Debian's rg instead.
set -euo pipefail
VERSION=4.100.3
RIPGREP=v13.0.0-10
CACHE="${FLOWLINE_CACHE:-$HOME/.cache/flowline}/code-server-$VERSION"
BIN="$CACHE/node_modules/.bin/code-server"
if [ -x "$BIN" ] && [ -f "$CACHE/.installed" ]; then
  echo "$BIN"
  exit 0
fi
need=()
command -v rg >/dev/null || need+=(ripgrep)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (apt)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2
fi
seed="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
mkdir -p "$seed"
tarball="$seed/ripgrep-$RIPGREP-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$tarball" ]; then
  work=$(mktemp -d)
  cp "$(command -v rg)" "$work/rg"
  tar -czf "$tarball" -C "$work" rg
  rm -rf "$work"
fi
# Native modules (argon2) build against the machine's Node headers (Debian's nodejs ships them);
# without nodedir, node-gyp would download them from nodejs.org.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/common.gypi ]; then
  export npm_config_nodedir=/usr
fi
rm -rf "$CACHE"
mkdir -p "$CACHE"
echo "installing code-server $VERSION into $CACHE (about 2 minutes)" >&2
(cd "$CACHE" && echo '{"private": true}' > package.json &&
  npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --loglevel=error \
    "code-server@$VERSION" >&2)
touch "$CACHE/.installed"
echo "$BIN"
