//! The report encodings and signature checks, as a device and an oracle use them.

use depinkit_reports::*;
use ed25519_dalek::SigningKey;

const NETWORK: Key = Key([9; 32]);
const T: i64 = 1_767_225_600_000;

fn signer(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn key_of(signer: &SigningKey) -> Key {
    Key(signer.verifying_key().to_bytes())
}

/// One report of every kind, signed (and co-signed where the kind needs it).
fn one_of_each(device: &SigningKey, cosigner: &SigningKey) -> Vec<SignedReport> {
    let bodies = [
        Body::Beacon(Beacon {
            entropy: Entropy::issue(
                &Key([1; 32]),
                1_767_225_600_000,
                &[9; 32],
                &SigningKey::from_bytes(&[5; 32]),
            ),
            payload: vec![1, 2, 3],
            frequency_hz: 904_300_000,
            tx_power_ddbm: 270,
            antenna_gain_ddbi: 30,
        }),
        Body::Witness(Witness {
            beaconer: Key([4; 32]),
            beacon_payload_hash: Hash32::sha256(&[1, 2, 3]),
            received_at_ms: T + 20,
            frequency_hz: 904_300_000,
            rssi_ddbm: -1_050,
            snr_ddb: 55,
            antenna_gain_ddbi: 30,
        }),
        Body::DataTransfer(DataTransfer {
            customer: key_of(cosigner),
            bytes: 24_000,
            start_ms: T - 60_000,
            end_ms: T,
        }),
        Body::MapTrack(MapTrack {
            fixes: vec![GnssFix {
                timestamp_ms: T,
                lat_e7: 377_749_000,
                lon_e7: -1_224_194_000,
                fix_quality: 1,
                satellites: 9,
                frame_hash: Hash32::sha256(b"frame"),
            }],
        }),
        Body::StorageProof(StorageProof {
            deal: Key([5; 32]),
            spec: DealSpec {
                root: Hash32::sha256(b"root"),
                size: 2048,
                leaf_size: 256,
            },
            epoch: 3,
            seed: Entropy::issue(
                &Key([1; 32]),
                1_767_225_600_000,
                &[4; 32],
                &SigningKey::from_bytes(&[5; 32]),
            ),
            challenge: 0,
            leaf_index: 6,
            leaf: vec![0xab; 256],
            path: vec![
                Hash32::sha256(b"a"),
                Hash32::sha256(b"b"),
                Hash32::sha256(b"c"),
            ],
        }),
        Body::GpuReceipt(GpuReceipt {
            order: Key([6; 32]),
            client: key_of(cosigner),
            gpu_class: "a100-80g".into(),
            start_ms: T - 3_600_000,
            end_ms: T,
            gpu_seconds: 3_600,
            result_hash: Hash32::sha256(b"result"),
        }),
        Body::ComputeAnswer({
            let challenge = ComputeChallenge::issue(
                &NETWORK,
                key_of(device),
                "a100-80g",
                Hash32::sha256(b"seed"),
                4,
                T - 1_000,
                &signer(5),
            );
            let (a, b) = challenge_matrices(&challenge.seed, 4);
            ComputeAnswer {
                product: multiply(&a, &b, 4),
                challenge,
            }
        }),
    ];
    bodies
        .into_iter()
        .map(|body| {
            let needs_cosigner = body.cosigner().is_some();
            let signed = Report {
                network: NETWORK,
                device: key_of(device),
                timestamp_ms: T,
                body,
            }
            .sign(device);
            if needs_cosigner {
                signed.cosign(cosigner)
            } else {
                signed
            }
        })
        .collect()
}

#[test]
fn every_kind_round_trips_in_both_encodings_and_verifies() {
    let reports = one_of_each(&signer(1), &signer(2));
    let kinds: Vec<Kind> = reports.iter().map(|r| r.report.kind()).collect();
    assert_eq!(kinds, Kind::ALL);
    let binary = decode_batch(&encode_batch(&reports)).unwrap();
    assert_eq!(binary, reports.iter().cloned().map(Ok).collect::<Vec<_>>());
    let json = serde_json::to_vec(&reports).unwrap();
    let from_json = decode_json_batch(&json).unwrap();
    assert_eq!(
        from_json,
        reports.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
    assert!(verify_signatures(&reports).iter().all(Result::is_ok));
}

#[test]
fn the_message_is_domain_separated_and_stable() {
    let report = &one_of_each(&signer(1), &signer(2))[3].report;
    let message = report.message();
    assert_eq!(&message[..15], REPORT_DOMAIN);
    assert_eq!(message[15], ENCODING_VERSION);
    assert_eq!(message[16], Kind::MapTrack as u8);
    assert_eq!(&message[17..49], &NETWORK.0, "the network comes first");
    // The encoding is a protocol, written out here byte by byte as a device
    // in another language would build it.
    let mut expected = b"depinkit-report".to_vec();
    expected.extend([1, 3]); // version, kind
    expected.extend(NETWORK.0);
    expected.extend(report.device.0);
    expected.extend(T.to_le_bytes());
    expected.push(3); // the body's tag: the kind again
    expected.extend(1u32.to_le_bytes()); // one fix
    expected.extend(T.to_le_bytes());
    expected.extend(377_749_000i32.to_le_bytes());
    expected.extend((-1_224_194_000i32).to_le_bytes());
    expected.extend([1, 9]); // fix quality, satellites
    expected.extend(Hash32::sha256(b"frame").0);
    assert_eq!(message, expected);
    assert_eq!(report.content_hash(), Hash32::sha256(&expected));
    // Another network, another message: a report cannot be replayed elsewhere.
    let mut elsewhere = report.clone();
    elsewhere.network = Key([8; 32]);
    assert_ne!(elsewhere.message(), message);
}

#[test]
fn forged_and_tampered_signatures_are_found_in_a_batch() {
    let (device, cosigner) = (signer(1), signer(2));
    let mut reports = one_of_each(&device, &cosigner);
    // A field changed after signing.
    if let Body::Beacon(beacon) = &mut reports[0].report.body {
        beacon.frequency_hz += 1;
    }
    // Signed by someone else than the device named.
    reports[1] = Report {
        device: key_of(&device),
        ..reports[1].report.clone()
    }
    .sign(&signer(3));
    // Co-signed by someone else than the customer.
    reports[2] = reports[2].clone().cosign(&signer(4));
    // A device key that is not a curve point.
    let mut bad_key = reports[3].clone();
    bad_key.report.device = Key([0xff; 32]);
    reports[3] = bad_key;
    let outcomes = verify_signatures(&reports);
    assert_eq!(
        outcomes,
        vec![
            Err(Rejection::BadSignature),
            Err(Rejection::BadSignature),
            Err(Rejection::BadCosignature),
            Err(Rejection::BadSignature),
            Ok(()),
            Ok(()),
            Ok(()),
        ]
    );
}

#[test]
fn a_reports_outcome_does_not_depend_on_its_batch() {
    let (device, cosigner) = (signer(1), signer(2));
    let mut reports = one_of_each(&device, &cosigner);
    reports.extend(one_of_each(&signer(5), &signer(6)));
    reports[7].signature = Sig([3; 64]);
    reports[10] = reports[10].clone().cosign(&signer(7));
    let alone: Vec<_> = reports
        .iter()
        .map(|r| verify_signatures(std::slice::from_ref(r))[0])
        .collect();
    for start in 0..reports.len() {
        for end in start + 1..=reports.len() {
            let together = verify_signatures(&reports[start..end]);
            assert_eq!(together, alone[start..end], "batch {start}..{end}");
        }
    }
    assert_eq!(alone.iter().filter(|o| o.is_err()).count(), 2);
}

#[test]
fn structure_is_checked_at_decoding() {
    let (device, cosigner) = (signer(1), signer(2));
    let reports = one_of_each(&device, &cosigner);
    let resign = |report: Report| report.sign(&device);
    let mut cases = Vec::new();
    let mut long_payload = reports[0].report.clone();
    if let Body::Beacon(b) = &mut long_payload.body {
        b.payload = vec![0; MAX_BEACON_PAYLOAD + 1];
    }
    cases.push((resign(long_payload), Rejection::InvalidField));
    let mut far_north = reports[3].report.clone();
    if let Body::MapTrack(t) = &mut far_north.body {
        t.fixes[0].lat_e7 = 900_000_001;
    }
    cases.push((resign(far_north), Rejection::InvalidField));
    let mut long_track = reports[3].report.clone();
    if let Body::MapTrack(t) = &mut long_track.body {
        t.fixes = vec![t.fixes[0].clone(); MAX_TRACK_FIXES + 1];
    }
    cases.push((resign(long_track), Rejection::InvalidField));
    let mut beyond_tree = reports[4].report.clone();
    if let Body::StorageProof(p) = &mut beyond_tree.body {
        p.leaf_index = 8; // a 3-hash path has leaves 0..8
    }
    cases.push((resign(beyond_tree), Rejection::InvalidField));
    let mut backwards = reports[5].clone();
    if let Body::GpuReceipt(r) = &mut backwards.report.body {
        r.end_ms = r.start_ms;
    }
    cases.push((
        backwards.report.sign(&device).cosign(&cosigner),
        Rejection::InvalidField,
    ));
    let mut short_product = reports[6].report.clone();
    if let Body::ComputeAnswer(a) = &mut short_product.body {
        a.product.pop();
    }
    cases.push((resign(short_product), Rejection::InvalidField));
    let mut outside_field = reports[6].report.clone();
    if let Body::ComputeAnswer(a) = &mut outside_field.body {
        a.product[0] = FIELD_PRIME as u32;
    }
    cases.push((resign(outside_field), Rejection::InvalidField));
    let mut huge_challenge = reports[6].report.clone();
    if let Body::ComputeAnswer(a) = &mut huge_challenge.body {
        a.challenge.size = MAX_CHALLENGE_SIZE + 1;
    }
    cases.push((resign(huge_challenge), Rejection::InvalidField));
    let mut uncosigned = reports[2].clone();
    uncosigned.cosignature = None;
    cases.push((uncosigned, Rejection::BadCosignature));
    let mut cosigned_beacon = reports[0].clone();
    cosigned_beacon.cosignature = Some(Sig([1; 64]));
    cases.push((cosigned_beacon, Rejection::InvalidField));
    for (report, expected) in cases {
        assert_eq!(SignedReport::from_bytes(&report.to_bytes()), Err(expected));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(SignedReport::from_json(json), Err(expected));
    }
    let mut huge = vec![0u8; MAX_REPORT_BYTES + 1];
    huge[0] = 1;
    assert_eq!(SignedReport::from_bytes(&huge), Err(Rejection::TooLarge));
}

#[test]
fn one_bad_frame_costs_only_itself() {
    let reports = one_of_each(&signer(1), &signer(2));
    // A frame of garbage between two good ones.
    let mut batch = encode_batch(&reports[..1]);
    batch.extend_from_slice(&5u32.to_le_bytes());
    batch.extend_from_slice(&[0xff; 5]);
    let tail = encode_batch(&reports[1..3]);
    batch.extend_from_slice(&tail[5..]);
    let outcomes = decode_batch(&batch).unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0], Ok(reports[0].clone()));
    assert_eq!(outcomes[1], Err(Rejection::Malformed));
    assert_eq!(outcomes[2], Ok(reports[1].clone()));
    assert_eq!(outcomes[3], Ok(reports[2].clone()));
    // Cut inside the last frame, and inside a length.
    let whole = encode_batch(&reports[..2]);
    for cut in [
        whole.len() - 1,
        whole.len() - reports[1].to_bytes().len() - 2,
    ] {
        let outcomes = decode_batch(&whole[..cut]).unwrap();
        assert_eq!(
            outcomes,
            vec![Ok(reports[0].clone()), Err(Rejection::Truncated)]
        );
    }
    assert_eq!(decode_batch(b"DPKA\x01"), Err(BatchError::Header));
    assert_eq!(decode_batch(b"DPKB\x02"), Err(BatchError::Header));
    assert_eq!(decode_batch(b"DPKB\x01").unwrap(), vec![]);
}

#[test]
fn a_malformed_json_report_costs_only_itself() {
    let reports = one_of_each(&signer(1), &signer(2));
    let mut values: Vec<serde_json::Value> = reports[..2]
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    values.insert(
        1,
        serde_json::json!({ "report": { "network": "not a key" } }),
    );
    values.insert(2, serde_json::json!(17));
    let outcomes = decode_json_batch(&serde_json::to_vec(&values).unwrap()).unwrap();
    assert_eq!(
        outcomes,
        vec![
            Ok(reports[0].clone()),
            Err(Rejection::Malformed),
            Err(Rejection::Malformed),
            Ok(reports[1].clone()),
        ]
    );
    assert!(matches!(
        decode_json_batch(b"{\"reports\": []}"),
        Err(BatchError::Json(_))
    ));
    assert!(matches!(decode_json_batch(b"[{"), Err(BatchError::Json(_))));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn fix() -> impl Strategy<Value = GnssFix> {
        (
            1i64..4_000_000_000_000,
            -900_000_000i32..=900_000_000,
            -1_800_000_000i32..=1_800_000_000,
            any::<u8>(),
            any::<u8>(),
            any::<[u8; 32]>(),
        )
            .prop_map(|(t, lat, lon, quality, satellites, frame)| GnssFix {
                timestamp_ms: t,
                lat_e7: lat,
                lon_e7: lon,
                fix_quality: quality,
                satellites,
                frame_hash: Hash32(frame),
            })
    }

    fn body() -> impl Strategy<Value = Body> {
        prop_oneof![
            (
                any::<[u8; 32]>(),
                prop::collection::vec(any::<u8>(), 1..=MAX_BEACON_PAYLOAD),
                1u64..,
                any::<i16>(),
                any::<i16>()
            )
                .prop_map(|(e, payload, f, p, g)| Body::Beacon(Beacon {
                    entropy: Entropy {
                        issued_ms: 0,
                        value: Hash32(e),
                        oracle: Key(e),
                        signature: Sig([7; 64]),
                    },
                    payload,
                    frequency_hz: f,
                    tx_power_ddbm: p,
                    antenna_gain_ddbi: g,
                })),
            prop::collection::vec(fix(), 1..=MAX_TRACK_FIXES)
                .prop_map(|fixes| Body::MapTrack(MapTrack { fixes })),
            (
                any::<[u8; 32]>(),
                any::<u32>(),
                any::<u16>(),
                prop::collection::vec(any::<[u8; 32]>(), 0..=MAX_STORAGE_PATH),
                prop::collection::vec(any::<u8>(), 1..=MAX_STORAGE_LEAF),
                any::<u64>()
            )
                .prop_map(|(deal, epoch, challenge, path, leaf, index)| {
                    let height = path.len() as u32;
                    Body::StorageProof(StorageProof {
                        deal: Key(deal),
                        spec: DealSpec {
                            root: Hash32(deal),
                            size: u64::from(epoch).max(1),
                            leaf_size: 64,
                        },
                        epoch,
                        seed: Entropy {
                            issued_ms: i64::from(challenge),
                            value: Hash32(deal),
                            oracle: Key(deal),
                            signature: Sig([8; 64]),
                        },
                        challenge,
                        leaf_index: index.checked_shr(64 - height).unwrap_or(0),
                        leaf,
                        path: path.into_iter().map(Hash32).collect(),
                    })
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any valid report survives both encodings unchanged and verifies;
        /// any single flipped byte of its signed message breaks it.
        #[test]
        fn valid_reports_round_trip_and_any_change_breaks_the_signature(
            body in body(),
            seed in any::<[u8; 32]>(),
            timestamp in 1i64..4_000_000_000_000,
            flip in any::<prop::sample::Index>(),
        ) {
            let device = SigningKey::from_bytes(&seed);
            let signed = Report {
                network: NETWORK,
                device: key_of(&device),
                timestamp_ms: timestamp,
                body,
            }
            .sign(&device);
            let bytes = signed.to_bytes();
            prop_assert!(bytes.len() <= MAX_REPORT_BYTES);
            prop_assert_eq!(SignedReport::from_bytes(&bytes), Ok(signed.clone()));
            let json = serde_json::to_value(&signed).unwrap();
            prop_assert_eq!(SignedReport::from_json(json), Ok(signed.clone()));
            prop_assert_eq!(verify_signatures(std::slice::from_ref(&signed)), vec![Ok(())]);
            // Flip one byte of the report (after the length-free prefix of the
            // signature) and re-decode: it fails to decode, fails its checks,
            // or fails its signature.
            let report_bytes = borsh::to_vec(&signed.report).unwrap();
            let at = flip.index(report_bytes.len());
            let mut changed = report_bytes.clone();
            changed[at] ^= 0x01;
            let mut tampered = changed;
            tampered.extend_from_slice(&signed.to_bytes()[report_bytes.len()..]);
            if let Ok(decoded) = SignedReport::from_bytes(&tampered) {
                prop_assert_eq!(
                    verify_signatures(&[decoded]),
                    vec![Err(Rejection::BadSignature)]
                );
            }
        }
    }
}
