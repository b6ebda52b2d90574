//! `drift`: a plan reported as drift, for scheduled jobs; exits 0 in sync, 1 on error,
//! 2 on drift.

use super::plan::{compute_from_flags, print_report};
use super::{DriftArgs, EXIT_CHANGES, EXIT_ERROR, LogArgs};
use crate::render::Wording;

/// Runs `drift`.
pub fn run(args: DriftArgs, log: &LogArgs) -> u8 {
    let Some((_runtime, computed)) = compute_from_flags(&args.files, &args.selection, &args.server)
    else {
        return EXIT_ERROR;
    };
    print_report(&computed.plan, args.format, Wording::Drift, log);
    if computed.plan.has_changes() {
        EXIT_CHANGES
    } else {
        0
    }
}
