//! The widget's build pipeline: Rust → wasm32 → wasm-bindgen glue → `bundle.js` + `.wasm` + gzip and brotli copies.

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

/// The terser release, installed from npm, that minifies bundle.js and frames.js.
const NPM_TERSER: &str = "terser@5.51.4";

/// The wasm file's name in the dist directory; `bundle.js` fetches it by this name.
const WASM_FILE: &str = "docent_widget_bg.wasm";

/// The script bundle.js adds to pages whose CSP forbids WebAssembly: the chat in frames of the gateway.
const FRAMES_JS: &str = include_str!("frames.js");

/// Its name in the dist directory, next to bundle.js.
const FRAMES_FILE: &str = "frames.js";

/// `bundle.js` up to the generated glue. It runs inside an arrow function so that
/// nothing it declares, the glue included, becomes a global of the host page; its one
/// global is `window.Docent`, the page's API.
const LOADER_HEAD: &str = r#"/*! Docent chat widget. Built by `cargo xtask dist`; do not edit. */
(() => {
"use strict";
// Read the tag that loaded us now: `document.currentScript` is null once this script yields.
const script = document.currentScript;
if (!(script instanceof HTMLScriptElement) || !script.src) {
  console.error("docent: bundle.js must be loaded from a <script src=\"…/bundle.js\"> tag");
  return;
}
if (!script.getAttribute("data-bot")) {
  console.error("docent: the <script> tag that loads " + script.src +
    " needs a data-bot attribute naming the bot, e.g. data-bot=\"acme\"; the widget is not shown");
  return;
}
// Another copy of the snippet (any `src`, any bot) already loaded the widget: it starts this one too.
if (window.Docent) {
  window.Docent.mount();
  return;
}
// bundle.js lives at {gateway}/widget/{version}/bundle.js, next to the wasm.
const wasmUrl = new URL("docent_widget_bg.wasm", script.src).href;
"#;

/// `bundle.js` after the glue: load the wasm once, start every bot whose snippet is on the
/// page, and define `window.Docent`.
const LOADER_TAIL: &str = r#"
const handlers = {};
const emit = (event, bot, detail) => {
  for (const handler of handlers[event] || []) {
    try { handler(detail, bot); } catch (err) { console.error("docent: a Docent.on(\"" + event + "\") handler failed:", err); }
  }
};
// window.Docent, whose commands `run(bot, action, argument)` carries out; `mount` starts the snippets' bots.
const define = (run, mount) => {
  const api = (bot) => {
    const command = (action) => (argument) => run(bot, action, argument);
    return Object.freeze({
      open: command("open"), close: command("close"), toggle: command("toggle"), reset: command("reset"),
      destroy: command("destroy"), identify: command("identify"), goal: command("goal"), end: command("end"),
      on: (event, handler) => {
        (handlers[event] = handlers[event] || []).push((detail, from) => (!bot || from === bot) && handler(detail, from));
      },
    });
  };
  window.Docent = Object.freeze({ ...api(""), mount, bot: api });
  mount().catch((err) => console.error("docent: the widget could not be loaded:", err));
};
const snippets = () => [...document.querySelectorAll("script[data-bot]")].filter((tag) => /\/bundle\.js([?#]|$)/.test(tag.src));
// The snippet's data-locale and the page's lang, for the gateway to pick the widget's language.
const language = (tag) => "locale=" + encodeURIComponent(tag.getAttribute("data-locale") || "") + "&lang=" + encodeURIComponent(document.documentElement.lang);
let wasm = true;
try { new WebAssembly.Module(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0)); } catch (err) { wasm = false; }
if (!wasm && script.hasAttribute("data-frame")) {
  console.error("docent: this browser cannot run WebAssembly, so the chat cannot be shown");
  return;
}
if (!wasm) {
  // The page's CSP forbids compiling wasm: frames.js puts each bot in a frame from the gateway.
  // Only such pages download it; it gets this script's helpers through its <script> element.
  if (!document.querySelector("script[data-docent-frames]")) {
    const frames = document.createElement("script");
    frames.src = new URL("frames.js", script.src).href;
    frames.setAttribute("data-docent-frames", "");
    frames.docent = { script, emit, define, snippets, language };
    document.head.append(frames);
  }
  return;
}
const ready = wasm_bindgen({ module_or_path: wasmUrl });
// Each bot's config is fetched while the wasm loads, and handed over once.
const configs = new Map();
const fetchConfig = (tag) => {
  const config = fetch(new URL("../../", tag.src).href + "v1/bots/" + encodeURIComponent(tag.getAttribute("data-bot")) + "/config?" + language(tag), { credentials: "omit" });
  // The widget reads a failure once it has loaded: no "unhandled rejection" meanwhile.
  config.catch(() => {});
  return config;
};
for (const tag of snippets()) {
  configs.has(tag.getAttribute("data-bot")) || configs.set(tag.getAttribute("data-bot"), fetchConfig(tag));
}
// Starts the bots of every snippet on the page, and puts back widgets a new <body> dropped.
const mount = () => ready.then(() => {
  for (const tag of snippets()) {
    const bot = tag.getAttribute("data-bot");
    // Called once by a widget that starts: the early fetch, else a new one.
    const config = () => {
      const early = configs.get(bot);
      configs.delete(bot);
      return early || fetchConfig(tag);
    };
    wasm_bindgen.boot(bot, new URL("../../", tag.src).href, emit, config);
  }
  wasm_bindgen.command("", "mount", undefined);
});
define((bot, action, argument) => ready.then(() => wasm_bindgen.command(bot, action, argument)), mount);
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
/// and a .gz and .br of each. Returns the paths and sizes.
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
    let optimized = fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let (short_wasm, glue) = shorten_imports(&optimized, &glue).context("shortening the wasm's import names")?;
    fs::write(&wasm, short_wasm).with_context(|| format!("writing {}", wasm.display()))?;
    let bundle_js = dir.join("bundle.js");
    let loader = minify_js(&[LOADER_HEAD, &glue, LOADER_TAIL].concat(), &staging)?;
    fs::write(&bundle_js, loader).with_context(|| format!("writing {}", bundle_js.display()))?;
    let frames_js = dir.join(FRAMES_FILE);
    fs::write(&frames_js, minify_js(FRAMES_JS, &staging)?)
        .with_context(|| format!("writing {}", frames_js.display()))?;
    gzip_copy(&frames_js)?;

    let mut raw_bytes = 0;
    let mut gzip_bytes = 0;
    for file in [&bundle_js, &wasm] {
        let (raw, gzipped) = gzip_copy(file)?;
        println!("widget: {}: {raw} bytes, {gzipped} gzipped", file.display());
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

/// The binaryen release installed from npm when no recent enough `wasm-opt` is on PATH.
const NPM_BINARYEN: &str = "binaryen@132";

/// Copies the bindgen'd wasm to `out` through `wasm-opt -Oz`: the one on PATH when it is
/// binaryen [`MIN_WASM_OPT`] or newer, else npm's `binaryen` in the cache (installed when missing).
/// Without node and npm, the wasm ships unoptimized, saying so.
fn optimize(input: &Path, out: &Path) -> Result<()> {
    let wasm_opt = match find_wasm_opt() {
        Ok(program) => program,
        Err(reason) => {
            println!("widget: {reason:#}; shipping the wasm without wasm-opt");
            fs::copy(input, out).with_context(|| format!("copying the wasm to {}", out.display()))?;
            return Ok(());
        }
    };
    println!("widget: {} -Oz", wasm_opt.display());
    let output = Command::new(&wasm_opt)
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

/// A `wasm-opt` of binaryen [`MIN_WASM_OPT`] or newer: PATH's, else the cached npm one.
fn find_wasm_opt() -> Result<PathBuf> {
    let system = PathBuf::from("wasm-opt");
    if wasm_opt_version(&system).is_some_and(|number| number >= MIN_WASM_OPT) {
        return Ok(system);
    }
    let cached = npm_tool(NPM_BINARYEN, "binaryen", "node_modules/binaryen/bin/wasm-opt")?;
    match wasm_opt_version(&cached) {
        Some(number) if number >= MIN_WASM_OPT => Ok(cached),
        _ => bail!("{} does not report binaryen {MIN_WASM_OPT} or newer", cached.display()),
    }
}

/// The program at `program` (relative to its prefix) of the npm `package`, installed into
/// `folder` of Docent's cache when missing.
fn npm_tool(package: &str, folder: &str, program: &str) -> Result<PathBuf> {
    let prefix = cache_dir()?.join(folder);
    let cached = prefix.join(program);
    if !cached.is_file() {
        println!("widget: installing {package}: npm install {package} --prefix {}", prefix.display());
        fs::create_dir_all(&prefix).with_context(|| format!("creating {}", prefix.display()))?;
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", package, "--prefix"])
            .arg(&prefix)
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("running npm (node and npm are needed for {package})"))?;
        if !status.success() {
            bail!("npm install {package} failed ({status})");
        }
    }
    Ok(cached)
}

/// `js` minified by terser (compressed, names mangled, the `/*!` banner kept), through files in
/// `staging`; without node and npm, only without its indentation and comment lines, saying so.
fn minify_js(js: &str, staging: &Path) -> Result<String> {
    let terser = match npm_tool(NPM_TERSER, "terser", "node_modules/.bin/terser") {
        Ok(terser) => terser,
        Err(reason) => {
            println!("widget: {reason:#}; shipping the scripts without terser");
            let (banner, code) = js.split_once('\n').unwrap_or(("", js));
            return Ok([banner, "\n", &compact_js(code)].concat());
        }
    };
    let (input, output) = (staging.join("script.js"), staging.join("script.min.js"));
    fs::write(&input, js).with_context(|| format!("writing {}", input.display()))?;
    let result = Command::new(&terser)
        .arg(&input)
        .args(["--compress", "--mangle", "--comments", "/^!/", "--output"])
        .arg(&output)
        .output()
        .context("running terser")?;
    if !result.status.success() {
        bail!(
            "terser {} failed ({}): {}",
            input.display(),
            result.status,
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))
}

/// The binaryen release of the `wasm-opt` at `program`, if it runs.
fn wasm_opt_version(program: &Path) -> Option<u32> {
    Command::new(program)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| binaryen_version(&String::from_utf8_lossy(&output.stdout)))
}

/// Docent's cache folder: `$XDG_CACHE_HOME/docent`, else `~/.cache/docent`.
pub(crate) fn cache_dir() -> Result<PathBuf> {
    let cache = match std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").context("neither XDG_CACHE_HOME nor HOME is set")?).join(".cache")
        }
    };
    Ok(cache.join("docent"))
}

/// The release number in `wasm-opt --version` output, e.g. 116 in
/// `wasm-opt version 116 (version_116)`.
fn binaryen_version(text: &str) -> Option<u32> {
    let rest = text.split("version ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Renames the wasm's imports to short names (`a`, `b`, … `ba`, …) in the wasm and in the glue's
/// import object, where each appears once as a key: wasm-bindgen's names carry a 16-hex-digit
/// hash each, which gzip cannot shrink. An import whose name is not exactly once in the glue
/// keeps its name.
fn shorten_imports(wasm: &[u8], glue: &str) -> Result<(Vec<u8>, String)> {
    const IMPORT_SECTION: u8 = 2;
    let mut glue = glue.to_owned();
    let mut out = wasm.get(..8).context("not a wasm module")?.to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        let (size, body_start) = leb128(wasm, at + 1)?;
        let body = wasm.get(body_start..body_start + size).context("a section runs past the end")?;
        at = body_start + size;
        if id != IMPORT_SECTION {
            out.extend_from_slice(&wasm[start..at]);
            continue;
        }
        let mut section = Vec::new();
        let (count, mut pos) = leb128(body, 0)?;
        push_leb128(&mut section, count);
        for index in 0..count {
            let (module, next) = name(body, pos)?;
            let (field, next) = name(body, next)?;
            let desc_end = import_desc_end(body, next)?;
            let key = [field, ":"].concat();
            let short = short_name(index);
            let renamed = glue.matches(&key).count() == 1;
            if renamed {
                glue = glue.replacen(&key, &[short.as_str(), ":"].concat(), 1);
            }
            for text in [module, if renamed { short.as_str() } else { field }] {
                push_leb128(&mut section, text.len());
                section.extend_from_slice(text.as_bytes());
            }
            section.extend_from_slice(&body[next..desc_end]);
            pos = desc_end;
        }
        out.push(IMPORT_SECTION);
        push_leb128(&mut out, section.len());
        out.extend_from_slice(&section);
    }
    Ok((out, glue))
}

/// `a` … `z`, `A` … `Z`, then two letters and more: a JS identifier and a wasm name.
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = vec![LETTERS[index % LETTERS.len()]];
    index /= LETTERS.len();
    while index > 0 {
        name.push(LETTERS[index % LETTERS.len()]);
        index /= LETTERS.len();
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// A name (LEB128 length, UTF-8 bytes) at `at`, and the position after it.
fn name(bytes: &[u8], at: usize) -> Result<(&str, usize)> {
    let (len, start) = leb128(bytes, at)?;
    let text = bytes.get(start..start + len).context("a name runs past the end")?;
    Ok((std::str::from_utf8(text).context("a name is not UTF-8")?, start + len))
}

/// Where the import description starting at `at` (kind byte, then its fields) ends.
fn import_desc_end(bytes: &[u8], at: usize) -> Result<usize> {
    let kind = *bytes.get(at).context("an import has no kind")?;
    let limits_end = |at: usize| -> Result<usize> {
        let flags = *bytes.get(at).context("limits without flags")?;
        let (_, after_min) = leb128(bytes, at + 1)?;
        if flags & 1 == 1 { Ok(leb128(bytes, after_min)?.1) } else { Ok(after_min) }
    };
    match kind {
        0x00 => Ok(leb128(bytes, at + 1)?.1),
        0x01 => limits_end(at + 2),
        0x02 => limits_end(at + 1),
        0x03 => Ok(at + 3),
        0x04 => Ok(leb128(bytes, at + 2)?.1),
        other => bail!("unknown import kind {other:#x}"),
    }
}

/// An unsigned LEB128 number at `at`, and the position after it.
fn leb128(bytes: &[u8], mut at: usize) -> Result<(usize, usize)> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(at).context("a number runs past the end")?;
        at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift).context("a number is too large")?;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
        shift += 7;
    }
}

fn push_leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = u8::try_from(value & 0x7f).unwrap_or(0);
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// bundle.js without its indentation, blank lines and comment lines: a sixth of its gzip
/// size. Safe for the loader and wasm-bindgen's glue, which have no multi-line string.
fn compact_js(glue: &str) -> String {
    let mut compact = String::with_capacity(glue.len());
    let mut in_comment = false;
    for line in glue.lines().map(str::trim) {
        if in_comment || line.starts_with("/*") {
            in_comment = !line.contains("*/");
        } else if !line.is_empty() && !line.starts_with("//") {
            compact.push_str(line);
            compact.push('\n');
        }
    }
    compact
}

/// Writes `{file}.gz` and `{file}.br` at the best compression, for the gateway to serve as they
/// are. Returns the sizes of `file` and of its gzip copy.
fn gzip_copy(file: &Path) -> Result<(u64, u64)> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&bytes).context("gzip")?;
    let gzipped = encoder.finish().context("gzip")?;
    let sibling = |extension: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(extension);
        PathBuf::from(name)
    };
    let gz = sibling(".gz");
    fs::write(&gz, &gzipped).with_context(|| format!("writing {}", gz.display()))?;
    let br = sibling(".br");
    fs::write(&br, brotli_compress(&bytes)?).with_context(|| format!("writing {}", br.display()))?;
    Ok((bytes.len() as u64, gzipped.len() as u64))
}

/// Brotli at quality 11 with a 4 MiB window: slow to write, once per build; fast to read.
fn brotli_compress(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 64 * 1024, 11, 22);
        writer.write_all(bytes).context("brotli")?;
        writer.flush().context("brotli")?;
    }
    Ok(compressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_the_glue_without_changing_its_code() {
        let glue = "let a = 1;\n    /**\n     * Docs with `code`.\n     */\n    // a note\n\n    f(a); /* inline */\n";
        assert_eq!(compact_js(glue), "let a = 1;\nf(a); /* inline */\n");
    }

    #[test]
    fn short_names_are_unique_identifiers() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "ab");
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn shortens_import_names_in_the_wasm_and_the_glue() {
        // (import "m" "__wbg_f_0123" (func 0)) and (import "m" "kept" (func 0)), then a custom section.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let mut section = vec![2];
        for field in ["__wbg_f_0123", "kept"] {
            section.extend([1, b'm', u8::try_from(field.len()).unwrap()]);
            section.extend(field.as_bytes());
            section.extend([0x00, 0x00]);
        }
        wasm.extend([2, u8::try_from(section.len()).unwrap()]);
        wasm.extend(&section);
        wasm.extend([0, 3, 1, b'x', 7]);
        let glue = "const i = { __wbg_f_0123: function() {}, kept: 1, other: { kept: 2 } };";
        let (short, glue) = shorten_imports(&wasm, glue).unwrap();
        assert_eq!(glue, "const i = { a: function() {}, kept: 1, other: { kept: 2 } };");
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        expected.extend([2, 16, 2, 1, b'm', 1, b'a', 0, 0, 1, b'm', 4]);
        expected.extend(b"kept");
        expected.extend([0, 0, 0, 3, 1, b'x', 7]);
        assert_eq!(short, expected);
    }

    #[test]
    fn brotli_copies_decompress_to_the_original() {
        let original = b"const a = 1; const b = 2; const a = 1; const b = 2;".repeat(50);
        let compressed = brotli_compress(&original).unwrap();
        assert!(compressed.len() < original.len() / 10, "{} bytes", compressed.len());
        let mut restored = Vec::new();
        brotli::BrotliDecompress(&mut &compressed[..], &mut restored).unwrap();
        assert_eq!(restored, original);
    }

    #[test]
    fn reads_binaryen_release_numbers() {
        assert_eq!(binaryen_version("wasm-opt version 108"), Some(108));
        assert_eq!(binaryen_version("wasm-opt version 116 (version_116)"), Some(116));
        assert_eq!(binaryen_version("wasm-opt version 123 (version_123-12-gabc)"), Some(123));
        assert_eq!(binaryen_version("wasm-opt"), None);
        assert_eq!(binaryen_version("wasm-opt version beta"), None);
    }
}
