#!/bin/sh
# Plan from the checked-out files, print the plan, and apply exactly that saved plan
# (for pipelines that cannot fetch the plan reviewed in the merge request).
#   APINIZER_FILES, APINIZER_PLAN_FILE as for plan.sh.
# Exit code: 1 when planning or applying failed (a stale plan included), else 0.
set -eu
plan=${APINIZER_PLAN_FILE:-changes.plan}
apinizer-gitops plan -f "${APINIZER_FILES:-connections}" --out "$plan"
apinizer-gitops apply "$plan"
