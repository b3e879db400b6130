//! A storage node's shards on disk: one file per deal, named by its order,
//! a header (the deal's spec) then the bytes, and beside it the deal's tree
//! (every hash below the root, level by level), so a challenge reads one
//! leaf and one hash per level instead of the shard. A shard is taken only
//! when its bytes build the tree its deal commits to and the node has room;
//! each file is written to a temporary file, synced, renamed into place and
//! the directory synced, the tree first, so after a crash a shard is either
//! whole or absent (leftover temporary files and trees without a shard are
//! removed on open; a shard kept without its tree gets it rebuilt).

use crate::storage::{DealLeaves, StoredDeal};
use depinkit_reports::{
    DealSpec, Hash32, Key, StorageTree,
    storage::{EMPTY_NODE, level_lengths},
};
use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{Read, Write},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
};

/// First bytes of every shard file.
const MAGIC: &[u8; 8] = b"DPKSHRD1";
/// Header: magic, leaf size (u32), size (u64), root (32 bytes).
const HEADER_BYTES: usize = 8 + 4 + 8 + 32;

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// The bytes do not build the tree the deal commits to.
    #[error("the bytes do not match the deal: their root is {got}, the deal's {want}")]
    Mismatch {
        /// The bytes' spec's root.
        got: Hash32,
        /// The deal's root.
        want: Hash32,
    },
    /// Not enough room left.
    #[error("no room: {need} bytes asked, {free} free")]
    Full {
        /// The shard's size.
        need: u64,
        /// Room left.
        free: u64,
    },
    /// The order holds another shard already.
    #[error("order {0} already holds another shard")]
    Taken(Key),
    /// A shard file is damaged.
    #[error("{0}: not a shard file ({1})")]
    Damaged(PathBuf, String),
    /// The disk failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The shards a node holds, and its room.
pub struct ShardStore {
    dir: PathBuf,
    capacity: u64,
    used: u64,
    held: BTreeMap<Key, DealSpec>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShardError + '_ {
    move |e| ShardError::Io(path.to_path_buf(), e)
}

fn header(spec: &DealSpec) -> [u8; HEADER_BYTES] {
    let mut header = [0u8; HEADER_BYTES];
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&spec.leaf_size.to_le_bytes());
    header[12..20].copy_from_slice(&spec.size.to_le_bytes());
    header[20..].copy_from_slice(&spec.root.0);
    header
}

fn read_header(path: &Path) -> Result<DealSpec, ShardError> {
    let mut bytes = [0u8; HEADER_BYTES];
    let mut file = File::open(path).map_err(io(path))?;
    file.read_exact(&mut bytes)
        .map_err(|e| ShardError::Damaged(path.to_path_buf(), e.to_string()))?;
    if &bytes[..8] != MAGIC {
        return Err(ShardError::Damaged(path.to_path_buf(), "no magic".into()));
    }
    let spec = DealSpec {
        leaf_size: u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
        size: u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")),
        root: Hash32(bytes[20..].try_into().expect("32 bytes")),
    };
    let length = file.metadata().map_err(io(path))?.len();
    if length != HEADER_BYTES as u64 + spec.size {
        return Err(ShardError::Damaged(
            path.to_path_buf(),
            format!("{length} bytes for a shard of {}", spec.size),
        ));
    }
    Ok(spec)
}

impl ShardStore {
    /// Opens (creating) the store in `dir` with room for `capacity` bytes of
    /// shards; removes what a crash left half-written.
    pub fn open(dir: &Path, capacity: u64) -> Result<Self, ShardError> {
        let dir = dir.join("shards");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut held = BTreeMap::new();
        let mut used = 0u64;
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".tmp") {
                fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            if let Some(order) = name.strip_suffix(".tree") {
                if !dir.join(format!("{order}.shard")).exists() {
                    fs::remove_file(&path).map_err(io(&path))?;
                }
                continue;
            }
            let Some(order) = name.strip_suffix(".shard") else {
                continue;
            };
            let order: Key = order
                .parse()
                .map_err(|_| ShardError::Damaged(path.clone(), "not named by an order".into()))?;
            let spec = read_header(&path)?;
            used = used.saturating_add(spec.size);
            held.insert(order, spec);
        }
        Ok(ShardStore {
            dir,
            capacity,
            used,
            held,
        })
    }

    fn path(&self, order: &Key) -> PathBuf {
        self.dir.join(format!("{order}.shard"))
    }

    fn tree_path(&self, order: &Key) -> PathBuf {
        self.dir.join(format!("{order}.tree"))
    }

    /// Writes `contents` to `path` durably: a temporary file, synced, renamed
    /// into place, the directory synced.
    fn write_durably(
        &self,
        order: &Key,
        path: &Path,
        contents: &[&[u8]],
    ) -> Result<(), ShardError> {
        let temporary = self.dir.join(format!("{order}.tmp"));
        let mut file = File::create(&temporary).map_err(io(&temporary))?;
        for part in contents {
            file.write_all(part).map_err(io(&temporary))?;
        }
        file.sync_all().map_err(io(&temporary))?;
        drop(file);
        fs::rename(&temporary, path).map_err(io(path))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(&self.dir))
    }

    /// Writes `tree`'s levels as the tree file of the deal at `order`.
    fn write_tree(&self, order: &Key, tree: &StorageTree) -> Result<(), ShardError> {
        let hashes: Vec<u8> = tree.levels().iter().flatten().flat_map(|h| h.0).collect();
        self.write_durably(order, &self.tree_path(order), &[&hashes])
    }

    /// Bytes of room left.
    pub fn free_bytes(&self) -> u64 {
        self.capacity.saturating_sub(self.used)
    }

    /// The deals held, by order.
    pub fn held(&self) -> impl Iterator<Item = (&Key, &DealSpec)> {
        self.held.iter()
    }

    /// The spec of the deal at `order`, if held.
    pub fn spec(&self, order: &Key) -> Option<DealSpec> {
        self.held.get(order).copied()
    }

    /// Whether a shard of deal `spec` may be kept for `order` (the bytes
    /// not looked at): `Ok(true)` when that very shard is held already,
    /// `Ok(false)` when there is room for it; `Taken` or `Full` otherwise.
    pub fn admit(&self, order: &Key, spec: &DealSpec) -> Result<bool, ShardError> {
        match self.held.get(order) {
            Some(held) if held == spec => Ok(true),
            Some(_) => Err(ShardError::Taken(*order)),
            None if spec.size > self.free_bytes() => Err(ShardError::Full {
                need: spec.size,
                free: self.free_bytes(),
            }),
            None => Ok(false),
        }
    }

    /// Keeps `bytes` as the shard of the deal at `order` once they are the
    /// deal `spec` and fit (the same shard again changes nothing); durable
    /// when this returns.
    pub fn put(&mut self, order: Key, spec: &DealSpec, bytes: &[u8]) -> Result<(), ShardError> {
        let got = StorageTree::build(bytes, spec.leaf_size)
            .map_err(|e| ShardError::Damaged(self.path(&order), e.to_string()))?;
        if got.spec() != *spec {
            return Err(ShardError::Mismatch {
                got: got.spec().root,
                want: spec.root,
            });
        }
        self.put_built(order, &got, bytes)
    }

    /// [`Self::put`] for bytes whose tree the caller has just built from
    /// them (a node derives the deal from the upload): not hashed again.
    pub fn put_built(
        &mut self,
        order: Key,
        tree: &StorageTree,
        bytes: &[u8],
    ) -> Result<(), ShardError> {
        let spec = &tree.spec();
        if spec.size != bytes.len() as u64 {
            return Err(ShardError::Damaged(
                self.path(&order),
                "the tree given is not of these bytes".into(),
            ));
        }
        if self.admit(&order, spec)? {
            return Ok(());
        }
        self.write_tree(&order, tree)?;
        self.write_durably(&order, &self.path(&order), &[&header(spec), bytes])?;
        self.used = self.used.saturating_add(spec.size);
        self.held.insert(order, *spec);
        Ok(())
    }

    /// The shard of the deal at `order`, if held.
    pub fn get(&self, order: &Key) -> Result<Option<Vec<u8>>, ShardError> {
        let Some(spec) = self.held.get(order) else {
            return Ok(None);
        };
        let path = self.path(order);
        let bytes = fs::read(&path).map_err(io(&path))?;
        if bytes.len() as u64 != HEADER_BYTES as u64 + spec.size {
            return Err(ShardError::Damaged(path, "its size changed".into()));
        }
        Ok(Some(bytes[HEADER_BYTES..].to_vec()))
    }

    /// The deal at `order` as its files on disk, to answer challenges leaf
    /// by leaf (`None` if not held). A shard kept without its tree (by an
    /// earlier version) gets it built from its bytes first.
    pub fn on_disk(&self, order: &Key) -> Result<Option<ShardOnDisk>, ShardError> {
        let Some(spec) = self.spec(order) else {
            return Ok(None);
        };
        let tree_path = self.tree_path(order);
        if !tree_path.exists() {
            let Some(deal) = self.deal(order)? else {
                return Ok(None);
            };
            self.write_tree(order, deal.tree())?;
        }
        Ok(Some(ShardOnDisk {
            spec,
            shard: self.path(order),
            tree: tree_path,
        }))
    }

    /// The deal at `order` read back whole with its tree (`None` if not
    /// held; damaged bytes no longer match their spec).
    pub fn deal(&self, order: &Key) -> Result<Option<StoredDeal>, ShardError> {
        let Some(spec) = self.spec(order) else {
            return Ok(None);
        };
        let Some(bytes) = self.get(order)? else {
            return Ok(None);
        };
        StoredDeal::new(bytes, spec.leaf_size)
            .map(Some)
            .map_err(|e| ShardError::Damaged(self.path(order), e.to_string()))
    }

    /// Drops the shard of the deal at `order` (a deal ended or faulted);
    /// whether it was held.
    pub fn remove(&mut self, order: &Key) -> Result<bool, ShardError> {
        let Some(spec) = self.held.remove(order) else {
            return Ok(false);
        };
        let path = self.path(order);
        fs::remove_file(&path).map_err(io(&path))?;
        let tree = self.tree_path(order);
        if tree.exists() {
            fs::remove_file(&tree).map_err(io(&tree))?;
        }
        self.used = self.used.saturating_sub(spec.size);
        Ok(true)
    }
}

/// A held deal's files: its leaves are read from the shard, its paths from
/// the tree, one positioned read each.
#[derive(Clone, Debug)]
pub struct ShardOnDisk {
    spec: DealSpec,
    shard: PathBuf,
    tree: PathBuf,
}

impl ShardOnDisk {
    /// The shard file (header, then the bytes), for serving it.
    pub fn shard_path(&self) -> &Path {
        &self.shard
    }

    /// Where the bytes begin in the shard file.
    pub const BYTES_OFFSET: u64 = HEADER_BYTES as u64;
}

impl DealLeaves for ShardOnDisk {
    fn spec(&self) -> DealSpec {
        self.spec
    }

    fn leaf_and_path(&self, index: u64) -> std::io::Result<(Vec<u8>, Vec<Hash32>)> {
        let leaf_size = u64::from(self.spec.leaf_size);
        let start = index.checked_mul(leaf_size).filter(|&s| s < self.spec.size);
        let Some(start) = start else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("no leaf {index}"),
            ));
        };
        let length = leaf_size.min(self.spec.size - start) as usize;
        let mut leaf = vec![0u8; length];
        File::open(&self.shard)?.read_exact_at(&mut leaf, HEADER_BYTES as u64 + start)?;
        let tree = File::open(&self.tree)?;
        let mut path = Vec::new();
        let mut level_start = 0u64;
        for (height, length) in level_lengths(self.spec.leaves()).into_iter().enumerate() {
            let sibling = (index >> height) ^ 1;
            if sibling < length {
                let mut hash = [0u8; 32];
                tree.read_exact_at(&mut hash, (level_start + sibling) * 32)?;
                path.push(Hash32(hash));
            } else {
                path.push(EMPTY_NODE);
            }
            level_start += length;
        }
        Ok((leaf, path))
    }
}
