//! The reward pool, the oracle's tree and root vote, and claims.

use crate::common::*;
use solana_sdk::pubkey::Pubkey;

#[test]
fn pool_oracle_votes_and_reward_claims() {
    let f = Fixture::start("rewards");
    let network: Pubkey = f.network()["network"].as_str().unwrap().parse().unwrap();
    let (maker_path, _) = f.maker();
    let (first, _) = f.device(&maker_path, "device-a.json");
    let (second, _) = f.device(&maker_path, "device-b.json");
    let keys: Vec<String> = [&first, &second]
        .iter()
        .map(|d| d["device_key"].as_str().unwrap().to_string())
        .collect();
    f.mint_to_payer(50_000_000);
    let created_pool = f.env.json(&[
        "pool",
        "create",
        "--network",
        "cli-net",
        "--emission",
        "1",
        "--epoch-length",
        "60",
    ]);
    snapshot("pool_create", &created_pool);
    f.env
        .json(&["pool", "fund", "--network", "cli-net", "--amount", "5"]);
    let shown_pool = f.env.json(&["pool", "show", "--network", "cli-net"]);
    snapshot("pool_show", &shown_pool);
    assert_eq!(
        shown_pool["vault_balance"], 5_000_000,
        "JSON carries base units: 5 tokens of 6 decimals"
    );
    let display = f
        .env
        .ok(&f.env.payer, &["pool", "show", "--network", "cli-net"]);
    assert!(
        display.contains("(5)"),
        "the display shows whole tokens: {display}"
    );
    assert!(display.contains("emits 1;"), "{display}");
    // Rewards before any epoch is final: a hint, not an error about files.
    let early = f.dir.join("early.json");
    std::fs::write(
        &early,
        serde_json::to_string(&depinkit_sdk::proofs::ProofFile::from_tree(
            &depinkit_sdk::pool::PoolKeys::new(&network, &f.reward_mint, &SPL_TOKEN).pool,
            0,
            &reward_pool::merkle::RewardTree::new([(Pubkey::new_unique(), 1)]).unwrap(),
        ))
        .unwrap(),
    )
    .unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "rewards",
            "show",
            "--network",
            "cli-net",
            "--mine",
            "--proofs",
            early.to_str().unwrap(),
        ],
        2,
        "no epoch of the pool is finalized yet",
    );
    assert_eq!(
        shown_pool["claim_lookup_table"],
        created_pool["claim_lookup_table"]
    );
    // The oracle builds the tree from the epoch's amounts and writes the
    // proof file; a vote before the epoch ends is refused with its end time.
    let amounts = f.dir.join("amounts.csv");
    std::fs::write(
        &amounts,
        format!("device,cumulative\n{},1000\n{},1000\n", keys[0], keys[1]),
    )
    .unwrap();
    let proofs = f.dir.join("proofs.json");
    let tree_out = f.env.json(&[
        "oracle",
        "tree",
        "--network",
        "cli-net",
        "--amounts",
        amounts.to_str().unwrap(),
        "--epoch",
        "0",
        "--outfile",
        proofs.to_str().unwrap(),
    ]);
    snapshot("oracle_tree", &tree_out);
    assert_eq!(tree_out["devices"], 2);
    let vote = [
        "oracle",
        "vote-root",
        "--network",
        "cli-net",
        "--proofs",
        proofs.to_str().unwrap(),
    ];
    f.env
        .fails(&f.oracle_path, &vote, 2, "EpochNotEnded: epoch 0 ends at");
    f.time_travel(61);
    let voted = f.env.depin(
        &f.oracle_path,
        &[
            "oracle",
            "vote-root",
            "--network",
            "cli-net",
            "--proofs",
            proofs.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    assert!(
        voted.status.success(),
        "{}",
        String::from_utf8_lossy(&voted.stderr)
    );
    let proofs_arg = proofs.to_str().unwrap();
    let due = f.env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--all",
        "--proofs",
        proofs_arg,
    ]);
    snapshot("rewards_show", &due);
    assert_eq!(due.as_array().unwrap().len(), 2);
    assert_eq!(due[0]["claimable"], 1_000);
    // Claims go as v0 transactions with the pool's claim lookup table.
    let claimed = f.env.json(&[
        "rewards",
        "claim",
        "--network",
        "cli-net",
        "--all",
        "--proofs",
        proofs_arg,
    ]);
    snapshot("rewards_claim", &claimed);
    assert_eq!(claimed["paid"], 2_000);
    let again = f.env.ok(
        &f.env.payer,
        &[
            "rewards",
            "claim",
            "--network",
            "cli-net",
            "--mine",
            "--proofs",
            proofs_arg,
        ],
    );
    assert!(again.starts_with("Nothing to claim"), "{again}");
    let due = f.env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--device",
        &keys[0],
        "--proofs",
        proofs_arg,
    ]);
    assert_eq!(due[0]["claimable"], 0);
    // A proof file of another root.
    let pool_keys = depinkit_sdk::pool::PoolKeys::new(&network, &f.reward_mint, &SPL_TOKEN);
    let mint = depinkit_sdk::device_registry::pda::find_device_mint_address(
        &network,
        &keys[0].parse().unwrap(),
    )
    .0;
    let stale = f.dir.join("stale.json");
    let other_tree = reward_pool::merkle::RewardTree::new([(mint, 5)]).unwrap();
    std::fs::write(
        &stale,
        serde_json::to_string(&depinkit_sdk::proofs::ProofFile::from_tree(
            &pool_keys.pool,
            0,
            &other_tree,
        ))
        .unwrap(),
    )
    .unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "rewards",
            "show",
            "--network",
            "cli-net",
            "--all",
            "--proofs",
            stale.to_str().unwrap(),
        ],
        2,
        "another",
    );
}

#[test]
fn the_oracle_tree_checks_its_amounts_file() {
    let f = Fixture::start("tree-checks");
    f.network();
    let (maker_path, _) = f.maker();
    let (device, _) = f.device(&maker_path, "device.json");
    let key = device["device_key"].as_str().unwrap();
    f.env
        .json(&["pool", "create", "--network", "cli-net", "--emission", "1"]);
    let amounts = f.dir.join("amounts.csv");
    let proofs = f.dir.join("proofs.json");
    let stranger = Pubkey::new_unique().to_string();
    for (text, error) in [
        (
            format!("device,amount\n{key},5\n"),
            "the header must be `device,cumulative`",
        ),
        (
            format!("device,cumulative\n{stranger},5\n"),
            "is not a device of this network",
        ),
        (
            format!("device,cumulative\n{key},1.5\n"),
            "is not an amount in base units",
        ),
        (
            format!("device,cumulative\n{key}\n"),
            "expected device,cumulative",
        ),
    ] {
        std::fs::write(&amounts, &text).unwrap();
        f.env.fails(
            &f.env.payer,
            &[
                "oracle",
                "tree",
                "--network",
                "cli-net",
                "--amounts",
                amounts.to_str().unwrap(),
                "--epoch",
                "0",
                "--outfile",
                proofs.to_str().unwrap(),
            ],
            2,
            error,
        );
        assert!(!proofs.exists(), "no proof file from a bad amounts file");
    }
}
