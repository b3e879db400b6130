//! Every report format fed arbitrary and damaged bytes: the binary batch, its
//! frames, and JSON batches never panic; a whole batch is refused with a
//! `BatchError`, a bad report with its `Rejection`, and every report that
//! does decode is one the encoder would produce and passes its checks.
//!
//! 100,000 cases per property by default (a few seconds); a longer run:
//! `DEPIN_FUZZ_CASES=10000000 cargo test --release -p depinkit-reports --test fuzz`.

use depinkit_reports::*;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

/// Cases per property: `DEPIN_FUZZ_CASES`, or 100,000.
fn cases() -> u32 {
    std::env::var("DEPIN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// A valid batch of one report of several kinds, signed.
fn valid_reports() -> Vec<SignedReport> {
    let device = SigningKey::from_bytes(&[7; 32]);
    let oracle = SigningKey::from_bytes(&[5; 32]);
    let network = Key([1; 32]);
    let bodies = [
        Body::Beacon(Beacon {
            entropy: Entropy::issue(&network, 1_767_225_600_000, &[9; 32], &oracle),
            payload: vec![1, 2, 3],
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
        Body::MapTrack(MapTrack {
            fixes: vec![GnssFix {
                timestamp_ms: 1_767_225_600_000,
                lat_e7: 377_749_000,
                lon_e7: -1_224_194_000,
                fix_quality: 1,
                satellites: 9,
                frame_hash: Hash32::sha256(b"frame"),
            }],
        }),
        Body::StorageProof({
            let tree = StorageTree::build(&[3; 300], 64).unwrap();
            StorageProof {
                deal: Key([4; 32]),
                spec: tree.spec(),
                epoch: 2,
                seed: Entropy::issue(&network, 1_767_225_600_000, &[8; 32], &oracle),
                challenge: 1,
                leaf_index: 2,
                leaf: vec![3; 64],
                path: tree.path(2).unwrap(),
            }
        }),
    ];
    bodies
        .into_iter()
        .map(|body| {
            Report {
                network,
                device: Key(device.verifying_key().to_bytes()),
                timestamp_ms: 1_767_225_600_000,
                body,
            }
            .sign(&device)
        })
        .collect()
}

/// The valid reports, made once: their binary batch, JSON batch and frames.
struct Valid {
    reports: Vec<SignedReport>,
    batch: Vec<u8>,
    json: Vec<u8>,
    frames: Vec<Vec<u8>>,
}

fn valid() -> &'static Valid {
    static VALID: std::sync::OnceLock<Valid> = std::sync::OnceLock::new();
    VALID.get_or_init(|| {
        let reports = valid_reports();
        Valid {
            batch: encode_batch(&reports),
            json: serde_json::to_vec(&reports).unwrap(),
            frames: reports.iter().map(SignedReport::to_bytes).collect(),
            reports,
        }
    })
}

/// A damage done to a valid encoding.
#[derive(Clone, Debug)]
enum Damage {
    /// XOR a byte at a position (modulo the length).
    Flip(usize, u8),
    /// Cut the bytes at a position.
    Truncate(usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, x)| Damage::Flip(at, x)),
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
    ]
}

fn apply(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for damage in damages {
        if bytes.is_empty() {
            break;
        }
        match damage {
            Damage::Flip(at, x) => {
                let at = at % bytes.len();
                bytes[at] ^= x;
            }
            Damage::Truncate(at) => bytes.truncate(at % bytes.len()),
            Damage::Insert(at, more) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, more.iter().copied());
            }
        }
    }
    bytes
}

/// Every report that decoded is well formed: its checks pass and its
/// encoding decodes back to it.
fn decoded_reports_are_sound(outcomes: &[Result<SignedReport, Rejection>]) {
    for report in outcomes.iter().flatten() {
        assert_eq!(report.check(), Ok(()));
        assert_eq!(
            SignedReport::from_bytes(&report.to_bytes()).as_ref(),
            Ok(report)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_refused_whole_or_report_by_report(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        framed in any::<bool>(),
    ) {
        let mut input = Vec::new();
        if framed {
            input.extend_from_slice(BATCH_MAGIC);
            input.push(BATCH_VERSION);
        }
        input.extend_from_slice(&bytes);
        match decode_batch(&input) {
            Ok(outcomes) => {
                prop_assert!(framed);
                decoded_reports_are_sound(&outcomes);
            }
            Err(BatchError::Header) => prop_assert!(!framed),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn damaged_binary_batches_never_panic(damages in prop::collection::vec(damage(), 1..4)) {
        let batch = apply(valid().batch.clone(), &damages);
        if let Ok(outcomes) = decode_batch(&batch) {
            decoded_reports_are_sound(&outcomes);
        }
    }

    #[test]
    fn damaged_frames_never_panic(
        which in 0usize..3,
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let frame = apply(valid().frames[which].clone(), &damages);
        if let Ok(report) = SignedReport::from_bytes(&frame) {
            decoded_reports_are_sound(&[Ok(report)]);
        }
    }

    #[test]
    fn damaged_json_batches_never_panic(damages in prop::collection::vec(damage(), 1..4)) {
        match decode_json_batch(&apply(valid().json.clone(), &damages)) {
            Ok(outcomes) => decoded_reports_are_sound(&outcomes),
            Err(BatchError::Json(_)) => {}
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    #[test]
    fn arbitrary_text_is_no_json_batch_or_refused_item_by_item(text in ".{0,256}") {
        match decode_json_batch(text.as_bytes()) {
            Ok(outcomes) => decoded_reports_are_sound(&outcomes),
            Err(BatchError::Json(_)) => {}
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

#[test]
fn the_valid_batch_decodes_whole() {
    let valid = valid();
    let outcomes = decode_batch(&valid.batch).unwrap();
    assert_eq!(
        outcomes,
        valid.reports.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
}
