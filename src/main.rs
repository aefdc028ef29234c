//! The `easel` binary: parses the command line and runs one command.

use std::process::ExitCode;

use clap::Parser;
use easel::config::{AccessKeyCommand, Cli, Command, TokenCommand};
use tracing_subscriber::EnvFilter;

fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => {
            init_tracing(&config.log_format);
            easel::app::serve(*config).await
        }
        Command::AccessKey(AccessKeyCommand::Create { project_id, store }) => {
            let key = easel::app::create_access_key(&project_id, &store).await?;
            println!("{}", serde_json::to_string(&key)?);
            Ok(())
        }
        Command::Token(TokenCommand::Create { project_id, ttl, store }) => {
            let token = easel::app::create_token(&project_id, ttl, &store).await?;
            println!("{}", serde_json::to_string(&token)?);
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("easel: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
