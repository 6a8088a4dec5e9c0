//! `jiesu openapi`: prints the OpenAPI 3.1 document of the JSON API (the one the server serves at
//! `/api/v1/openapi.json`), generated from the server's code, to stdout or a file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `jiesu openapi`.
#[derive(Debug, clap::Args)]
pub struct OpenapiArgs {
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Prints or writes the document.
pub fn run(args: OpenapiArgs) -> anyhow::Result<()> {
    let mut json = jiesu_server::openapi_json();
    json.push('\n');
    match args.out {
        Some(path) => std::fs::write(&path, json).with_context(|| format!("writing {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(json.as_bytes()).and_then(|()| out.flush()) {
                // A closed pipe (`jiesu openapi | head`) is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to stdout"),
            }
        }
    }
}
