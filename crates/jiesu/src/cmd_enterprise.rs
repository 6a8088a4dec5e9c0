//! `jiesu enterprise …`: the 紫金服务 enterprise register's tools.

use std::process::ExitCode;

use clap::Subcommand;
use jiesu_domain::credit_code;

#[derive(Debug, Subcommand)]
pub enum EnterpriseCmd {
    /// Say whether a unified social credit code (统一社会信用代码) is valid: both its check
    /// characters (GB 11714's inside it and GB 32100's at the end). Exit status 0 valid, 1 invalid.
    CheckCode {
        /// The 18-character code.
        code: String,
    },
}

pub fn run(cmd: EnterpriseCmd) -> ExitCode {
    match cmd {
        EnterpriseCmd::CheckCode { code } => match credit_code::check(&code) {
            Ok(()) => {
                println!("{}: valid (有效)", code.trim());
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{}: invalid (无效): {e}", code.trim());
                ExitCode::FAILURE
            }
        },
    }
}
