#!/bin/sh
# Validate the desired-state files offline.
#   validate.sh [FORMAT [REPORT]]   FORMAT: text (default), github (annotations on the
#   pull-request diff) or gitlab (a Code Quality report written to REPORT).
# Exit code: apinizer-gitops validate's (0 valid, 1 invalid).
set -eu
files=${APINIZER_FILES:-connections}
format=${1:-text}
if [ -n "${2:-}" ]; then
  apinizer-gitops validate -f "$files" --format "$format" > "$2"
else
  apinizer-gitops validate -f "$files" --format "$format"
fi
