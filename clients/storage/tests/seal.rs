//! Sealing and opening a file: any k of the k + m shards give it back byte
//! for byte; a shard that does not match its root is set aside; fewer than k
//! good shards, another key or another file's shards are refused by name.

use depinkit_reports::Hash32;
use depinkit_storage::{Layout, SealError, open, rebuild, seal, seal_with, shard_matches};
use proptest::prelude::*;

fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// The shards with those at `lost` missing.
fn without(shards: &[Vec<u8>], lost: &[usize]) -> Vec<Option<Vec<u8>>> {
    shards
        .iter()
        .enumerate()
        .map(|(i, s)| (!lost.contains(&i)).then(|| s.clone()))
        .collect()
}

#[test]
fn any_four_of_six_shards_give_the_file_back() {
    let original = file(100_003);
    let (sealed, shards, _) = seal(&original, Layout::default()).unwrap();
    assert_eq!(shards.len(), 6);
    assert!(shards.iter().all(|s| s.len() == shards[0].len()));
    assert!(shards[0].len().is_multiple_of(2));
    for (spec, shard) in sealed.specs.iter().zip(&shards) {
        assert!(shard_matches(spec, shard));
    }
    // The ciphertext shows nothing of the file.
    assert!(!shards[0].windows(64).any(|w| w == &original[..64]));
    for a in 0..6 {
        for b in a + 1..6 {
            let (back, _) = open(&sealed, &without(&shards, &[a, b])).unwrap();
            assert_eq!(back, original, "shards {a} and {b} lost");
        }
    }
}

#[test]
fn any_two_lost_shards_are_rebuilt_byte_for_byte_from_the_other_four() {
    let original = file(70_001);
    let (sealed, shards, _) = seal(&original, Layout::default()).unwrap();
    for a in 0..6 {
        for b in a + 1..6 {
            let rebuilt = rebuild(&sealed, &without(&shards, &[a, b]), &[a, b]).unwrap();
            assert_eq!(rebuilt, [shards[a].clone(), shards[b].clone()], "{a}, {b}");
        }
    }
    // A damaged shard is set aside; three good ones rebuild nothing.
    let mut offered = without(&shards, &[0, 1]);
    offered[2].as_mut().unwrap()[10] ^= 1;
    assert_eq!(
        rebuild(&sealed, &offered, &[0, 1]),
        Err(SealError::TooFewShards { have: 3, need: 4 })
    );
}

#[test]
fn a_tampered_shard_is_set_aside_and_too_few_good_ones_are_refused() {
    let original = file(40_000);
    let (sealed, shards, _) = seal(&original, Layout::default()).unwrap();
    let mut tampered = without(&shards, &[]);
    tampered[1].as_mut().unwrap()[5] ^= 1;
    assert!(!shard_matches(
        &sealed.specs[1],
        tampered[1].as_ref().unwrap()
    ));
    let (back, _) = open(&sealed, &tampered).unwrap();
    assert_eq!(back, original, "the five good shards suffice");

    tampered[4] = None;
    tampered[5] = None;
    assert_eq!(
        open(&sealed, &tampered).unwrap_err(),
        SealError::TooFewShards { have: 3, need: 4 }
    );
    // A shard cut short is no match either.
    let mut short = without(&shards, &[0]);
    short[2].as_mut().unwrap().pop();
    short[3] = None;
    assert_eq!(
        open(&sealed, &short).unwrap_err(),
        SealError::TooFewShards { have: 3, need: 4 }
    );
}

#[test]
fn another_key_or_another_files_shards_are_refused() {
    let original = file(10_000);
    let (sealed, shards, _) = seal(&original, Layout::default()).unwrap();
    let mut wrong_key = sealed.clone();
    wrong_key.key[0] ^= 1;
    assert_eq!(
        open(&wrong_key, &without(&shards, &[])).unwrap_err(),
        SealError::Decrypt
    );
    // The hash the AEAD binds is part of what the key opens.
    let mut wrong_hash = sealed.clone();
    wrong_hash.file_hash = Hash32::sha256(b"another file");
    assert_eq!(
        open(&wrong_hash, &without(&shards, &[])).unwrap_err(),
        SealError::Decrypt
    );
    // Another file's shards do not match this file's roots.
    let (_, others, _) = seal(&file(10_000), Layout::default()).unwrap();
    assert_eq!(
        open(&sealed, &without(&others, &[])).unwrap_err(),
        SealError::TooFewShards { have: 0, need: 4 }
    );
}

#[test]
fn one_key_and_nonce_seal_the_same_shards() {
    let original = file(5_000);
    let (a, shards_a, _) = seal_with(&original, Layout::default(), [3; 32], [4; 24]).unwrap();
    let (b, shards_b, _) = seal_with(&original, Layout::default(), [3; 32], [4; 24]).unwrap();
    assert_eq!((a, shards_a), (b, shards_b));
    let (c, _, _) = seal(&original, Layout::default()).unwrap();
    let (d, _, _) = seal(&original, Layout::default()).unwrap();
    assert_ne!(c.key, d.key, "a fresh key per file");
    assert_ne!(c.specs, d.specs);
}

#[test]
fn unusable_layouts_are_refused() {
    for layout in [
        Layout {
            data_shards: 0,
            ..Layout::default()
        },
        Layout {
            parity_shards: 0,
            ..Layout::default()
        },
        Layout {
            leaf_size: 16,
            ..Layout::default()
        },
    ] {
        assert!(matches!(
            seal(b"x", layout).unwrap_err(),
            SealError::Layout(_)
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_size_and_loss_pattern_within_m_round_trips(
        len in 0usize..20_000,
        data_shards in 1usize..7,
        parity_shards in 1usize..4,
        lost_seed in any::<u64>(),
    ) {
        let layout = Layout { data_shards, parity_shards, leaf_size: 64 };
        let original = file(len);
        let (sealed, shards, _) = seal(&original, layout).unwrap();
        // Lose up to m shards, chosen by the seed.
        let total = data_shards + parity_shards;
        let lost: Vec<usize> = (0..parity_shards)
            .map(|i| ((lost_seed >> (i * 8)) as usize) % total)
            .collect();
        let (back, _) = open(&sealed, &without(&shards, &lost)).unwrap();
        prop_assert_eq!(back, original);
    }
}
