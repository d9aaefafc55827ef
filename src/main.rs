//! The `fplsync` binary: parses the command line, loads settings, and runs a command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fplsync::config::{LogFormat, LogSettings};
use fplsync::sim::{DEMO_SPEED, Fault, Scenario, SimConfig, Simulator};
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
    /// Run the FPL API simulator: gameweek 38 of 2025-26 replayed from real snapshots (or a
    /// season from gameweek 30), synthetic managers, fault injection. Needs no database, Redis
    /// or configuration; point `fpl.base_url` at `http://BIND/api/`.
    Sim(SimArgs),
    /// Run the simulator and the service together at demo speed and narrate a real gameweek
    /// (38 of 2025-26) flowing through. Uses schema `demo` and Redis prefix `fplsync-demo:`.
    Demo(DemoArgs),
    /// Print the SHA-256 (hex) of an API key read from standard input, for `auth.keys`:
    /// `printf %s "$KEY" | fplsync hash-key`. Trailing new lines are ignored.
    HashKey,
}

#[derive(Args)]
struct DemoArgs {
    /// Simulated seconds per real second (600 plays the gameweek, from three hours before its
    /// deadline to final, in a little over two minutes).
    #[arg(long, default_value_t = fplsync::demo::DEFAULT_SPEED)]
    speed: f64,
    /// Synthetic managers besides the 72 real ones.
    #[arg(long, default_value_t = 1000)]
    entries: u32,
    /// Exit once the final, checked gameweek is stored.
    #[arg(long)]
    exit_when_final: bool,
}

#[derive(Args)]
struct SimArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: String,
    /// Simulated seconds per real second: 1800 plays a gameweek in about a minute, 1 is real
    /// time, 0 stops the clock (move it with POST /sim/phase or /sim/advance).
    #[arg(long, default_value_t = DEMO_SPEED)]
    speed: f64,
    /// Synthetic managers besides the 72 real ones.
    #[arg(long, default_value_t = 1000)]
    entries: u32,
    /// Seed of everything synthetic (squads, transfers, chips, matches of the season scenario).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// gw38: the real gameweek 38 only; season: gameweeks 30-37 synthesized, then gameweek 38.
    #[arg(long, value_enum, default_value_t = Scenario::Gw38)]
    scenario: Scenario,
    /// A fault, repeatable: ENDPOINT:KIND[=VALUE][,KIND=VALUE...], e.g. event-live:latency=200,
    /// '*:429=every:3,retry-after=2', fixtures:truncate, entry-picks:drop=entry_history,
    /// bootstrap-static:error=0.5,status=502, event-status:update=0.2.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<Fault>,
    /// Path prefix of the FPL API.
    #[arg(long, default_value = "/api/")]
    prefix: String,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

impl SimArgs {
    fn into_config(self) -> SimConfig {
        SimConfig {
            bind: self.bind,
            prefix: self.prefix,
            speed: self.speed,
            entries: self.entries,
            seed: self.seed,
            scenario: self.scenario,
            faults: self.faults,
            workers: self.workers,
            handle_signals: true,
        }
    }
}

/// Runs the simulator until interrupted; it needs no service settings.
fn run_sim(args: SimArgs) -> ExitCode {
    telemetry::init(&LogSettings {
        filter: "info".into(),
        format: LogFormat::Pretty,
    });
    let config = args.into_config();
    let result = actix_rt::System::new().block_on(async move {
        let sim = Simulator::start(config).await?;
        tracing::info!(base_url = %sim.base_url(), control = %format!("{}/sim/state", sim.address()), "serving");
        sim.run_until_stopped().await.map_err(anyhow::Error::from)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fplsync: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a key from standard input (not the command line, which `ps` and shell history show)
/// and prints its hash.
fn hash_key() -> ExitCode {
    use std::io::Read;
    let mut key = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut key) {
        eprintln!("fplsync: cannot read the key from standard input: {e}");
        return ExitCode::from(2);
    }
    let key = key.trim_end_matches(['\r', '\n']);
    if key.len() < 16 {
        eprintln!("fplsync: a key needs at least 16 characters (e.g. `openssl rand -hex 32`)");
        return ExitCode::from(2);
    }
    println!("{}", fplsync::auth::hash_key(key));
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Sim(args) => return run_sim(args),
        Command::HashKey => return hash_key(),
        other => other,
    };
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fplsync: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result = actix_rt::System::new().block_on(async move {
        match command {
            Command::Sim(_) | Command::HashKey => {
                unreachable!("handled before the settings are loaded")
            }
            Command::Demo(args) => {
                let options = fplsync::demo::DemoOptions {
                    speed: args.speed,
                    entries: args.entries,
                    exit_when_final: args.exit_when_final,
                };
                fplsync::demo::run(settings, options).await
            }
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
