//! `cargo xtask bench monitoring`: answer throughput with event recording on and off in the same
//! run, writing a million events, and the Analytics page's query over them
//! (`tests/benches/monitoring.rs`, optimized as `cargo bench` builds it).

use std::path::Path;

use crate::{cargo, dist, run as run_command};

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    // The gateway states in the benchmark load the widget build, as `docent serve` does.
    dist::build_widget(root)?;
    run_command(cargo(root).args(["bench", "-p", "docent-tests", "--bench", "monitoring"]).env("DOCENT_LOG", "warn"))
}
