#!/bin/sh
# Plan from the checked-out files, print the plan, and apply exactly that saved plan
# (for pipelines that cannot fetch the plan reviewed in the merge request).
#   APINIZER_FILES, APINIZER_PLAN_FILE, APINIZER_MAX_DELETES, APINIZER_GITOPS_VALUES as
#   for plan.sh.
# Exit code: 1 when planning or applying failed (a stale plan included), else 0.
set -eu
plan=${APINIZER_PLAN_FILE:-changes.plan}
max_deletes=${APINIZER_MAX_DELETES:-0}
apinizer-gitops plan -f "${APINIZER_FILES:-connections}" --max-deletes "$max_deletes" --out "$plan"
apinizer-gitops apply --max-deletes "$max_deletes" "$plan"
