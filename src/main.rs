//! The `easel` binary: parses the command line and runs one command. Exit
//! codes: 0 success, 1 failure, 2 usage error, 3 service unreachable (client
//! commands only; see [`easel::client`]).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use easel::config::{AccessKeyCommand, Cli, Command, TokenCommand};
use serde::Serialize;

/// Prints a created credential as one line of JSON.
fn print_json(value: anyhow::Result<impl Serialize>) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(&value?)?);
    Ok(())
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("easel: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(config) => {
            easel::app::init_tracing(&config.log_format);
            exit_code(easel::app::serve(*config).await)
        }
        Command::AccessKey(AccessKeyCommand::Create { project_id, store }) => {
            exit_code(print_json(easel::app::create_access_key(&project_id, &store).await))
        }
        Command::Token(TokenCommand::Create { project_id, ttl, store }) => {
            exit_code(print_json(easel::app::create_token(&project_id, ttl, &store).await))
        }
        Command::Images(args) => easel::client::run_images(args).await,
        Command::Groups(args) => easel::client::run_groups(args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "easel", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}
