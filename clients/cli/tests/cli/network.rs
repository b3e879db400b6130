//! Networks and makers: create, show, update, list, authority handover.

use crate::common::*;
use solana_sdk::signature::{Keypair, Signer, read_keypair_file, write_keypair_file};

#[test]
fn network_create_show_update_list() {
    let f = Fixture::start("network");
    let created = f.network();
    snapshot("network_create", &created);
    let network = created["network"].as_str().unwrap().to_string();
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    snapshot("network_show", &shown);
    assert_eq!(shown["address"], network.as_str());
    assert_eq!(shown["category"], "wireless");
    assert_eq!(shown["threshold"], 1);
    assert_eq!(shown["oracle_change_delay_secs"], 86_400);
    let updated = f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--name",
        "CLI Network",
    ]);
    assert!(updated["signature"].is_string());
    let listed = f.env.json(&["network", "list"]);
    snapshot("network_list", &listed);
    assert_eq!(listed[0]["name"], "CLI Network");
    assert_eq!(listed[0]["local_name"], "cli-net");
    // An oracle-set change is scheduled, shown, and cancelled.
    let next = Keypair::new().pubkey().to_string();
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--oracle",
        &next,
    ]);
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert_eq!(shown["oracles"][0], f.oracle.pubkey().to_string().as_str());
    assert_eq!(shown["pending_oracle_change"]["oracles"][0], next.as_str());
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--cancel-oracle-change",
    ]);
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert!(shown["pending_oracle_change"].is_null());
}

#[test]
fn makers_register_approve_list() {
    let f = Fixture::start("makers");
    f.network();
    let path = f.dir.join("maker.json");
    write_keypair_file(&Keypair::new(), &path).unwrap();
    let key = read_keypair_file(&path).unwrap().pubkey().to_string();
    let maker = f.env.json(&[
        "maker",
        "register",
        "--network",
        "cli-net",
        "--name",
        "Acme",
        "--issuing-key",
        path.to_str().unwrap(),
    ]);
    snapshot("maker_register", &maker);
    f.env
        .json(&["maker", "approve", "--network", "cli-net", &key]);
    let makers = f.env.json(&["maker", "list", "--network", "cli-net"]);
    snapshot("maker_list", &makers);
    assert_eq!(makers[0]["status"], "approved");
}

#[test]
fn a_second_create_shows_the_network_and_changes_nothing() {
    let f = Fixture::start("network-again");
    let created = f.network();
    let out = f.env.depin(
        &f.env.payer,
        &[
            "network",
            "create",
            "--seed",
            "cli-net",
            "--name",
            "Another",
            "--symbol",
            "X",
            "--category",
            "storage",
            "--reward-mint",
            &f.reward_mint.to_string(),
            "--oracle",
            &f.oracle.pubkey().to_string(),
        ],
    );
    expect_failure(&out, &["network", "create"], 2, "exists (shown above)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(created["network"].as_str().unwrap()),
        "the existing network is shown: {stdout}"
    );
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert_eq!(shown["name"], "CLI Net");
    assert_eq!(shown["category"], "wireless");
}

#[test]
fn authority_handover_is_proposed_then_accepted() {
    let f = Fixture::start("authority");
    f.network();
    let next_path = f.dir.join("next.json");
    let next = Keypair::new();
    write_keypair_file(&next, &next_path).unwrap();
    f.env
        .ok(&f.env.payer, &["airdrop", "1", &next.pubkey().to_string()]);
    // Only the proposed key may accept, and only once proposed.
    f.env.fails(
        &next_path,
        &["network", "accept-authority", "--network", "cli-net"],
        3,
        "NoPendingAuthority",
    );
    f.env.json(&[
        "network",
        "propose-authority",
        "--network",
        "cli-net",
        &next.pubkey().to_string(),
    ]);
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert_eq!(
        shown["pending_authority"],
        next.pubkey().to_string().as_str()
    );
    assert_eq!(shown["authority"], f.payer.pubkey().to_string().as_str());
    f.env.json_as(
        &next_path,
        &["network", "accept-authority", "--network", "cli-net"],
    );
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert_eq!(shown["authority"], next.pubkey().to_string().as_str());
    assert!(shown["pending_authority"].is_null());
    // The old authority has no say any more.
    f.env.fails(
        &f.env.payer,
        &[
            "network",
            "update",
            "--network",
            "cli-net",
            "--name",
            "Mine",
        ],
        3,
        "NotNetworkAuthority",
    );
}

#[test]
fn maker_commands_check_registration_first() {
    let f = Fixture::start("maker-checks");
    f.network();
    let stranger = Keypair::new().pubkey().to_string();
    for verb in ["approve", "revoke"] {
        f.env.fails(
            &f.env.payer,
            &["maker", verb, "--network", "cli-net", &stranger, "-y"],
            2,
            "no maker registered with issuing key",
        );
    }
    let (path, _) = f.maker();
    f.env.fails(
        &f.env.payer,
        &[
            "maker",
            "register",
            "--network",
            "cli-net",
            "--name",
            "Acme again",
            "--issuing-key",
            path.to_str().unwrap(),
        ],
        2,
        "already registered",
    );
    let makers = f.env.json(&["maker", "list", "--network", "cli-net"]);
    assert_eq!(makers.as_array().unwrap().len(), 1);
}
