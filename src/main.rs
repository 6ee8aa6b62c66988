//! The custseg binary: parse flags, build the context, dispatch, map the result to an exit code.

use clap::Parser;

use custseg::cli::{Cli, Command};
use custseg::commands::{self, AsOf, Ctx, Status};
use custseg::Error;

fn main() {
    custseg::io::memory::limit_malloc_arenas();
    // Interrupted (Ctrl-C, or SIGTERM from a cron timeout): remove scratch and staging folders,
    // exit 130 like a shell. Outputs are never half-written (temp file + rename), so nothing
    // else needs undoing.
    let _ = ctrlc::set_handler(|| {
        custseg::io::cleanup::remove_all();
        eprintln!("custseg: interrupted");
        std::process::exit(130);
    });
    let cli = Cli::parse();
    let code = match context(&cli).and_then(|ctx| dispatch(cli.command, &ctx)) {
        Ok(Status::Success) => 0,
        Ok(Status::CheckFailed(why)) => {
            eprintln!("custseg: check failed: {why}");
            3
        }
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!("custseg: error: {e}");
            for hint in &e.hints {
                eprintln!("custseg: hint: {hint}");
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn context(cli: &Cli) -> Result<Ctx, Error> {
    let g = &cli.global;
    let ctx = Ctx {
        quiet: g.quiet,
        as_of: g.as_of.as_deref().map(AsOf::parse).transpose()?,
        output: g.output.clone(),
        format: g.format,
        explain: g.explain,
        privacy: custseg::privacy::PrivacyFlags {
            pseudonymize: g.pseudonymize,
            redact: g.redact.clone(),
            show_pii: g.show_pii,
        },
    };
    commands::configure_privacy(None, &ctx)?;
    Ok(ctx)
}

fn dispatch(command: Command, ctx: &Ctx) -> Result<Status, Error> {
    match command {
        Command::Run(args) => commands::run::run(args, ctx),
        Command::Ingest(args) => commands::ingest::run(args, ctx),
        Command::Rfm(args) => commands::rfm::run(args, ctx),
        Command::Lifecycle(args) => commands::lifecycle::run(args, ctx),
        Command::Score(args) => commands::score::run(args, ctx),
        Command::Segment(args) => commands::segment::run(args, ctx),
        Command::Report(args) => commands::report::run(args, ctx),
        Command::Analyze(args) => commands::analyze::run(args, ctx),
        Command::Clv(args) => commands::clv::run(args, ctx),
        Command::Forget(args) => commands::forget::run(args, ctx),
        Command::Sql(args) => commands::sql::run(args, ctx),
    }
}
