#!/bin/sh
# The pull-request plan: the markdown for the comment and the saved plan for apply.
#   APINIZER_FILES         desired-state folder (default: connections)
#   APINIZER_PLAN_FILE     saved plan to write (default: changes.plan)
#   APINIZER_PLAN_COMMENT  markdown to write (default: plan.md)
#   APINIZER_MAX_DELETES   refuse a plan with more deletes plus replaces (default 0:
#                          none; raise it in the pipeline when a deletion is meant)
#   APINIZER_GITOPS_VALUES the environment's values file(s), read by apinizer-gitops
#                          itself (default: none, one installation)
# Exit code: apinizer-gitops plan's (0 planned, with or without changes; 1 error).
set -eu
apinizer-gitops plan -f "${APINIZER_FILES:-connections}" \
  --max-deletes "${APINIZER_MAX_DELETES:-0}" --format markdown --out "${APINIZER_PLAN_FILE:-changes.plan}" \
  > "${APINIZER_PLAN_COMMENT:-plan.md}"
echo "Plan written to ${APINIZER_PLAN_FILE:-changes.plan} and ${APINIZER_PLAN_COMMENT:-plan.md}."
