//! A storage node's shards on disk: a shard is kept only when its bytes are
//! the deal's and fit, whole or not at all; what a crash leaves half-written
//! is cleared on open, and a damaged file is named. Challenges are answered
//! from the shard and tree files leaf by leaf, exactly as from the bytes in
//! memory.

use depinkit_device::{
    shards::{ShardError, ShardStore},
    storage::{DealLeaves, StoredDeal},
};
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
    assert_eq!(
        files(dir.path()),
        [
            format!("{}.shard", Key([1; 32])),
            format!("{}.tree", Key([1; 32]))
        ],
        "the one shard taken and its tree"
    );
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
    assert_eq!(
        files(dir.path()),
        vec![
            format!("{}.shard", Key([1; 32])),
            format!("{}.tree", Key([1; 32]))
        ]
    );
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

#[test]
fn every_leaf_and_path_read_from_disk_is_the_one_the_bytes_give() {
    for (size, leaf_size) in [
        (1usize, 32u32),
        (32, 32),
        (33, 32),
        (10_000, 256),
        (70_001, 1024),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = ShardStore::open(dir.path(), 1 << 20).unwrap();
        let bytes = shard(size, 7);
        let in_memory = StoredDeal::new(bytes.clone(), leaf_size).unwrap();
        let order = Key([4; 32]);
        store.put(order, &in_memory.spec(), &bytes).unwrap();
        let on_disk = store.on_disk(&order).unwrap().unwrap();
        let spec = on_disk.spec();
        assert_eq!(spec, in_memory.spec());
        for index in 0..spec.leaves() {
            let read = on_disk.leaf_and_path(index).unwrap();
            assert_eq!(
                read,
                in_memory.leaf_and_path(index).unwrap(),
                "{size}: leaf {index}"
            );
            assert!(spec.verify(index, &read.0, &read.1));
        }
        assert!(
            on_disk.leaf_and_path(spec.leaves()).is_err(),
            "past the last leaf"
        );
    }
}

#[test]
fn a_shard_kept_without_its_tree_gets_it_and_a_tree_without_its_shard_goes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = ShardStore::open(dir.path(), 100_000).unwrap();
    let bytes = shard(5_000, 9);
    let spec = spec_of(&bytes);
    store.put(Key([1; 32]), &spec, &bytes).unwrap();
    drop(store);
    let shards = dir.path().join("shards");
    // An earlier version kept no tree; a crash left a tree without a shard.
    std::fs::remove_file(shards.join(format!("{}.tree", Key([1; 32])))).unwrap();
    std::fs::write(shards.join(format!("{}.tree", Key([2; 32]))), [0u8; 64]).unwrap();
    let store = ShardStore::open(dir.path(), 100_000).unwrap();
    assert_eq!(files(dir.path()), vec![format!("{}.shard", Key([1; 32]))]);
    let on_disk = store.on_disk(&Key([1; 32])).unwrap().unwrap();
    let (leaf, path) = on_disk.leaf_and_path(7).unwrap();
    assert!(spec.verify(7, &leaf, &path));
    assert_eq!(files(dir.path()).len(), 2, "its tree written back");
    // A shard's bytes changed on disk: its answers no longer verify.
    let shard_file = shards.join(format!("{}.shard", Key([1; 32])));
    let mut damaged = std::fs::read(&shard_file).unwrap();
    let at = damaged.len() - 5_000 + 7 * 256;
    damaged[at] ^= 1;
    std::fs::write(&shard_file, &damaged).unwrap();
    let (leaf, path) = on_disk.leaf_and_path(7).unwrap();
    assert!(!spec.verify(7, &leaf, &path));
}
