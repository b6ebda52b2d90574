//! `drift`: a plan reported as drift, for scheduled jobs; exits 0 in sync, 1 on error,
//! 2 on drift.

use std::io::Write;

use super::plan::{Purpose, compute_from_flags, print_report, report_context};
use super::{DriftArgs, EXIT_CHANGES, EXIT_ERROR, LogArgs};
use crate::plan::UnsetSecrets;
use crate::refs::Env;
use crate::render::Wording;

/// Runs `drift` with variables from `env`, printing the report on `out`.
pub fn run(args: DriftArgs, log: &LogArgs, env: &dyn Env, out: &mut dyn Write) -> u8 {
    let purpose = Purpose {
        unset_secrets: UnsetSecrets::LeaveUncompared,
        rotate: &[],
    };
    let Some((_runtime, computed)) = compute_from_flags(&args.target, env, purpose) else {
        return EXIT_ERROR;
    };
    let context = report_context(Wording::Drift, Some(&args.target), log);
    print_report(&computed.plan, args.format, &context, out);
    if computed.plan.has_changes() {
        EXIT_CHANGES
    } else {
        0
    }
}
