#!/bin/sh
# Scheduled drift detection. Writes the JSON report and prints one line.
#   APINIZER_FILES         desired-state folder (default: connections)
#   APINIZER_DRIFT_REPORT  JSON report to write (default: drift.json)
#   APINIZER_GITOPS_VALUES the environment's values file(s), read by apinizer-gitops
#                          itself (default: none, one installation)
# Exit code: apinizer-gitops drift's (0 in sync, 1 error, 2 drift).
set -u
report=${APINIZER_DRIFT_REPORT:-drift.json}
apinizer-gitops drift -f "${APINIZER_FILES:-connections}" --format json > "$report"
code=$?
case $code in
  0) echo "In sync with the desired state (report: $report)." ;;
  2) echo "Drift: the server differs from the desired state (report: $report)." ;;
  *) echo "drift failed with exit code $code (report: $report)." ;;
esac
exit "$code"
