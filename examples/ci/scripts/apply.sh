#!/bin/sh
# Apply a saved, reviewed plan. apinizer-gitops re-reads every connection the plan
# touches and refuses the whole plan (exit 1, nothing written) when one changed since
# the plan was made ("plan is stale"). The token goes to APINIZER_URL only.
#   APINIZER_PLAN_FILE     the saved plan (default: changes.plan)
#   APINIZER_MAX_DELETES   refuse a plan with more deletes plus replaces (default 0:
#                          none; raise it in the pipeline when a deletion is meant)
#   APINIZER_GITOPS_VALUES optional: the saved plan holds its values already; when set,
#                          apply refuses a plan made for another environment or with
#                          other values
# Exit code: apinizer-gitops apply's (0 all done, 1 error, stale plan or a failed change).
set -eu
apinizer-gitops apply --max-deletes "${APINIZER_MAX_DELETES:-0}" "${APINIZER_PLAN_FILE:-changes.plan}"
