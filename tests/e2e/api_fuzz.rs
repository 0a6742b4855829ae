//! The HTTP API against its own description: schemathesis fuzzes every operation in
//! `docs/openapi.yaml` on a running gateway and fails on any server error or schema violation.

use std::path::PathBuf;
use std::process::Command;

use docent_tests::{private_stack, workspace_root};

/// Generated cases per operation. With the fixed seed and deterministic generation every run
/// sends the same requests, so CI never turns red by chance; a wider hunt is
/// `st run docs/openapi.yaml --url … --config-file tests/api/schemathesis.toml` without them.
const EXAMPLES_PER_OPERATION: &str = "30";
const SEED: &str = "20261124";

/// schemathesis' `st`: `DOCENT_SCHEMATHESIS`, as `cargo xtask test` sets it.
fn schemathesis() -> PathBuf {
    match std::env::var_os("DOCENT_SCHEMATHESIS") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "DOCENT_SCHEMATHESIS is not set: run `cargo xtask test`, which installs schemathesis from PyPI \
             into a cache folder and sets it, or point it at an `st` you installed with `pip install schemathesis`"
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_as_documented_under_fuzzing() {
    let st = schemathesis();
    // A stack of its own: the admin API's calls (deactivate, visibility, password) must not
    // reach the bots that other tests use.
    let stack = tokio::task::spawn_blocking(private_stack).await.unwrap().expect("a private gateway");
    let root = workspace_root();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&st)
            .arg("--config-file")
            .arg(root.join("tests/api/schemathesis.toml"))
            .arg("run")
            .arg(root.join("docs/openapi.yaml"))
            .args(["--url", &stack.gateway_url()])
            .args(["--header", &format!("Authorization: Bearer {}", stack.admin_token)])
            .args([
                "--max-examples",
                EXAMPLES_PER_OPERATION,
                "--seed",
                SEED,
                "--generation-deterministic",
                "--no-color",
            ])
            .current_dir(std::env::temp_dir())
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems ({}):\n{report}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let count = |label: &str| {
        let line = report.lines().find_map(|line| line.trim().strip_prefix(label)).expect(label);
        line.rsplit('/').next().and_then(|n| n.trim().parse::<u32>().ok()).expect(label)
    };
    assert_eq!(count("Tested:"), count("Selected:"), "every documented operation was exercised:\n{report}");
}
