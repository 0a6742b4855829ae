//! The widget's build pipeline: Rust → wasm32 → wasm-bindgen glue → `bundle.js` + `.wasm` + gzip copies.

use std::ffi::OsString;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use wasm_bindgen_cli_support::Bindgen;

/// The target the widget compiles for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The stem wasm-bindgen names its outputs after: `{STEM}.js` and `{STEM}_bg.wasm`.
const STEM: &str = "docent_widget";

/// The wasm file's name in the dist directory; `bundle.js` fetches it by this name.
const WASM_FILE: &str = "docent_widget_bg.wasm";

/// `bundle.js` up to the generated glue. It runs inside an arrow function so that
/// nothing it declares, the glue included, becomes a global of the host page.
const LOADER_HEAD: &str = r#"/*! Docent chat widget. Built by `cargo xtask dist`; do not edit. */
(() => {
"use strict";
// Read the tag that loaded us now: `document.currentScript` is null once this script yields.
const script = document.currentScript;
if (!(script instanceof HTMLScriptElement) || !script.src) {
  console.error("docent: bundle.js must be loaded from a <script src=\"…/bundle.js\"> tag");
  return;
}
const bot = script.getAttribute("data-bot");
if (!bot) {
  console.error("docent: the <script> tag that loads " + script.src +
    " needs a data-bot attribute naming the bot, e.g. data-bot=\"acme\"; the widget is not shown");
  return;
}
// The same snippet pasted twice: only the first tag in the document starts the widget.
for (const other of document.querySelectorAll("script[data-bot]")) {
  if (other === script) break;
  if (other.src === script.src && other.getAttribute("data-bot") === bot) return;
}
// bundle.js lives at {gateway}/widget/{version}/bundle.js, next to the wasm.
const wasmUrl = new URL("docent_widget_bg.wasm", script.src).href;
const gatewayBase = new URL("../../", script.src).href;
"#;

/// `bundle.js` after the glue: load the wasm, then hand over to Rust.
const LOADER_TAIL: &str = r#"
wasm_bindgen({ module_or_path: wasmUrl })
  .then(() => wasm_bindgen.boot(bot, gatewayBase))
  .catch((err) => console.error("docent: the widget could not be loaded:", err));
})();
"#;

/// What [`build_widget`] produced.
#[derive(Debug)]
pub(crate) struct WidgetDist {
    /// `<root>/target/widget-dist`.
    pub(crate) dir: PathBuf,
    pub(crate) bundle_js: PathBuf,
    pub(crate) wasm: PathBuf,
    /// `bundle.js` + the wasm, uncompressed.
    pub(crate) raw_bytes: u64,
    /// `bundle.js.gz` + the wasm's `.gz`.
    pub(crate) gzip_bytes: u64,
}

/// Builds the widget into `<root>/target/widget-dist/`: bundle.js, docent_widget_bg.wasm,
/// and a .gz of each. Returns the paths and sizes.
pub(crate) fn build_widget(root: &Path) -> Result<WidgetDist> {
    ensure_wasm_target()?;
    let wasm_target_dir = root.join("target").join("wasm");
    let compiled = compile(root, &wasm_target_dir)?;

    let staging = wasm_target_dir.join("bindgen");
    let glue = bindgen(&compiled, &staging)?;

    let dir = root.join("target").join("widget-dist");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let wasm = dir.join(WASM_FILE);
    optimize(&staging.join(WASM_FILE), &wasm)?;
    let bundle_js = dir.join("bundle.js");
    let loader = [LOADER_HEAD, glue.trim(), LOADER_TAIL].concat();
    fs::write(&bundle_js, loader).with_context(|| format!("writing {}", bundle_js.display()))?;

    let mut raw_bytes = 0;
    let mut gzip_bytes = 0;
    for file in [&bundle_js, &wasm] {
        let (raw, gzipped) = gzip_copy(file)?;
        raw_bytes += raw;
        gzip_bytes += gzipped;
    }
    let dist = WidgetDist { dir, bundle_js, wasm, raw_bytes, gzip_bytes };
    dist.report();
    Ok(dist)
}

impl WidgetDist {
    /// Prints the files and their sizes.
    fn report(&self) {
        println!(
            "widget: {} + {}: {} bytes, {} gzipped",
            self.bundle_js.display(),
            self.wasm.display(),
            self.raw_bytes,
            self.gzip_bytes
        );
    }
}

/// Ensures the wasm32 target is installed: if `rustup target list --installed` lacks
/// wasm32-unknown-unknown, runs `rustup target add wasm32-unknown-unknown` (printing
/// what it does); if rustup is absent, fails with the exact command to run.
pub(crate) fn ensure_wasm_target() -> Result<()> {
    let listed = match Command::new("rustup").args(["target", "list", "--installed"]).output() {
        Ok(output) => output,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            // A toolchain without rustup (a distribution's package, say) may still ship the target.
            if sysroot_has_wasm_target() {
                return Ok(());
            }
            bail!(
                "the {WASM_TARGET} target is needed to build the widget, and rustup is not on PATH \
                 to install it; install rustup (https://rustup.rs), then run: \
                 rustup target add {WASM_TARGET}"
            );
        }
        Err(err) => return Err(err).context("running `rustup target list --installed`"),
    };
    if !listed.status.success() {
        bail!(
            "`rustup target list --installed` failed ({}): {}",
            listed.status,
            String::from_utf8_lossy(&listed.stderr).trim()
        );
    }
    if String::from_utf8_lossy(&listed.stdout).lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    println!("widget: the {WASM_TARGET} target is missing; running `rustup target add {WASM_TARGET}`");
    let status =
        Command::new("rustup").args(["target", "add", WASM_TARGET]).status().context("running `rustup target add`")?;
    if !status.success() {
        bail!("`rustup target add {WASM_TARGET}` failed ({status}); run it by hand to see why");
    }
    Ok(())
}

/// Whether the active toolchain's sysroot holds the wasm32 standard library.
fn sysroot_has_wasm_target() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| {
            let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            Path::new(&sysroot).join("lib").join("rustlib").join(WASM_TARGET).join("lib").is_dir()
        })
        .unwrap_or(false)
}

/// `cargo build` of the widget for wasm32 with the size-tuned `widget` profile, in
/// its own target dir so the native build's artifacts stay valid. Returns the `.wasm`.
fn compile(root: &Path, target_dir: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    println!("widget: cargo build -p docent-widget --target {WASM_TARGET} --profile widget");
    let status = Command::new(cargo)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "-p", "docent-widget", "--lib", "--target", WASM_TARGET])
        .args(["--profile", "widget"])
        .status()
        .context("running cargo to build the widget")?;
    if !status.success() {
        bail!("building the widget for {WASM_TARGET} failed ({status})");
    }
    let wasm = target_dir.join(WASM_TARGET).join("widget").join(format!("{STEM}.wasm"));
    if !wasm.is_file() {
        bail!("cargo succeeded but {} is missing", wasm.display());
    }
    Ok(wasm)
}

/// Runs wasm-bindgen in-process for classic `<script>` use (`--target no-modules`),
/// writing `{STEM}_bg.wasm` into `staging`. Returns the JS glue.
fn bindgen(wasm: &Path, staging: &Path) -> Result<String> {
    if staging.exists() {
        fs::remove_dir_all(staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    let mut bindgen = Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(STEM)
        .no_modules(true)
        .context("choosing wasm-bindgen's no-modules output")?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true);
    bindgen.generate(staging).with_context(|| format!("running wasm-bindgen on {}", wasm.display()))?;
    let glue = staging.join(format!("{STEM}.js"));
    fs::read_to_string(&glue).with_context(|| format!("reading {}", glue.display()))
}

/// The oldest binaryen whose `wasm-opt` keeps wasm-bindgen's externref table
/// export intact: up to version 109 the binary writer pointed every exported
/// table at table 0, which breaks instantiation of modules built with reference
/// types (rustc's default for wasm32 since 1.82).
const MIN_WASM_OPT: u32 = 110;

/// Copies the bindgen'd wasm to `out`, through `wasm-opt -Oz` when a recent enough one is on PATH.
fn optimize(input: &Path, out: &Path) -> Result<()> {
    let version = Command::new("wasm-opt")
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let skip = match &version {
        None => Some("wasm-opt is not on PATH".to_owned()),
        Some(text) => match binaryen_version(text) {
            Some(number) if number >= MIN_WASM_OPT => None,
            _ => Some(format!("`{text}` is older than binaryen {MIN_WASM_OPT}, which this wasm needs")),
        },
    };
    if let Some(reason) = skip {
        println!("widget: {reason}; shipping the wasm without wasm-opt");
        fs::copy(input, out).with_context(|| format!("copying the wasm to {}", out.display()))?;
        return Ok(());
    }
    println!("widget: wasm-opt -Oz");
    let output = Command::new("wasm-opt")
        .arg("-Oz")
        .args(["--enable-bulk-memory", "--enable-mutable-globals", "--enable-sign-ext"])
        .args(["--enable-nontrapping-float-to-int", "--enable-reference-types", "--enable-multivalue"])
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .context("running wasm-opt")?;
    if !output.status.success() {
        bail!(
            "wasm-opt -Oz {} failed ({}): {}",
            input.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The release number in `wasm-opt --version` output, e.g. 116 in
/// `wasm-opt version 116 (version_116)`.
fn binaryen_version(text: &str) -> Option<u32> {
    let rest = text.split("version ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Writes `{file}.gz` at the best compression. Returns the sizes of `file` and of its copy.
fn gzip_copy(file: &Path) -> Result<(u64, u64)> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&bytes).context("gzip")?;
    let gzipped = encoder.finish().context("gzip")?;
    let mut name = file.as_os_str().to_owned();
    name.push(".gz");
    let gz = PathBuf::from(name);
    fs::write(&gz, &gzipped).with_context(|| format!("writing {}", gz.display()))?;
    Ok((bytes.len() as u64, gzipped.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_binaryen_release_numbers() {
        assert_eq!(binaryen_version("wasm-opt version 108"), Some(108));
        assert_eq!(binaryen_version("wasm-opt version 116 (version_116)"), Some(116));
        assert_eq!(binaryen_version("wasm-opt version 123 (version_123-12-gabc)"), Some(123));
        assert_eq!(binaryen_version("wasm-opt"), None);
        assert_eq!(binaryen_version("wasm-opt version beta"), None);
    }
}
