//! The real `docent` binary managing bots: exit codes, bad arguments, alert settings, and a kill in every deploy phase.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use docent_lifecycle::failpoint::POINTS;
use docent_lifecycle::{Lifecycle, LifecycleOptions};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the demo bots and a data directory, driven through the binary.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/bots"), &dir.path().join("bots"));
        Site { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn docent(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_docent"));
        command
            .args(args)
            .env("DOCENT_DATA", self.path("data"))
            .env("DOCENT_BOTS", self.path("bots"))
            .env("DOCENT_ACTOR", "tester")
            // These tests are about the deploy's atomicity: lexical indexes keep them fast,
            // and `lifecycle()` opens them without a model.
            .env_remove("DOCENT_MODEL")
            .env_remove("DOCENT_FAILPOINT");
        if let Some(point) = failpoint {
            command.env("DOCENT_FAILPOINT", point);
        }
        command.output().unwrap()
    }

    fn lifecycle(&self) -> Lifecycle {
        Lifecycle::open(LifecycleOptions::new(self.path("data"), self.path("bots"))).unwrap()
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn check_exit_codes_tell_the_state() {
    let site = Site::new();
    let output = site.docent(&["check"], None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("brightwater: Ready to deploy"));
    assert!(site.docent(&["deploy", "brightwater"], None).status.success());
    let bot_toml = site.path("bots/brightwater/bot.toml");
    let config = std::fs::read_to_string(&bot_toml).unwrap();
    std::fs::write(&bot_toml, config.replace("position = \"right\"", "position = \"left\"")).unwrap();
    let output = site.docent(&["check", "brightwater"], None);
    assert_eq!(output.status.code(), Some(10), "{}", text(&output));
    assert!(text(&output).contains("~ chatroom setting appearance"), "{}", text(&output));
    std::fs::write(&bot_toml, config.replace("tone = ", "# tone = ")).unwrap();
    let output = site.docent(&["check", "brightwater"], None);
    assert_eq!(output.status.code(), Some(20), "{}", text(&output));
    assert!(text(&output).contains("Incomplete survey: missing answers: tone"), "{}", text(&output));
}

#[test]
fn bad_arguments_get_a_clear_error() {
    let site = Site::new();
    let cases: &[(&[&str], &str)] = &[
        (&["deploy", "Bad_Id"], "\"Bad_Id\" is not a bot id"),
        (&["deploy", "nobody"], "no bot named \"nobody\""),
        (&["deploy", "brightwater", "--at", "soon"], "--at `soon` is not a time"),
        (&["activate", "brightwater", "--at", "+5y"], "the unit of a delay is s, m, h or d"),
        (&["plan", "brightwater", "set", "--storage", "5 parsecs"], "the unit is B, KB, MB, GB, KiB, MiB or GiB"),
        (&["access", "brightwater", "visibility", "secret"], "invalid value 'secret'"),
        (&["rollback", "brightwater"], "\"brightwater\" was never deployed"),
        (&["status", "--peak-hours", "9"], "peak hours are two UTC hours like 8-20"),
        (&["ask", "brightwater"], "give a question, or --stdin to read one per line"),
        (&["kb", "lint", "nobody"], "no bot named \"nobody\""),
    ];
    for (args, expect) in cases {
        let output = site.docent(args, None);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(text(&output).contains(expect), "{args:?}: {}", text(&output));
    }
}

#[test]
fn alert_settings_are_validated_and_never_show_their_secrets() {
    let site = Site::new();
    assert!(site.docent(&["deploy", "brightwater"], None).status.success());
    let file = site.path("alerts.toml");
    for (settings, expect) in [
        ("[[channel]]\nkind = \"slack\"\n", "line 1: channel 1 (`url` is required)"),
        ("[thresholds]\nerror_rate_percent = 150\n", "line 2: `thresholds.error_rate_percent` must be above 0"),
        ("[[channel]]\nkind = \"pager\"\nurl = \"https://x.example/T0K3N\"\n", "`kind` is webhook, slack"),
    ] {
        std::fs::write(&file, settings).unwrap();
        let output = site.docent(&["alerts", "brightwater", "set", file.to_str().unwrap()], None);
        assert_eq!(output.status.code(), Some(1), "{settings:?}: {}", text(&output));
        assert!(text(&output).contains(expect), "{settings:?}: {}", text(&output));
        assert!(!text(&output).contains("T0K3N"), "{}", text(&output));
    }
    let good = "[thresholds]\nspike_percent = 500\n\n[[channel]]\nkind = \"slack\"\n\
                url = \"https://hooks.example/services/T0K3N\"\n\n[[channel]]\nkind = \"email\"\n\
                server = \"smtp.example\"\nusername = \"alerts\"\npassword = \"PA55W0RD\"\n\
                from = \"alerts@acme.example\"\nto = [\"ops@acme.example\"]\n";
    std::fs::write(&file, good).unwrap();
    let output = site.docent(&["alerts", "brightwater", "set", file.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", text(&output));
    let shown = text(&site.docent(&["alerts", "brightwater", "show"], None));
    for expect in ["traffic over        500 % of normal", "slack hooks.example", "email via smtp.example:587"] {
        assert!(shown.contains(expect), "{expect} in {shown}");
    }
    let audit = text(&site.docent(&["audit", "brightwater"], None));
    assert!(audit.contains("alerts.set"), "{audit}");
    for secret in ["T0K3N", "PA55W0RD"] {
        assert!(!shown.contains(secret) && !audit.contains(secret), "{secret} shown: {shown}{audit}");
    }
    let incidents = site.docent(&["alerts", "brightwater", "incidents"], None);
    assert!(incidents.status.success() && incidents.stdout.is_empty(), "{}", text(&incidents));
    assert!(site.docent(&["alerts", "brightwater", "clear"], None).status.success());
    assert!(text(&site.docent(&["alerts", "brightwater", "show"], None)).contains("channels: none"));
}

#[test]
fn ask_reads_questions_from_stdin_as_json_lines() {
    let site = Site::new();
    assert!(site.docent(&["deploy", "brightwater"], None).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_docent"))
        .args(["ask", "brightwater", "--stdin", "--json"])
        .env("DOCENT_DATA", site.path("data"))
        .env("DOCENT_BOTS", site.path("bots"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"How long does delivery take?\nWhat is the weather on Mars?\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["reply"]["kind"], "faq");
    assert_eq!(lines[1]["reply"]["kind"], "unknown");
}

#[test]
fn kb_lint_exits_10_on_findings() {
    let site = Site::new();
    let lint = |site: &Site| {
        let output = site.docent(&["kb", "lint", "brightwater", "--json"], None);
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output)));
        (output.status.code(), report)
    };
    let (code, report) = lint(&site);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["model"], serde_json::Value::Null, "without DOCENT_MODEL the checks are lexical");
    for kind in ["duplicates", "conflicts", "empty_answers", "long_sections"] {
        assert_eq!(report[kind], serde_json::json!([]), "{kind}: {report}");
    }

    let knowledge = site.path("bots/brightwater/knowledge");
    let faq = std::fs::read_to_string(knowledge.join("faq.toml")).unwrap();
    let extra = "\n[[qa]]\nquestion = \"How long does delivery take\"\nanswer = \"A month.\"\n\n[[qa]]\nquestion = \"Gift cards?\"\nanswer = \"\"\n";
    std::fs::write(knowledge.join("faq.toml"), format!("{faq}{extra}")).unwrap();
    std::fs::write(knowledge.join("manual.md"), format!("# Manual\n\n{}\n", "Check the brakes. ".repeat(100))).unwrap();
    let (code, report) = lint(&site);
    assert_eq!(code, Some(10), "{report}");
    assert_eq!(report["conflicts"][0]["second"], "faq.toml#how-long-does-delivery-take-2", "{report}");
    assert!(report["empty_answers"][0].to_string().contains("field `answer` is empty"), "{report}");
    assert_eq!(report["long_sections"][0]["source"], "manual.md#manual", "{report}");
}

/// A deploy killed at each failpoint leaves the old generation (or, once activated, the new
/// one) live, never a half-written one; a new deploy then succeeds.
#[test]
fn a_deploy_killed_in_any_phase_leaves_a_consistent_store() {
    for point in POINTS {
        let site = Site::new();
        assert!(site.docent(&["deploy", "brightwater"], None).status.success());
        let shipping = site.path("bots/brightwater/knowledge/shipping.md");
        let text_before = std::fs::read_to_string(&shipping).unwrap();
        std::fs::write(&shipping, format!("{text_before}\nParcels to islands take 2 extra days.\n")).unwrap();

        let killed = site.docent(&["deploy", "brightwater"], Some(point));
        assert!(!killed.status.success(), "{point}: the process was not killed");

        let lifecycle = site.lifecycle();
        let live = lifecycle.store().bot("brightwater").unwrap().unwrap().live;
        let expect = if *point == "activated" { Some(2) } else { Some(1) };
        assert_eq!(live, expect, "{point}: wrong live generation");
        for generation in lifecycle.store().generations("brightwater").unwrap() {
            lifecycle
                .open_generation(&generation)
                .unwrap_or_else(|err| panic!("{point}: generation {} does not open: {err}", generation.number));
        }
        let listed: Vec<String> =
            lifecycle.store().generations("brightwater").unwrap().into_iter().map(|g| g.dir).collect();
        for entry in std::fs::read_dir(site.path("data/generations/brightwater")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(listed.contains(&name), "{point}: {name} is left on disk after a restart");
        }
        assert!(lifecycle.open_live("brightwater").unwrap().is_some(), "{point}: nothing serves");
        drop(lifecycle);

        let again = site.docent(&["deploy", "brightwater"], None);
        assert!(again.status.success(), "{point}: the next deploy failed: {}", text(&again));
        let lifecycle = site.lifecycle();
        let (_, knowledge) = lifecycle.open_live("brightwater").unwrap().unwrap();
        assert!(knowledge.manifest().inventory.files.len() >= 7, "{point}");
    }
}

/// A deploy that runs out of disk space fails with a clear error and leaves the live generation
/// serving; once space is freed, the next deploy succeeds. The data directory sits on a 4 MiB
/// tmpfs in a private mount namespace (`unshare`, no root needed where user namespaces are on).
#[test]
fn a_deploy_on_a_full_disk_leaves_the_live_generation_serving() {
    let site = Site::new();
    std::fs::create_dir_all(site.path("data")).unwrap();
    let big = site.path("bots/brightwater/knowledge/big-manual.md");
    // Part numbers that neither compress nor repeat: the index outgrows the disk.
    let mut manual = String::from("# Parts catalogue\n\n");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..40_000 {
        for _ in 0..6 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            manual.push_str(&format!("p{seed:016x} "));
        }
        manual.push_str("\n\n");
    }
    let script = r#"set -u
mount -t tmpfs -o size=4m tmpfs "$DOCENT_DATA" || { echo "cannot mount a tmpfs"; exit 90; }
"$DOCENT" deploy brightwater > /dev/null 2>&1 || { echo "the first deploy failed"; exit 91; }
cp "$MANUAL" "$BIG"
"$DOCENT" deploy brightwater > "$OUT/full.txt" 2>&1 && { echo "a deploy succeeded on a full disk"; exit 92; }
"$DOCENT" status brightwater --json > "$OUT/status.json" 2>&1 || exit 93
"$DOCENT" ask brightwater "How long does delivery take?" --json > "$OUT/ask.json" 2>&1 || exit 94
rm "$BIG"
"$DOCENT" deploy brightwater > "$OUT/after.txt" 2>&1 || { echo "the deploy after freeing space failed"; exit 95; }
ls "$DOCENT_DATA/generations/brightwater" > "$OUT/dirs.txt"
"#;
    std::fs::write(site.path("manual.md"), manual).unwrap();
    let output = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("DOCENT", env!("CARGO_BIN_EXE_docent"))
        .env("DOCENT_DATA", site.path("data"))
        .env("DOCENT_BOTS", site.path("bots"))
        .env("DOCENT_ACTOR", "tester")
        .env("MANUAL", site.path("manual.md"))
        .env("BIG", &big)
        .env("OUT", site.path(""))
        .env_remove("DOCENT_MODEL")
        .env_remove("DOCENT_FAILPOINT")
        .output()
        .expect("this test needs `unshare` from util-linux (apt-get install util-linux)");
    let read = |name: &str| std::fs::read_to_string(site.path(name)).unwrap_or_default();
    assert!(
        output.status.success(),
        "{}\nfull-disk deploy said: {}\nafter: {}",
        text(&output),
        read("full.txt"),
        read("after.txt")
    );
    assert!(read("full.txt").contains("No space left on device"), "the error names the cause: {}", read("full.txt"));
    let status: serde_json::Value = serde_json::from_str(&read("status.json")).unwrap();
    assert_eq!(status[0]["live"], 1, "generation 1 stays live: {status}");
    assert!(read("ask.json").contains("business day"), "and answers: {}", read("ask.json"));
    let dirs = read("dirs.txt");
    assert!(!dirs.contains(".tmp"), "nothing half-written is left: {dirs}");
}
