# Shared by scripts/test and .ci/run: install the browser tests' page libraries with npm
# when node_modules is missing or older than the lockfile (never a build step for users).
host="$root/tests/browser/host"
if [ ! -d "$host/node_modules" ] || [ "$host/package-lock.json" -nt "$host/node_modules" ]; then
  if command -v npm >/dev/null; then
    (cd "$host" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  else
    echo "npm not found: the browser tests will fail (apt-get install npm)" >&2
  fi
fi
