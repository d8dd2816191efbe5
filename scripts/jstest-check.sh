#!/usr/bin/env bash
# Says loudly, before the Go suite runs, when the real-library tests of
# jstest/ (WatermelonDB under Node) cannot run; with CI=true that is a failure.
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  exit 0
fi
cat >&2 <<'BANNER'

##########################################################################
##                                                                      ##
##   JAVASCRIPT LIBRARY TESTS SKIPPED: node/npm are not installed.      ##
##   jstest/ (WatermelonDB against a real server) will not run.         ##
##   Install them (apt-get install nodejs npm) to run the whole suite.  ##
##                                                                      ##
##########################################################################

BANNER
if [ "${CI:-}" = true ]; then
  echo "CI=true: node is required" >&2
  exit 1
fi
