//! A storage node's shards on disk: one file per deal, named by its order,
//! a header (the deal's spec) then the bytes. A shard is taken only when its
//! bytes build the tree its deal commits to and the node has room; it is
//! written to a temporary file, synced, renamed into place and the directory
//! synced, so after a crash a shard is either whole or absent (leftover
//! temporary files are removed on open).

use crate::storage::StoredDeal;
use depinkit_reports::{DealSpec, Hash32, Key, StorageTree};
use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{Read, Write},
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
        let path = self.path(&order);
        let temporary = self.dir.join(format!("{order}.tmp"));
        let mut file = File::create(&temporary).map_err(io(&temporary))?;
        file.write_all(&header(spec)).map_err(io(&temporary))?;
        file.write_all(bytes).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        drop(file);
        fs::rename(&temporary, &path).map_err(io(&path))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(&self.dir))?;
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

    /// The deal at `order` read back with its tree, to answer challenges
    /// (`None` if not held; damaged bytes no longer match their spec).
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
        self.used = self.used.saturating_sub(spec.size);
        Ok(true)
    }
}
