//! `easel-bench`: the benchmark harness of easel. `seed` builds a catalogue
//! straight into a fresh database, `run` measures every scenario against the
//! ceiling and the peer registry, and `ceiling` is the reference server that
//! `run` starts. bench/README.md describes a full run.

mod ceiling;
mod cluster;
mod runner;
mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::runner::RunOptions;
use crate::seed::SeedSize;

#[derive(Debug, Parser)]
#[command(name = "easel-bench", about = "Seeds catalogues and measures easel against a ceiling and a peer")]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Seed a catalogue into a new database and print what the runner needs as JSON.
    Seed {
        #[arg(long, value_enum, default_value_t = Engine::Sqlite)]
        engine: Engine,
        /// SQLite: the database file to create, which must not exist. PostgreSQL: the URL of an empty database.
        #[arg(long)]
        database: String,
        /// PostgreSQL: where to write the repository list of the peer (SQLite writes it next to the file).
        #[arg(long, default_value = "postgres.repositories")]
        repositories_file: PathBuf,
        #[command(flatten)]
        size: SizeArgs,
    },
    /// Run every scenario and write the table under the results directory.
    Run(RunArgs),
    /// Serve a prebuilt body through easel's HTTP stack (started by `run`).
    Ceiling {
        #[arg(long)]
        listen: SocketAddr,
        /// The file whose bytes every response carries.
        #[arg(long)]
        body_file: PathBuf,
    },
}

#[derive(Debug, Clone, clap::Args)]
struct SizeArgs {
    /// Dedicated images over every project.
    #[arg(long, default_value_t = SeedSize::FULL.images)]
    images: u64,
    /// Dedicated groups over every project.
    #[arg(long, default_value_t = SeedSize::FULL.groups)]
    groups: u64,
    /// Projects; the first is the measured one.
    #[arg(long, default_value_t = SeedSize::FULL.projects)]
    projects: u64,
    /// Groups of the measured project.
    #[arg(long, default_value_t = SeedSize::FULL.measured_groups)]
    measured_groups: u64,
}

impl SizeArgs {
    fn size(&self) -> SeedSize {
        SeedSize { images: self.images, groups: self.groups, projects: self.projects, measured_groups: self.measured_groups }
    }
}

/// The storage backend a seed or run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
struct RunArgs {
    /// The backend to measure; PostgreSQL runs on a throwaway cluster started by the runner.
    #[arg(long, value_enum, default_value_t = Engine::Sqlite)]
    engine: Engine,
    /// Run on a tiny catalogue for 2 s per scenario, to check that the harness works; the figures mean nothing.
    #[arg(long)]
    smoke: bool,
    #[command(flatten)]
    size: SizeArgs,
    /// Seconds each scenario runs (default 10, or 2 with --smoke).
    #[arg(long)]
    seconds: Option<u64>,
    /// Connections of the read scenarios and the references.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Connections of the register scenario.
    #[arg(long, default_value_t = 16)]
    write_connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// The directory for the database, the logs and the peer's storage.
    #[arg(long, default_value = "target/bench-work")]
    work_dir: PathBuf,
    /// The directory for the Markdown and JSON tables.
    #[arg(long, default_value = "bench/results")]
    results_dir: PathBuf,
    /// The name of the result files (default the engine's name, prefixed by `smoke-` with --smoke).
    #[arg(long)]
    label: Option<String>,
    /// The easel binary (default: the one built next to this program).
    #[arg(long)]
    easel: Option<PathBuf>,
    /// The distribution registry binary of the peer.
    #[arg(long, default_value = "docker-registry")]
    registry: PathBuf,
    /// Passed to `easel serve`. 0 measures every listing uncached.
    #[arg(long)]
    listing_cache_entries: Option<usize>,
}

impl RunArgs {
    fn options(&self) -> anyhow::Result<RunOptions> {
        let easel = match &self.easel {
            Some(path) => path.clone(),
            None => std::env::current_exe()?.with_file_name("easel"),
        };
        Ok(RunOptions {
            size: if self.smoke { SeedSize::SMOKE } else { self.size.size() },
            seconds: self.seconds.unwrap_or(if self.smoke { 2 } else { 10 }),
            warmup_seconds: if self.smoke { 0 } else { 1 },
            connections: self.connections,
            write_connections: self.write_connections,
            threads: self.threads,
            work_dir: self.work_dir.clone(),
            results_dir: self.results_dir.clone(),
            label: self.label.clone().unwrap_or_else(|| {
                let engine = self.engine.as_str();
                if self.smoke {
                    format!("smoke-{engine}")
                } else {
                    engine.to_owned()
                }
            }),
            engine: self.engine,
            easel,
            registry: self.registry.clone(),
            listing_cache_entries: self.listing_cache_entries,
        })
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        BenchCommand::Seed { engine, database, repositories_file, size } => {
            let manifest = match engine {
                Engine::Sqlite => seed::seed_sqlite(PathBuf::from(database).as_path(), size.size()).await?,
                Engine::Postgres => seed::seed_postgres(&database, &repositories_file, size.size()).await?,
            };
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
        }
        BenchCommand::Run(args) => {
            runner::run(&args.options()?).await?;
            Ok(())
        }
        BenchCommand::Ceiling { listen, body_file } => {
            easel::app::init_tracing("human");
            ceiling::serve(listen, &body_file).await
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("easel-bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
