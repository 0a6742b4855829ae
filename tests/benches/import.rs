//! `cargo xtask bench import`: `docent kb import` throughput, in pages per second, against a
//! local site of generated FAQ pages on loopback, with the politeness delay at 0.

use std::time::{Duration, Instant};

use docent_gateway::fetch::FetchLimits;
use docent_gateway::import::{ImportOptions, import};
use docent_tests::pages::{Page, pages, serve};

/// Pages of the generated site; each links to the next three.
const PAGES: usize = 300;

fn page(number: usize) -> Page {
    let links: String =
        (1..=3).map(|step| format!("<a href=\"/p{}.html\">next</a> ", (number + step) % PAGES)).collect();
    let items: String = (0..5)
        .map(|item| {
            format!("<details><summary>Question {item} of page {number}?</summary><p>Answer {item}.</p></details>")
        })
        .collect();
    (
        200,
        Vec::new(),
        format!(
            "<!doctype html><html><head><title>Page {number}</title></head><body><main>{items}{links}</main></body></html>"
        ),
    )
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let site: Vec<(&'static str, Page)> =
            (0..PAGES).map(|number| (&*Box::leak(format!("/p{number}.html").into_boxed_str()), page(number))).collect();
        let port = serve(pages(site)).await;
        let dir = tempfile::tempdir().expect("a temp dir");
        let options = ImportOptions {
            start: format!("http://localhost:{port}/p0.html"),
            max_pages: PAGES,
            depth: PAGES,
            include: Vec::new(),
            exclude: Vec::new(),
            delay: Duration::ZERO,
            limits: FetchLimits { allow_private: true, ..FetchLimits::default() },
        };
        for run in ["first import", "re-import (unchanged)"] {
            let started = Instant::now();
            let report = import(dir.path(), &options, &mut |_| {}).await.expect("the import");
            let seconds = started.elapsed().as_secs_f64();
            let pages = report.written.len() + report.unchanged.len();
            println!(
                "{run}: {pages} pages ({} written, {} unchanged) in {seconds:.2} s: {:.0} pages/s",
                report.written.len(),
                report.unchanged.len(),
                pages as f64 / seconds
            );
        }
    });
}
