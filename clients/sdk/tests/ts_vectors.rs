//! The bytes the TypeScript client (`clients/ts`) must reproduce: PDAs, the
//! messages devices sign, the Ed25519 proof instruction, reward leaves, nodes
//! and proofs, all made here with the program crates' own definitions. The
//! file is committed (`clients/ts/test/vectors.json`) and read by the
//! TypeScript tests; this test fails when it is stale.
//! `DEPIN_WRITE_VECTORS=1 cargo test -p depinkit-sdk --test ts_vectors`
//! rewrites it.

use depinkit_sdk::{
    device_registry,
    proofs::{ProofFile, hex},
    registry::{assert_location_message, device_proof, onboard_message},
    reward_pool::{
        self,
        merkle::{RewardTree, leaf_hash, node_hash},
    },
    service_payments,
};
use serde_json::{Value, json};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::path::Path;

fn bytes_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key made from a one-byte seed, so the vectors are the same every run.
fn key(seed: u8) -> Pubkey {
    Keypair::new_from_array([seed; 32]).pubkey()
}

/// One PDA: what it is, the values of its seeds, and where it is.
fn pda(name: &str, seeds: Value, (address, bump): (Pubkey, u8)) -> Value {
    json!({ "name": name, "seeds": seeds, "address": address.to_string(), "bump": bump })
}

fn pdas(network: &Pubkey, customer: &Pubkey) -> Vec<Value> {
    let (creator, issuing, device_key) = (key(1), key(3), key(4));
    let device_mint = device_registry::pda::find_device_mint_address(network, &device_key).0;
    let pool = reward_pool::pda::find_pool_address(network).0;
    let escrow = service_payments::pda::find_usage_escrow_address(network, customer).0;
    let on_network = json!({ "network": network.to_string() });
    let device = json!({ "network": network.to_string(), "deviceKey": device_key.to_string() });
    vec![
        pda(
            "network",
            json!({ "creator": creator.to_string(), "seed": bytes_hex(b"helium-like") }),
            device_registry::pda::find_network_address(&creator, b"helium-like"),
        ),
        pda(
            "maker",
            json!({ "network": network.to_string(), "issuingKey": issuing.to_string() }),
            device_registry::pda::find_maker_address(network, &issuing),
        ),
        pda(
            "device",
            device.clone(),
            device_registry::pda::find_device_address(network, &device_key),
        ),
        pda(
            "deviceMint",
            device,
            device_registry::pda::find_device_mint_address(network, &device_key),
        ),
        pda(
            "pool",
            on_network.clone(),
            reward_pool::pda::find_pool_address(network),
        ),
        pda(
            "claimRecord",
            json!({ "pool": pool.to_string(), "deviceMint": device_mint.to_string() }),
            reward_pool::pda::find_claim_record_address(&pool, &device_mint),
        ),
        pda(
            "payments",
            on_network.clone(),
            service_payments::pda::find_payments_address(network),
        ),
        pda(
            "creditsMint",
            on_network,
            service_payments::pda::find_credits_mint_address(network),
        ),
        pda(
            "usageEscrow",
            json!({ "network": network.to_string(), "customer": customer.to_string() }),
            service_payments::pda::find_usage_escrow_address(network, customer),
        ),
        pda(
            "usageReport",
            json!({ "escrow": escrow.to_string(), "epoch": 7 }),
            service_payments::pda::find_usage_report_address(&escrow, 7),
        ),
        pda(
            "epochUsage",
            json!({ "network": network.to_string(), "epoch": 7 }),
            service_payments::pda::find_epoch_usage_address(network, 7),
        ),
        pda(
            "order",
            json!({
                "network": network.to_string(),
                "customer": customer.to_string(),
                "orderId": u64::MAX.to_string(),
            }),
            service_payments::pda::find_order_address(network, customer, u64::MAX),
        ),
    ]
}

fn vectors() -> Value {
    let (network, issuing, device_key, owner, customer) = (key(2), key(3), key(4), key(5), key(6));
    let pool = reward_pool::pda::find_pool_address(&network).0;

    // What a device signs, and the Ed25519 instruction proving it.
    let device = Keypair::new_from_array([4; 32]);
    let location = 0x08a2_a107_2b59_ffff_u64;
    let expires_at = 1_900_000_000_i64;
    let onboard = onboard_message(
        &network,
        &owner,
        &device_key,
        &issuing,
        location,
        expires_at,
    );
    let onboard_bytes = onboard.to_bytes();
    let proof = device_proof(&device, &onboard_bytes);
    let relocate =
        assert_location_message(&network, &device_key, &owner, location + 1, 3, expires_at);

    // A reward tree of five devices (an odd count: a lone node is promoted).
    let tree = RewardTree::new((10u8..15).map(|i| (key(i), u64::from(i) * 1_000_003))).unwrap();
    let file = ProofFile::from_tree(&pool, 9, &tree);
    let a = leaf_hash(&key(10), 1);
    let b = leaf_hash(&key(11), u64::MAX);

    json!({
        "programs": {
            "deviceRegistry": device_registry::ID.to_string(),
            "rewardPool": reward_pool::ID.to_string(),
            "servicePayments": service_payments::ID.to_string(),
        },
        "pdas": pdas(&network, &customer),
        "onboard": {
            "network": network.to_string(),
            "owner": owner.to_string(),
            "deviceKey": device_key.to_string(),
            "issuingKey": issuing.to_string(),
            "location": location.to_string(),
            "expiresAt": expires_at.to_string(),
            "message": bytes_hex(&onboard_bytes),
        },
        "assertLocation": {
            "network": network.to_string(),
            "deviceKey": device_key.to_string(),
            "holder": owner.to_string(),
            "location": (location + 1).to_string(),
            "nonce": 3,
            "expiresAt": expires_at.to_string(),
            "message": bytes_hex(&relocate.to_bytes()),
        },
        "ed25519": {
            "programId": proof.program_id.to_string(),
            "deviceSeed": bytes_hex(&[4; 32]),
            "publicKey": device_key.to_string(),
            "message": bytes_hex(&onboard_bytes),
            "signature": bytes_hex(device.sign_message(&onboard_bytes).as_ref()),
            "data": bytes_hex(&proof.data),
        },
        "merkle": {
            "leaves": [
                { "deviceMint": key(10).to_string(), "amount": "1", "hash": hex(&a) },
                { "deviceMint": key(11).to_string(), "amount": u64::MAX.to_string(), "hash": hex(&b) },
            ],
            "node": { "a": hex(&a), "b": hex(&b), "hash": hex(&node_hash(&a, &b)) },
            "proofFile": file,
        },
    })
}

#[test]
fn the_typescript_vectors_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ts/test/vectors.json");
    let text = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("DEPIN_WRITE_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: DEPIN_WRITE_VECTORS=1 cargo test -p depinkit-sdk --test ts_vectors rewrites it",
        path.display()
    );
}
