//! Sealing and opening throughput on this machine, against the raw AEAD and
//! SHA-256 rates measured in the same run:
//!
//! ```text
//! cargo run --profile benchmark -p depinkit-storage --example storage_bench -- [MiB]
//! ```
//!
//! Seals a file of MiB mebibytes (default 256) into 4 + 2 shards, then opens
//! it with two data shards lost (so the decoder works), and prints MiB/s of
//! the file with the time split between encryption, erasure coding and
//! hashing.

use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::AeadInPlace};
use depinkit_reports::Hash32;
use depinkit_storage::{Layout, Timings, open, seal};
use std::time::{Duration, Instant};

fn rate(mib: f64, took: Duration) -> String {
    format!("{:>8.1} MiB/s", mib / took.as_secs_f64())
}

fn split(t: &Timings) -> String {
    format!(
        "(AEAD {:.2} s, erasure coding {:.2} s, SHA-256 {:.2} s)",
        t.aead.as_secs_f64(),
        t.coding.as_secs_f64(),
        t.hashing.as_secs_f64()
    )
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("MiB: a whole number"))
        .unwrap_or(256);
    let size = mib << 20;
    let file: Vec<u8> = (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect();
    let mib = mib as f64;

    // The machine's raw rates, on the same bytes.
    let mut buffer = file.clone();
    let began = Instant::now();
    XChaCha20Poly1305::new(&[1u8; 32].into())
        .encrypt_in_place(XNonce::from_slice(&[2u8; 24]), b"", &mut buffer)
        .unwrap();
    let raw_aead = began.elapsed();
    drop(buffer);
    let began = Instant::now();
    let digest = Hash32::sha256(&file);
    let raw_sha = began.elapsed();
    std::hint::black_box(digest);

    let began = Instant::now();
    let (sealed, shards, put) = seal(&file, Layout::default()).unwrap();
    let sealing = began.elapsed();
    let mut fetched: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
    fetched[0] = None;
    fetched[2] = None;
    let began = Instant::now();
    let (back, get) = open(&sealed, &fetched).unwrap();
    let opening = began.elapsed();
    assert!(back == file, "the file comes back");

    println!("storage: a {mib} MiB file, 4 data + 2 parity shards, 1 KiB leaves");
    println!(
        "  raw XChaCha20-Poly1305, one core    {}",
        rate(mib, raw_aead)
    );
    println!(
        "  raw SHA-256, one core               {}",
        rate(mib, raw_sha)
    );
    println!(
        "  seal, no transfer                    {} {}",
        rate(mib, sealing),
        split(&put)
    );
    println!(
        "  open, two data shards rebuilt       {} {}",
        rate(mib, opening),
        split(&get)
    );
}
