//! Temporary probe: inventory timings, and search quality on an eval set.
use std::path::Path;

#[derive(serde::Deserialize)]
struct Eval {
    case: Vec<Case>,
}
#[derive(serde::Deserialize)]
struct Case {
    question: String,
    expect: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(&args[1]);
    let t = std::time::Instant::now();
    let inv = docent_indexer::inventory(dir).expect("inventory");
    println!("inventory: {:?}, files {}, qa {}", t.elapsed(), inv.files.len(), inv.qa.len());
    for w in inv.report.warnings.iter().take(10) {
        println!("warning: {w}");
    }
    println!("warnings: {}", inv.report.warnings.len());
    for w in &inv.report.failed {
        println!("failed: {w}");
    }
    let settings = docent_indexer::SearchSettings::default();
    let embedder = if args.iter().any(|a| a == "--dense") {
        Some(docent_indexer::Embedder::load(&docent_indexer::default_model_dir().unwrap()).expect("model"))
    } else {
        None
    };
    let t = std::time::Instant::now();
    let kb = docent_indexer::KnowledgeBase::build(
        dir,
        &docent_indexer::BuildOptions { settings: &settings, embedder: embedder.as_ref(), embedding_cache: None },
    )
    .expect("build");
    println!("build: {:?} {:?}", t.elapsed(), kb.stats().passages);
    if let Some(eval) = args.get(2) {
        let eval: Eval = toml::from_str(&std::fs::read_to_string(eval).unwrap()).unwrap();
        let (mut n, mut top1, mut mrr) = (0, 0, 0.0);
        for case in eval.case.iter().filter(|c| c.expect != "none") {
            let hits = kb.search(&case.question, 10).unwrap();
            n += 1;
            if let Some(rank) = hits.iter().position(|h| h.source == case.expect) {
                if rank == 0 {
                    top1 += 1;
                }
                mrr += 1.0 / (rank as f64 + 1.0);
            }
        }
        println!("cases {n} top1 {:.3} mrr {:.3}", top1 as f64 / n as f64, mrr / n as f64);
    }
}
