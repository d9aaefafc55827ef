//! The `fplsync` binary: parses the command line, loads settings, and runs a command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fplsync::{Application, Settings, store, telemetry};

#[derive(Parser)]
#[command(
    name = "fplsync",
    version,
    about = "Keeps Fantasy Premier League data in sync"
)]
struct Cli {
    /// A TOML file layered over the built-in defaults (environment variables
    /// FPLSYNC__SECTION__KEY override both).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: migrations, actors, scheduler and the control endpoint.
    Serve,
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fplsync: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result = actix_rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve => {
                let app = Application::build(settings).await?;
                app.run_until_stopped().await.map_err(anyhow::Error::from)
            }
            Command::Migrate => {
                store::connect_and_migrate(&settings.database).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("fplsync: {e:#}");
            ExitCode::FAILURE
        }
    }
}
