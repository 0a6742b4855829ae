//! `docent demo-data BOT…` (hidden, used by `cargo xtask demo`): seeds a month of sample
//! conversations so a newcomer's console has analytics to show, labelled as demo data there.

use clap::Args;
use docent_lifecycle::when::now;

use super::Env;

/// Days of conversations seeded.
const DEMO_DAYS: i64 = 30;

#[derive(Args)]
pub(crate) struct DemoDataArgs {
    /// The bots to seed. (Not named `bots`: `--bots` is the bots folder.)
    #[arg(required = true, value_name = "BOT")]
    ids: Vec<String>,
    #[command(flatten)]
    env: Env,
}

pub(crate) fn run(args: DemoDataArgs) -> anyhow::Result<()> {
    let lifecycle = args.env.open()?;
    for bot in &args.ids {
        lifecycle.require_bot(bot)?;
        let (config, _) = lifecycle.load_config(bot)?;
        let questions: Vec<String> = config.tests.iter().map(|test| test.question.clone()).collect();
        let live = lifecycle.store().bot(bot)?.and_then(|row| row.live);
        let seeded = docent_analytics::demo::seed(lifecycle.store(), bot, &questions, live, now(), DEMO_DAYS)?;
        if seeded == 0 {
            println!("{bot}: already has conversations in the last {DEMO_DAYS} days; nothing seeded");
        } else {
            println!("{bot}: seeded {seeded} demo conversations over {DEMO_DAYS} days");
        }
    }
    Ok(())
}
