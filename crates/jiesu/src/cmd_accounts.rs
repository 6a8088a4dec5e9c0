//! `jiesu user …` and `jiesu key …`: console users (argon2 password login) and API keys
//! (Open311 and machine clients). Roles and units are checked against the catalog here, so that
//! the store only ever holds codes that mean something.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use jiesu_domain::accounts::{self, AccountError, KEY_ROLES, USER_ROLES};
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Role;
use jiesu_store::StoreError;

use crate::StoreArgs;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user. The password comes from --password or, without it, the first line of stdin.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// Login name.
        #[arg(long)]
        name: String,
        /// operator, dispatcher, unit_handler, grid_inspector, supervisor or admin.
        #[arg(long)]
        role: String,
        /// Unit code from the catalog (required for unit_handler and grid_inspector).
        #[arg(long)]
        unit: Option<String>,
        /// Password (visible to other local users in the process list: prefer stdin).
        #[arg(long)]
        password: Option<String>,
    },
    /// Disable a user: they cannot log in, and their sessions end.
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        /// Login name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create an API key and print it (alone, on the last line). It is shown only this once.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// A name for the key (e.g. the client it is for).
        #[arg(long)]
        name: String,
        /// The role its holder acts in (default citizen: Open311 clients filing requests).
        #[arg(long, default_value = "citizen")]
        role: String,
        /// Unit code from the catalog (required for unit_handler and grid_inspector).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Revoke an API key: it is refused from now on.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The key's name.
        #[arg(long)]
        name: String,
    },
}

/// An account rule's refusal, naming the command-line option it is about.
fn refused(e: AccountError) -> anyhow::Error {
    anyhow::anyhow!("--{}: {e}", e.field())
}

fn check_name(name: &str) -> anyhow::Result<()> {
    accounts::check_name(name).map_err(refused)
}

/// The role, and the unit checked against it and the Dongcheng catalog.
#[cfg(test)]
fn role_and_unit(role: &str, unit: Option<&str>, allowed: &[Role]) -> anyhow::Result<(Role, Option<String>)> {
    role_and_unit_in(&Catalog::dongcheng(), role, unit, allowed)
}

/// The role, and the unit checked against it and `catalog`.
fn role_and_unit_in(
    catalog: &Catalog,
    role: &str,
    unit: Option<&str>,
    allowed: &[Role],
) -> anyhow::Result<(Role, Option<String>)> {
    accounts::role_and_unit(catalog, role, unit, allowed).map_err(refused)
}

/// The catalog of the store's cases: its own (`jiesu import`), else the embedded Dongcheng one.
async fn store_catalog(db: &jiesu_store::Store) -> anyhow::Result<Catalog> {
    Ok(crate::cmd_import::stored_catalog(db).await?.map_or_else(Catalog::dongcheng, |s| s.catalog))
}

fn exists(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Exists(what) => anyhow::anyhow!("{what} already exists: choose another name"),
        e => anyhow::Error::new(e),
    }
}

pub async fn user(cmd: UserCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCmd::Add { store, name, role, unit, password } => {
            check_name(&name)?;
            let db = crate::config::open_store(&store.db, store.config.as_deref()).await?;
            let (role, unit) = role_and_unit_in(&store_catalog(&db).await?, &role, unit.as_deref(), USER_ROLES)?;
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
                    line.trim_end_matches(['\n', '\r']).to_string()
                }
            };
            accounts::check_password(&password).map_err(refused)?;
            let user =
                db.create_user(&name, role, unit.as_deref(), &password, chrono::Utc::now()).await.map_err(exists)?;
            db.close().await;
            let unit = user.unit.map(|u| format!(", unit {u}")).unwrap_or_default();
            println!("created user {} ({} {}{unit})", user.name, user.role.code(), user.role.label());
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::Disable { store, name } => {
            let db = crate::config::open_store(&store.db, store.config.as_deref()).await?;
            let found = db.set_user_disabled(&name, true).await?;
            db.close().await;
            if !found {
                bail!("no user called {name}");
            }
            println!("disabled user {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn key(cmd: KeyCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyCmd::Add { store, name, role, unit } => {
            check_name(&name)?;
            let db = crate::config::open_store(&store.db, store.config.as_deref()).await?;
            let (role, unit) = role_and_unit_in(&store_catalog(&db).await?, &role, unit.as_deref(), KEY_ROLES)?;
            let (key, secret) =
                db.create_api_key(&name, role, unit.as_deref(), chrono::Utc::now()).await.map_err(exists)?;
            db.close().await;
            let unit = key.unit.map(|u| format!(", unit {u}")).unwrap_or_default();
            println!(
                "API key {} ({} {}{unit}); shown only now, only its hash is stored:",
                key.name,
                key.role.code(),
                key.role.label()
            );
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        KeyCmd::Revoke { store, name } => {
            let db = crate::config::open_store(&store.db, store.config.as_deref()).await?;
            let revoked = db.revoke_api_key(&name, chrono::Utc::now()).await?;
            db.close().await;
            if !revoked {
                bail!("no active API key called {name}");
            }
            println!("revoked API key {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One person of each role for the demo, made by `jiesu serve` when it loads demo data into an
/// empty store: the unit handler and grid inspector work for the street office holding the most
/// open cases. They share one random password, printed once (the store keeps only its hash).
/// Does nothing when `admin` already exists.
pub async fn demo_accounts(desk: &jiesu_core::Desk) -> anyhow::Result<()> {
    use jiesu_domain::model::UnitKind;

    let store = desk.store();
    if store.user("admin").await?.is_some() {
        return Ok(());
    }
    let busiest = busiest_unit(desk, |u| u.kind == UnitKind::Street).await?.unwrap_or(("S001".to_string(), 0));
    // No look-alike characters: the password is read off a terminal.
    let password = jiesu_store::one_time_password();
    let unit = busiest.0.as_str();
    let people = [
        ("admin", Role::Admin, None),
        ("operator", Role::Operator, None),
        ("dispatcher", Role::Dispatcher, None),
        ("supervisor", Role::Supervisor, None),
        ("handler", Role::UnitHandler, Some(unit)),
        ("inspector", Role::GridInspector, Some(unit)),
    ];
    let now = chrono::Utc::now();
    println!("demo accounts (password for all, shown only now: {password}):");
    for (name, role, unit) in people {
        store.create_user(name, role, unit, &password, now).await.map_err(exists)?;
        let unit_name = unit.and_then(|u| desk.catalog().unit(u)).map(|u| format!(" · {}", u.name)).unwrap_or_default();
        println!("  {name:<11} {}{unit_name}", role.label());
    }
    Ok(())
}

/// Of the units `which` picks, the one holding the most open cases (the busiest inbox) and how
/// many; None when none holds one.
pub(crate) async fn busiest_unit(
    desk: &jiesu_core::Desk,
    which: impl Fn(&jiesu_domain::catalog::Unit) -> bool,
) -> anyhow::Result<Option<(String, u64)>> {
    use jiesu_domain::model::Status;

    let open: Vec<Status> = Status::ALL.iter().copied().filter(|s| s.is_open()).collect();
    let mut best = None;
    for unit in desk.catalog().units().iter().filter(|u| which(u)) {
        let filter =
            jiesu_store::CaseFilter { assignee: Some(unit.code.clone()), statuses: open.clone(), ..Default::default() };
        let n = desk.store().count(&jiesu_domain::access::Scope::All, &filter).await?;
        if n > best.as_ref().map_or(0, |(_, most)| *most) {
            best = Some((unit.code.clone(), n));
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_units_are_checked() {
        assert_eq!(role_and_unit("unit_handler", Some("S001"), USER_ROLES).unwrap().1.as_deref(), Some("S001"));
        assert_eq!(role_and_unit("派单员", None, USER_ROLES).unwrap().0, Role::Dispatcher);
        assert!(role_and_unit("unit_handler", None, USER_ROLES).unwrap_err().to_string().contains("--unit"));
        assert!(role_and_unit("unit_handler", Some("X9"), USER_ROLES).unwrap_err().to_string().contains("X9"));
        assert!(role_and_unit("operator", Some("S001"), USER_ROLES).unwrap_err().to_string().contains("not bound"));
        assert!(role_and_unit("mayor", None, USER_ROLES).unwrap_err().to_string().contains("unknown role"));
        assert!(role_and_unit("citizen", None, USER_ROLES).unwrap_err().to_string().contains("not for this"));
        assert!(check_name("key:x").unwrap_err().to_string().starts_with("--name: "));
        assert!(check_name("a b").is_err() && check_name("王五").is_ok());
    }
}
