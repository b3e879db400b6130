//! A storage node's shards on disk: a shard is kept only when its bytes are
//! the deal's and fit, whole or not at all; what a crash leaves half-written
//! is cleared on open, and a damaged file is named.

use depinkit_device::shards::{ShardError, ShardStore};
use depinkit_reports::{Key, StorageTree};

fn shard(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

fn spec_of(bytes: &[u8]) -> depinkit_reports::DealSpec {
    StorageTree::build(bytes, 256).unwrap().spec()
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("shards"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_matching_shard_is_kept_durably_served_and_answered_from() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ShardStore::open(dir.path(), 100_000).unwrap();
    let bytes = shard(10_000, 1);
    let spec = spec_of(&bytes);
    store.put(Key([1; 32]), &spec, &bytes).unwrap();
    // The same shard again changes nothing.
    store.put(Key([1; 32]), &spec, &bytes).unwrap();
    assert_eq!(store.free_bytes(), 90_000);
    assert_eq!(store.get(&Key([1; 32])).unwrap(), Some(bytes.clone()));
    assert_eq!(store.get(&Key([2; 32])).unwrap(), None);
    assert_eq!(store.deal(&Key([1; 32])).unwrap().unwrap().spec(), spec);

    drop(store);
    let store = ShardStore::open(dir.path(), 100_000).unwrap();
    assert_eq!(store.free_bytes(), 90_000, "room counted again on open");
    let held: Vec<_> = store.held().map(|(k, s)| (*k, *s)).collect();
    assert_eq!(held, vec![(Key([1; 32]), spec)]);
    assert_eq!(store.get(&Key([1; 32])).unwrap(), Some(bytes));
}

#[test]
fn wrong_bytes_no_room_or_a_taken_order_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ShardStore::open(dir.path(), 15_000).unwrap();
    let bytes = shard(10_000, 1);
    let spec = spec_of(&bytes);
    let mut tampered = bytes.clone();
    tampered[4_321] ^= 1;
    assert!(matches!(
        store.put(Key([1; 32]), &spec, &tampered),
        Err(ShardError::Mismatch { want, .. }) if want == spec.root
    ));
    assert!(files(dir.path()).is_empty());
    assert_eq!(store.free_bytes(), 15_000);

    store.put(Key([1; 32]), &spec, &bytes).unwrap();
    let other = shard(10_000, 2);
    assert!(matches!(
        store.put(Key([2; 32]), &spec_of(&other), &other),
        Err(ShardError::Full {
            need: 10_000,
            free: 5_000
        })
    ));
    let small = shard(1_000, 3);
    assert!(matches!(
        store.put(Key([1; 32]), &spec_of(&small), &small),
        Err(ShardError::Taken(_))
    ));
    assert_eq!(files(dir.path()).len(), 1);
}

#[test]
fn crash_leftovers_are_cleared_and_a_damaged_shard_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ShardStore::open(dir.path(), 100_000).unwrap();
    let bytes = shard(3_000, 1);
    store.put(Key([1; 32]), &spec_of(&bytes), &bytes).unwrap();
    let bytes2 = shard(3_000, 2);
    store.put(Key([2; 32]), &spec_of(&bytes2), &bytes2).unwrap();
    assert!(store.remove(&Key([2; 32])).unwrap());
    assert!(!store.remove(&Key([2; 32])).unwrap());
    assert_eq!(store.free_bytes(), 97_000);
    drop(store);

    // A write cut short by a crash.
    let shards = dir.path().join("shards");
    std::fs::write(shards.join(format!("{}.tmp", Key([3; 32]))), b"half").unwrap();
    let store = ShardStore::open(dir.path(), 100_000).unwrap();
    assert_eq!(files(dir.path()), vec![format!("{}.shard", Key([1; 32]))]);
    assert_eq!(store.held().count(), 1);
    drop(store);

    // A shard file cut by something else is named, not served.
    let path = shards.join(format!("{}.shard", Key([1; 32])));
    let length = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(length - 10)
        .unwrap();
    match ShardStore::open(dir.path(), 100_000) {
        Err(ShardError::Damaged(named, _)) => assert_eq!(named, path),
        other => panic!("{:?}", other.err()),
    }
}
