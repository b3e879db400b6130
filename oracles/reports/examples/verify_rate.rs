//! How many report signatures one core verifies per second, in batches and one
//! by one, over realistic reports (map tracks of 20 fixes), with the decoding
//! of a binary batch timed apart. The oracle's ingest figures are compared
//! with these.
//!
//! `cargo run --release -p depinkit-reports --example verify_rate [REPORTS] [BATCH]`

use depinkit_reports::{
    Body, GnssFix, Hash32, Key, MapTrack, Report, SignedReport, decode_batch, encode_batch,
    verify_signatures,
};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(20_000, |a| a.parse().expect("REPORTS"));
    let batch: usize = args.next().map_or(500, |a| a.parse().expect("BATCH"));
    let reports: Vec<SignedReport> = (0..count)
        .map(|i| {
            let device = SigningKey::from_bytes(&Hash32::sha256(&i.to_le_bytes()).0);
            let t = 1_767_225_600_000 + i as i64;
            Report {
                network: Key([9; 32]),
                device: Key(device.verifying_key().to_bytes()),
                timestamp_ms: t,
                body: Body::MapTrack(MapTrack {
                    fixes: (0..20)
                        .map(|f| GnssFix {
                            timestamp_ms: t + f * 1_000,
                            lat_e7: 377_749_000 + f as i32 * 100,
                            lon_e7: -1_224_194_000,
                            fix_quality: 1,
                            satellites: 9,
                            frame_hash: Hash32::sha256(&[f as u8; 8]),
                        })
                        .collect(),
                }),
            }
            .sign(&device)
        })
        .collect();
    let encoded: Vec<Vec<u8>> = reports.chunks(batch).map(encode_batch).collect();
    let bytes: usize = encoded.iter().map(Vec::len).sum();

    let start = Instant::now();
    let decoded: usize = encoded
        .iter()
        .map(|b| decode_batch(b).expect("a batch").len())
        .sum();
    let decode_secs = start.elapsed().as_secs_f64();
    assert_eq!(decoded, count);

    let start = Instant::now();
    let ok = reports
        .chunks(batch)
        .flat_map(verify_signatures)
        .filter(Result::is_ok)
        .count();
    let batch_secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, count);

    let start = Instant::now();
    for report in &reports {
        let key = VerifyingKey::from_bytes(&report.report.device.0).expect("a key");
        key.verify(
            &report.report.message(),
            &Signature::from_bytes(&report.signature.0),
        )
        .expect("valid");
    }
    let single_secs = start.elapsed().as_secs_f64();

    println!(
        "{count} map-track reports ({} bytes each), batches of {batch}, one core",
        bytes / count
    );
    println!(
        "decode binary batches: {:>9.0} reports/s",
        count as f64 / decode_secs
    );
    println!(
        "verify in batches:     {:>9.0} reports/s",
        count as f64 / batch_secs
    );
    println!(
        "verify one by one:     {:>9.0} reports/s",
        count as f64 / single_secs
    );
}
