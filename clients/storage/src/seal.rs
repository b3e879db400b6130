//! A file made into shards and back. Sealing encrypts the file with
//! XChaCha20-Poly1305 under a fresh key, cuts the ciphertext into `k` equal
//! data shards and computes `m` parity shards with Reed-Solomon coding over
//! GF(2^16), and builds each shard's storage tree (the `DealSpec` its order
//! commits to). Opening takes any `k` shards, checks each against its tree's
//! root, decodes the missing data shards, decrypts, and checks the file's
//! SHA-256.

use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::AeadInPlace};
use depinkit_reports::{
    Hash32,
    storage::{DealSpec, MIN_STORAGE_LEAF, StorageTree},
};
use rand_core::{OsRng, RngCore};
use std::time::{Duration, Instant};

/// Data shards by default: any 4 of the shards rebuild the file.
pub const DEFAULT_DATA_SHARDS: usize = 4;
/// Parity shards by default: 2 shards may be lost.
pub const DEFAULT_PARITY_SHARDS: usize = 2;
/// Leaf size of the shards' storage trees by default: a challenge's answer
/// carries one leaf and its path, well inside a report.
pub const DEFAULT_LEAF_SIZE: u32 = 1024;
/// The AEAD's nonce, stored before the ciphertext.
pub const NONCE_BYTES: usize = 24;
/// The AEAD's tag, after the ciphertext.
pub const TAG_BYTES: usize = 16;

/// How a file is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// Data shards (k): any k shards rebuild the file.
    pub data_shards: usize,
    /// Parity shards (m): how many may be lost.
    pub parity_shards: usize,
    /// Leaf size of each shard's storage tree.
    pub leaf_size: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            data_shards: DEFAULT_DATA_SHARDS,
            parity_shards: DEFAULT_PARITY_SHARDS,
            leaf_size: DEFAULT_LEAF_SIZE,
        }
    }
}

impl Layout {
    /// Shards in all.
    pub fn shards(&self) -> usize {
        self.data_shards + self.parity_shards
    }

    /// Refuses counts the coder cannot take and leaves below the minimum.
    pub fn check(&self) -> Result<(), SealError> {
        if self.data_shards == 0
            || self.parity_shards == 0
            || !reed_solomon_simd::ReedSolomonEncoder::supports(
                self.data_shards,
                self.parity_shards,
            )
        {
            return Err(SealError::Layout(format!(
                "{} data and {} parity shards: both must be at least 1, and the coder \
                 takes at most 32768 data shards",
                self.data_shards, self.parity_shards
            )));
        }
        if self.leaf_size < MIN_STORAGE_LEAF {
            return Err(SealError::Layout(format!(
                "leaves of {} bytes: at least {MIN_STORAGE_LEAF}",
                self.leaf_size
            )));
        }
        Ok(())
    }
}

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The shard counts or leaf size are not usable.
    #[error("layout: {0}")]
    Layout(String),
    /// Fewer than k shards match their roots.
    #[error("{have} good shards of the {need} needed")]
    TooFewShards {
        /// Shards that matched their roots.
        have: usize,
        /// Data shards of the layout.
        need: usize,
    },
    /// The shards decode to bytes the key does not open: wrong key, or
    /// shards of another file.
    #[error("the shards do not decrypt with this key")]
    Decrypt,
    /// The file decrypted but is not the one sealed.
    #[error("the file's SHA-256 is {got}, not {want}")]
    WrongFile {
        /// What came out.
        got: Hash32,
        /// What the manifest says.
        want: Hash32,
    },
    /// The erasure coder refused.
    #[error("erasure coding: {0}")]
    Coding(String),
    /// The encrypted file is too large for the AEAD or the shard sizes.
    #[error("{0}")]
    TooLarge(String),
}

/// What opening a sealed file needs besides its shards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedFile {
    /// How it is cut.
    pub layout: Layout,
    /// The file key.
    pub key: [u8; 32],
    /// SHA-256 of the file.
    pub file_hash: Hash32,
    /// Bytes of the file.
    pub file_size: u64,
    /// Bytes of nonce, ciphertext and tag (the shards hold them, then zeros).
    pub sealed_size: u64,
    /// Each shard's deal: data shards first, then parity.
    pub specs: Vec<DealSpec>,
}

/// Where sealing or opening spent its time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Encrypting or decrypting.
    pub aead: Duration,
    /// Reed-Solomon encoding or decoding.
    pub coding: Duration,
    /// SHA-256: the shards' trees and the file's hash.
    pub hashing: Duration,
}

/// Seals `file` as `layout` says, under a fresh random key: what opening
/// needs, the shards (data then parity), and where the time went.
pub fn seal(file: &[u8], layout: Layout) -> Result<(SealedFile, Vec<Vec<u8>>, Timings), SealError> {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    seal_with(file, layout, key, nonce)
}

/// [`seal`] with a chosen key and nonce (tests; a key must never seal two
/// files with one nonce).
pub fn seal_with(
    file: &[u8],
    layout: Layout,
    key: [u8; 32],
    nonce: [u8; NONCE_BYTES],
) -> Result<(SealedFile, Vec<Vec<u8>>, Timings), SealError> {
    layout.check()?;
    let mut timings = Timings::default();
    let k = layout.data_shards;
    let sealed_size = NONCE_BYTES + file.len() + TAG_BYTES;
    // Shards of equal, even length (the coder works on 16-bit symbols).
    let shard_size = sealed_size.div_ceil(k).next_multiple_of(2);

    let began = Instant::now();
    let file_hash = Hash32::sha256(file);
    timings.hashing += began.elapsed();

    // Nonce, ciphertext and tag, then zeros to fill the data shards: the
    // file copied once and encrypted where it lies.
    let began = Instant::now();
    let mut sealed = vec![0u8; shard_size * k];
    sealed[..NONCE_BYTES].copy_from_slice(&nonce);
    let body_end = NONCE_BYTES + file.len();
    sealed[NONCE_BYTES..body_end].copy_from_slice(file);
    let tag = XChaCha20Poly1305::new(&key.into())
        .encrypt_in_place_detached(
            XNonce::from_slice(&nonce),
            file_hash.0.as_slice(),
            &mut sealed[NONCE_BYTES..body_end],
        )
        .map_err(|_| SealError::TooLarge("the file is too large to encrypt".into()))?;
    sealed[body_end..body_end + TAG_BYTES].copy_from_slice(&tag);
    timings.aead += began.elapsed();

    let began = Instant::now();
    let parity = reed_solomon_simd::encode(k, layout.parity_shards, sealed.chunks(shard_size))
        .map_err(|e| SealError::Coding(e.to_string()))?;
    timings.coding += began.elapsed();

    let mut shards: Vec<Vec<u8>> = sealed.chunks(shard_size).map(<[u8]>::to_vec).collect();
    drop(sealed);
    shards.extend(parity);
    let began = Instant::now();
    let specs = on_every_core(&shards, |shard| {
        StorageTree::build(shard, layout.leaf_size).map(|tree| tree.spec())
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| SealError::Layout(e.to_string()))?;
    timings.hashing += began.elapsed();
    Ok((
        SealedFile {
            layout,
            key,
            file_hash,
            file_size: file.len() as u64,
            sealed_size: sealed_size as u64,
            specs,
        },
        shards,
        timings,
    ))
}

/// `work` over each of `items`, the items spread over the machine's cores;
/// the results in the items' order.
fn on_every_core<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = items.len().div_ceil(cores.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| scope.spawn(|| chunk.iter().map(&work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a hashing thread does not panic"))
            .collect()
    })
}

/// Whether `shard` is the shard whose deal is `spec`.
pub fn shard_matches(spec: &DealSpec, shard: &[u8]) -> bool {
    shard.len() as u64 == spec.size
        && StorageTree::build(shard, spec.leaf_size).is_ok_and(|tree| tree.spec() == *spec)
}

/// The data shards joined (nonce, ciphertext, tag, then zeros), decoded
/// from any k of `shards` that match their roots; the others set aside.
fn joined_data(
    sealed: &SealedFile,
    shards: &[Option<Vec<u8>>],
    timings: &mut Timings,
) -> Result<Vec<u8>, SealError> {
    sealed.layout.check()?;
    let k = sealed.layout.data_shards;
    let began = Instant::now();
    let offered: Vec<(usize, &Vec<u8>)> = shards
        .iter()
        .enumerate()
        .filter_map(|(i, shard)| Some((i, shard.as_ref()?)))
        .collect();
    let matches = on_every_core(&offered, |(i, shard)| {
        sealed
            .specs
            .get(*i)
            .is_some_and(|s| shard_matches(s, shard))
    });
    let good: Vec<(usize, &Vec<u8>)> = offered
        .into_iter()
        .zip(matches)
        .filter(|(_, matched)| *matched)
        .map(|(offered, _)| offered)
        .take(k)
        .collect();
    timings.hashing += began.elapsed();
    if good.len() < k {
        return Err(SealError::TooFewShards {
            have: good.len(),
            need: k,
        });
    }
    let shard_size = good[0].1.len();

    let began = Instant::now();
    let mut data: Vec<Option<&[u8]>> = vec![None; k];
    for (i, shard) in &good {
        if *i < k {
            data[*i] = Some(shard.as_slice());
        }
    }
    let restored = if data.iter().all(Option::is_some) {
        Default::default()
    } else {
        reed_solomon_simd::decode(
            k,
            sealed.layout.parity_shards,
            good.iter()
                .filter(|(i, _)| *i < k)
                .map(|(i, s)| (*i, s.as_slice())),
            good.iter()
                .filter(|(i, _)| *i >= k)
                .map(|(i, s)| (*i - k, s.as_slice())),
        )
        .map_err(|e| SealError::Coding(e.to_string()))?
    };
    let mut joined = Vec::with_capacity(shard_size * k);
    for (i, shard) in data.iter().enumerate() {
        match shard {
            Some(bytes) => joined.extend_from_slice(bytes),
            None => joined.extend_from_slice(
                restored
                    .get(&i)
                    .ok_or_else(|| SealError::Coding(format!("shard {i} was not restored")))?,
            ),
        }
    }
    timings.coding += began.elapsed();
    Ok(joined)
}

/// Rebuilds the shards numbered `wanted` of `sealed` from any k of `shards`
/// (by shard index; `None` for a shard not fetched), for placing them with
/// new providers: the data shards decoded, the parity encoded again, each
/// rebuilt shard checked against its root. Nothing is decrypted.
pub fn rebuild(
    sealed: &SealedFile,
    shards: &[Option<Vec<u8>>],
    wanted: &[usize],
) -> Result<Vec<Vec<u8>>, SealError> {
    let mut timings = Timings::default();
    let joined = joined_data(sealed, shards, &mut timings)?;
    let k = sealed.layout.data_shards;
    let shard_size = joined.len() / k;
    let parity = if wanted.iter().any(|&i| i >= k) {
        reed_solomon_simd::encode(k, sealed.layout.parity_shards, joined.chunks(shard_size))
            .map_err(|e| SealError::Coding(e.to_string()))?
    } else {
        Vec::new()
    };
    wanted
        .iter()
        .map(|&i| {
            let shard = if i < k {
                joined[i * shard_size..(i + 1) * shard_size].to_vec()
            } else {
                parity
                    .get(i - k)
                    .cloned()
                    .ok_or_else(|| SealError::Layout(format!("no shard {i}")))?
            };
            match sealed.specs.get(i) {
                Some(spec) if shard_matches(spec, &shard) => Ok(shard),
                _ => Err(SealError::Coding(format!(
                    "shard {i} rebuilt does not match its root"
                ))),
            }
        })
        .collect()
}

/// Opens `sealed` from `shards` (by shard index; `None` for a shard not
/// fetched): shards that do not match their roots are set aside, any k good
/// ones rebuild the file.
pub fn open(
    sealed: &SealedFile,
    shards: &[Option<Vec<u8>>],
) -> Result<(Vec<u8>, Timings), SealError> {
    let mut timings = Timings::default();
    let mut joined = joined_data(sealed, shards, &mut timings)?;
    let sealed_size = usize::try_from(sealed.sealed_size)
        .ok()
        .filter(|size| *size <= joined.len() && *size >= NONCE_BYTES + TAG_BYTES)
        .ok_or(SealError::Decrypt)?;
    let began = Instant::now();
    let body_end = sealed_size - TAG_BYTES;
    let (head, rest) = joined.split_at_mut(NONCE_BYTES);
    let (body, tail) = rest.split_at_mut(body_end - NONCE_BYTES);
    XChaCha20Poly1305::new(&sealed.key.into())
        .decrypt_in_place_detached(
            XNonce::from_slice(head),
            sealed.file_hash.0.as_slice(),
            body,
            chacha20poly1305::Tag::from_slice(&tail[..TAG_BYTES]),
        )
        .map_err(|_| SealError::Decrypt)?;
    joined.truncate(body_end);
    joined.drain(..NONCE_BYTES);
    let body = joined;
    timings.aead += began.elapsed();

    let began = Instant::now();
    let got = Hash32::sha256(&body);
    timings.hashing += began.elapsed();
    if got != sealed.file_hash || body.len() as u64 != sealed.file_size {
        return Err(SealError::WrongFile {
            got,
            want: sealed.file_hash,
        });
    }
    Ok((body, timings))
}
