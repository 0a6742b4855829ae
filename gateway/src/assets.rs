//! The widget build served at `/widget/{version}/…`: embedded in release binaries, read from a folder otherwise.

use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The version in the snippet's URL; `latest` also serves this build.
pub const WIDGET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One file of the widget build: plain, and precompressed by `cargo xtask dist`.
#[derive(Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub plain: Bytes,
    pub gzip: Bytes,
    /// The brotli copy, when the build has one (`cargo xtask dist` writes it).
    pub brotli: Option<Bytes>,
    /// A strong validator of the plain bytes; each encoding's ETag adds its own suffix.
    pub etag_base: String,
}

impl Asset {
    fn new(content_type: &'static str, plain: Bytes, gzip: Bytes, brotli: Option<Bytes>) -> Asset {
        let digest = Sha256::digest(&plain);
        let etag_base = digest[..12].iter().map(|byte| format!("{byte:02x}")).collect();
        Asset { content_type, plain, gzip, brotli, etag_base }
    }
}

/// The widget's files, held in memory.
#[derive(Clone)]
pub struct WidgetAssets {
    pub bundle_js: Asset,
    pub wasm: Asset,
    /// What bundle.js adds to pages whose CSP forbids WebAssembly: the chat in frames.
    pub frames_js: Asset,
}

const BUNDLE: &str = "bundle.js";
const FRAMES: &str = "frames.js";
const WASM: &str = "docent_widget_bg.wasm";
const JS_TYPE: &str = "text/javascript; charset=utf-8";
const WASM_TYPE: &str = "application/wasm";

impl WidgetAssets {
    /// Reads the widget build from `dir` (`target/widget-dist` after `cargo xtask dist`).
    pub fn from_dir(dir: &Path) -> Result<WidgetAssets, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map(Bytes::from).map_err(|err| {
                format!(
                    "cannot read widget file {}: {err} (build the widget with `cargo xtask dist`)",
                    dir.join(name).display()
                )
            })
        };
        let asset = |name: &str, content_type| -> Result<Asset, String> {
            let brotli = std::fs::read(dir.join(format!("{name}.br"))).ok().map(Bytes::from);
            Ok(Asset::new(content_type, read(name)?, read(&format!("{name}.gz"))?, brotli))
        };
        Ok(WidgetAssets {
            bundle_js: asset(BUNDLE, JS_TYPE)?,
            wasm: asset(WASM, WASM_TYPE)?,
            frames_js: asset(FRAMES, JS_TYPE)?,
        })
    }

    /// The build compiled into this binary, if it was built with `embed-widget`.
    pub fn embedded() -> Option<WidgetAssets> {
        #[cfg(feature = "embed-widget")]
        {
            macro_rules! dist_file {
                ($name:literal) => {
                    Bytes::from_static(include_bytes!(concat!(env!("DOCENT_WIDGET_DIST"), "/", $name)))
                };
            }
            Some(WidgetAssets {
                bundle_js: Asset::new(
                    JS_TYPE,
                    dist_file!("bundle.js"),
                    dist_file!("bundle.js.gz"),
                    Some(dist_file!("bundle.js.br")),
                ),
                wasm: Asset::new(
                    WASM_TYPE,
                    dist_file!("docent_widget_bg.wasm"),
                    dist_file!("docent_widget_bg.wasm.gz"),
                    Some(dist_file!("docent_widget_bg.wasm.br")),
                ),
                frames_js: Asset::new(
                    JS_TYPE,
                    dist_file!("frames.js"),
                    dist_file!("frames.js.gz"),
                    Some(dist_file!("frames.js.br")),
                ),
            })
        }
        #[cfg(not(feature = "embed-widget"))]
        {
            None
        }
    }

    /// The file named in a `/widget/{version}/{file}` URL.
    pub fn get(&self, file: &str) -> Option<&Asset> {
        match file {
            BUNDLE => Some(&self.bundle_js),
            WASM => Some(&self.wasm),
            FRAMES => Some(&self.frames_js),
            _ => None,
        }
    }
}
