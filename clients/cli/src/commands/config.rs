//! `depin config get|set`: where depin connects and who signs, kept in the
//! depinkit config file (beside the network names), like `solana config`.

use crate::{
    config::{self, DepinConfig, depin_config_path},
    context::Globals,
    error::CliError,
    output::fields,
};
use clap::Subcommand;
use serde::Serialize;

/// Config commands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Show the URL and keypair depin uses, and where each comes from.
    Get,
    /// Save the global `--url` and/or `--keypair` given with this command as
    /// the ones depin uses from now on (`depin config set --url devnet`).
    Set,
}

/// Runs a config command (no cluster needed).
pub fn run(globals: &Globals, command: ConfigCommand) -> Result<(), CliError> {
    let setting = matches!(command, ConfigCommand::Set);
    if setting {
        if globals.url.is_none() && globals.keypair.is_none() {
            return Err(CliError::Input(
                "nothing to set: give --url URL_OR_MONIKER and/or --keypair FILE".into(),
            ));
        }
        let mut stored = DepinConfig::load()?;
        if let Some(url) = &globals.url {
            config::resolve_url(url)?;
            stored.url = Some(url.clone());
        }
        if let Some(path) = &globals.keypair {
            let absolute =
                std::path::absolute(path).map_err(|e| CliError::Input(format!("{path}: {e}")))?;
            stored.keypair = Some(absolute.display().to_string());
        }
        stored.save()?;
    }
    // After a set, show what later commands will use: the saved values.
    let (url_flag, keypair_flag) = if setting {
        (None, None)
    } else {
        (globals.url.as_deref(), globals.keypair.as_deref())
    };
    let url = config::url(url_flag)?;
    let keypair = config::keypair_path(keypair_flag)?;
    #[derive(Serialize)]
    struct View {
        url: config::Setting,
        keypair: config::Setting,
        config_file: String,
    }
    let view = View {
        url,
        keypair,
        config_file: depin_config_path().display().to_string(),
    };
    globals.output.print(&view, || {
        fields(&[
            (
                "RPC URL",
                format!("{} ({})", view.url.value, view.url.source),
            ),
            (
                "Keypair",
                format!("{} ({})", view.keypair.value, view.keypair.source),
            ),
            ("Config file", view.config_file.clone()),
        ])
    });
    Ok(())
}
