//! The widget build served at `/widget/{version}/…`: embedded in release binaries, read from a folder otherwise.

use std::path::Path;

use bytes::Bytes;

/// The version in the snippet's URL; `latest` also serves this build.
pub const WIDGET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One file of the widget build, plain and gzipped.
#[derive(Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub plain: Bytes,
    pub gzip: Bytes,
}

/// The widget's files, held in memory.
#[derive(Clone)]
pub struct WidgetAssets {
    pub bundle_js: Asset,
    pub wasm: Asset,
}

const BUNDLE: &str = "bundle.js";
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
        Ok(WidgetAssets {
            bundle_js: Asset { content_type: JS_TYPE, plain: read(BUNDLE)?, gzip: read(&format!("{BUNDLE}.gz"))? },
            wasm: Asset { content_type: WASM_TYPE, plain: read(WASM)?, gzip: read(&format!("{WASM}.gz"))? },
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
                bundle_js: Asset {
                    content_type: JS_TYPE,
                    plain: dist_file!("bundle.js"),
                    gzip: dist_file!("bundle.js.gz"),
                },
                wasm: Asset {
                    content_type: WASM_TYPE,
                    plain: dist_file!("docent_widget_bg.wasm"),
                    gzip: dist_file!("docent_widget_bg.wasm.gz"),
                },
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
            _ => None,
        }
    }
}
