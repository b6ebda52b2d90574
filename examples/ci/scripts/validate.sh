#!/bin/sh
# Validate the desired-state files offline.
#   validate.sh [FORMAT [REPORT]]   FORMAT: text (default), github (annotations on the
#   pull-request diff) or gitlab (a Code Quality report written to REPORT).
#   APINIZER_FILES         desired-state folder (default: connections)
#   APINIZER_VALUES_EACH   a glob of values files (e.g. env/*.yaml): validate once per
#                          environment, each error naming its environment (default: none,
#                          `${var:...}` left as written)
# Exit code: apinizer-gitops validate's (0 valid, 1 invalid).
set -eu
report=${2:-}
set -- -f "${APINIZER_FILES:-connections}" --format "${1:-text}"
# Quoted: the binary expands the glob, not the shell.
if [ -n "${APINIZER_VALUES_EACH:-}" ]; then
  set -- "$@" --values-each "$APINIZER_VALUES_EACH"
fi
if [ -n "$report" ]; then
  apinizer-gitops validate "$@" > "$report"
else
  apinizer-gitops validate "$@"
fi
