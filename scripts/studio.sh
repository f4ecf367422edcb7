#!/usr/bin/env bash
# Serves VS Code (code-server) with the Flowline extension on the samples (`make studio`).
# Expects the .vsix and the Python venv (the Makefile builds them first). Settings by environment:
#   FLOWLINE_STUDIO_PORT (8080), FLOWLINE_STUDIO_DIR (~/.cache/flowline/studio: VS Code's state),
#   FLOWLINE_STUDIO_WORKSPACE (samples/), FLOWLINE_NO_LOCAL_LLM=1 (no local model),
#   FLOWLINE_LOCAL_LLM_PORT (8181).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${FLOWLINE_STUDIO_PORT:-8080}
STATE=${FLOWLINE_STUDIO_DIR:-$HOME/.cache/flowline/studio}
WORKSPACE=${FLOWLINE_STUDIO_WORKSPACE:-$ROOT/samples}
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -1)
VSIX="$ROOT/flowline-$VERSION.vsix"
[ -f "$VSIX" ] || { echo "studio: $VSIX is missing; run 'make vsix' (make studio does)" >&2; exit 2; }
CODE_SERVER=$(bash "$ROOT/scripts/install-code-server.sh" | tail -1)

# Saving is explicit, as in desktop VS Code (VS Code in the browser saves a second after each edit).
mkdir -p "$STATE/user-data/User" "$STATE/extensions"
cat > "$STATE/user-data/User/settings.json" <<JSON
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "workbench.tips.enabled": false,
  "extensions.ignoreRecommendations": true,
  "files.autoSave": "off",
  "flowline.python.interpreterPath": "$ROOT/.venv/bin/python"
}
JSON
echo "auth: none" > "$STATE/config.yaml"
COMMON=(--config "$STATE/config.yaml" --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions")
"$CODE_SERVER" "${COMMON[@]}" --force --install-extension "$VSIX" >/dev/null

if [ "${FLOWLINE_NO_LOCAL_LLM:-0}" != 1 ]; then
  "$ROOT/.venv/bin/flowline" local-llm start --port "${FLOWLINE_LOCAL_LLM_PORT:-8181}"
fi
echo "studio: VS Code with Flowline on http://127.0.0.1:$PORT/?folder=$WORKSPACE"
echo "studio: Ctrl-C stops VS Code; 'make local-llm-stop' stops the local model"
exec "$CODE_SERVER" "${COMMON[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust "$WORKSPACE"
