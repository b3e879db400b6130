//! Getting started without the solana or spl-token CLIs: where depin connects
//! (`config`), a wallet, SOL, a test token; and the refusals that keep those
//! off mainnet.

use crate::common::*;
use serde_json::Value;

/// An `Env` with no cluster behind it, in a home of its own.
fn offline(name: &str) -> Env {
    let dir = std::env::temp_dir().join(format!("depin-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Env {
        dir: dir.clone(),
        url: "http://127.0.0.1:9".into(),
        payer: dir.join("id.json"),
    }
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn config_precedence_is_flag_then_depinkit_then_solana_then_default() {
    let env = offline("config");
    let get = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["config", "get", "--output", "json"]);
        json_of(&env.raw(&args))
    };
    let shown = get(&[]);
    assert_eq!(shown["url"]["value"], "http://127.0.0.1:8899");
    assert_eq!(shown["url"]["source"], "default");
    let default_keypair = env.dir.join(".config/solana/id.json");
    assert_eq!(
        shown["keypair"]["value"],
        default_keypair.display().to_string().as_str()
    );
    // The solana CLI's config is read when depin has none.
    let solana_dir = env.dir.join(".config/solana/cli");
    std::fs::create_dir_all(&solana_dir).unwrap();
    std::fs::write(
        solana_dir.join("config.yml"),
        "json_rpc_url: https://api.testnet.solana.com\nkeypair_path: /keys/solana.json\n",
    )
    .unwrap();
    let shown = get(&[]);
    assert_eq!(shown["url"]["value"], "https://api.testnet.solana.com");
    assert_eq!(shown["url"]["source"], "solana config");
    assert_eq!(shown["keypair"]["value"], "/keys/solana.json");
    // depin's own config wins over it; a flag wins over both.
    let set = json_of(&env.raw(&["config", "set", "--url", "devnet", "--output", "json"]));
    assert_eq!(set["url"]["source"], "depinkit config");
    let shown = get(&[]);
    assert_eq!(shown["url"]["value"], "https://api.devnet.solana.com");
    assert_eq!(shown["keypair"]["source"], "solana config");
    let shown = get(&["-u", "http://10.0.0.1:8899"]);
    assert_eq!(shown["url"]["value"], "http://10.0.0.1:8899");
    assert_eq!(shown["url"]["source"], "flag");
    // Nothing to set, or a URL that is not one: usage errors, nothing saved.
    expect_failure(
        &env.raw(&["config", "set"]),
        &["config", "set"],
        2,
        "nothing to set",
    );
    expect_failure(
        &env.raw(&["config", "set", "--url", "notaurl"]),
        &["config", "set"],
        2,
        "\"notaurl\" is not a cluster URL",
    );
    assert_eq!(get(&[])["url"]["value"], "https://api.devnet.solana.com");
    let _ = std::fs::remove_dir_all(&env.dir);
}

#[test]
fn bad_urls_and_unreachable_clusters_say_so() {
    let env = offline("urls");
    expect_failure(
        &env.raw(&[
            "-u",
            "notaurl",
            "wallet",
            "balance",
            &solana_sdk::pubkey::Pubkey::new_unique().to_string(),
        ]),
        &["-u", "notaurl"],
        2,
        "is not a cluster URL",
    );
    expect_failure(
        &env.raw(&[
            "-u",
            "http://127.0.0.1:9",
            "wallet",
            "balance",
            &solana_sdk::pubkey::Pubkey::new_unique().to_string(),
        ]),
        &["wallet", "balance"],
        4,
        "cannot reach the cluster at http://127.0.0.1:9",
    );
    // Test tokens and airdrops are refused on mainnet before anything is sent.
    env.raw(&["wallet", "new"]);
    expect_failure(
        &env.raw(&["-u", "mainnet-beta", "airdrop", "1"]),
        &["airdrop"],
        2,
        "no airdrops on mainnet",
    );
    expect_failure(
        &env.raw(&["-u", "mainnet-beta", "token", "create"]),
        &["token", "create"],
        2,
        "not on mainnet",
    );
    let _ = std::fs::remove_dir_all(&env.dir);
}

#[test]
fn a_wallet_sol_and_a_test_token_with_depin_alone() {
    let f = Fixture::start("wallet");
    let env = Env {
        dir: f.dir.clone(),
        url: f.env.url.clone(),
        payer: f.dir.join("wallet.json"),
    };
    let path = env.payer.to_str().unwrap();
    let created = json_of(&env.raw(&["wallet", "new", "--outfile", path, "--output", "json"]));
    let address = created["address"].as_str().unwrap().to_string();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env.payer).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    expect_failure(
        &env.raw(&["wallet", "new", "--outfile", path]),
        &["wallet", "new"],
        2,
        "exists",
    );
    let shown = json_of(&env.raw(&["-k", path, "wallet", "address", "--output", "json"]));
    assert_eq!(shown["address"], address.as_str());
    // SOL from the localnet, then a token of our own.
    env.ok(&env.payer, &["airdrop", "2.5"]);
    let balance = env.json_as(&env.payer, &["wallet", "balance"]);
    assert_eq!(balance["lamports"], 2_500_000_000u64);
    let display = env.ok(&env.payer, &["wallet", "balance"]);
    assert!(display.contains("Balance: 2.5 SOL"), "{display}");
    let token = env.json_as(&env.payer, &["token", "create", "--decimals", "3"]);
    let mint = token["mint"].as_str().unwrap().to_string();
    let other = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    env.json_as(&env.payer, &["token", "mint", &mint, "12.5"]);
    env.json_as(&env.payer, &["token", "mint", &mint, "0.25", &other]);
    let mine = env.json_as(&env.payer, &["token", "balance", &mint]);
    assert_eq!(mine["balance"], 12_500, "JSON carries base units");
    let display = env.ok(&env.payer, &["token", "balance", &mint]);
    assert!(display.contains("Balance: 12.5"), "{display}");
    let theirs = env.json_as(&env.payer, &["token", "balance", &mint, "--owner", &other]);
    assert_eq!(theirs["balance"], 250);
    // --base-units takes amounts as typed; more decimals than the token has is refused.
    env.json_as(&env.payer, &["--base-units", "token", "mint", &mint, "7"]);
    let mine = env.json_as(&env.payer, &["token", "balance", &mint]);
    assert_eq!(mine["balance"], 12_507);
    env.fails(&env.payer, &["token", "mint", &mint, "0.0001"], 2, "0.0001");
    // Only the mint authority mints.
    env.fails(
        &f.env.payer,
        &["token", "mint", &mint, "1"],
        2,
        "mint authority",
    );
}
