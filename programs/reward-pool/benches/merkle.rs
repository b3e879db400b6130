//! Reward tree benchmark: builds the tree and every proof for N devices and
//! prints the time and the process's peak memory.
//!
//! `cargo bench -p reward-pool --features merkle-tree --bench merkle [-- DEVICES]`
//! (default 1,000,000 devices).

use anchor_lang::prelude::Pubkey;
use reward_pool::merkle::{RewardTree, leaf_hash, verify};
use std::time::Instant;

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if readable.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let devices: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    // Deterministic, distinct device mints and amounts.
    let amounts: Vec<(Pubkey, u64)> = (0..devices as u64)
        .map(|i| {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
            bytes[8..16].copy_from_slice(&i.to_le_bytes());
            (Pubkey::new_from_array(bytes), 1_000 + i % 997)
        })
        .collect();
    let before = peak_memory_mib().unwrap_or(0.0);

    let started = Instant::now();
    let tree = RewardTree::new(amounts).expect("tree");
    let root_time = started.elapsed();

    let started = Instant::now();
    let mut proof_hashes = 0usize;
    let mut depth = 0usize;
    for i in 0..tree.len() {
        let proof = tree.proof(i);
        depth = depth.max(proof.len());
        proof_hashes += proof.len();
    }
    let proofs_time = started.elapsed();

    let started = Instant::now();
    let root = tree.root();
    let ok = tree
        .entries()
        .iter()
        .enumerate()
        .all(|(i, (mint, amount))| verify(&tree.proof(i), &root, leaf_hash(mint, *amount)));
    let verify_time = started.elapsed();
    assert!(ok, "every proof verifies");

    println!("devices:                 {devices}");
    println!("tree depth:              {depth}");
    println!("root (sort + hash):      {:.3} s", root_time.as_secs_f64());
    println!(
        "all proofs:              {:.3} s ({} hashes copied)",
        proofs_time.as_secs_f64(),
        proof_hashes
    );
    println!(
        "verify every proof:      {:.3} s",
        verify_time.as_secs_f64()
    );
    if let Some(peak) = peak_memory_mib() {
        println!("peak memory:             {peak:.0} MiB (inputs alone: {before:.0} MiB)");
    }
}
