//! What a device reports, per category (RULES.md): the fields each rule reads,
//! with the size limits every field has. Structural checks live here (a report
//! that fails them is malformed and rejected at ingest); the rules that judge
//! a well-formed report (distances, speeds, deadlines) are the verifiers'.

use crate::{
    compute::{ComputeAnswer, FIELD_PRIME, MAX_CHALLENGE_SIZE},
    entropy::Entropy,
    key::{Hash32, Key},
    storage::DealSpec,
};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Most bytes in a beacon's payload.
pub const MAX_BEACON_PAYLOAD: usize = 64;
/// Most GNSS fixes in one map track.
pub const MAX_TRACK_FIXES: usize = 120;
/// Most bytes in one stored leaf answered to a challenge.
pub const MAX_STORAGE_LEAF: usize = 1024;
/// Most hashes in a storage merkle path (2^40 leaves).
pub const MAX_STORAGE_PATH: usize = 40;
/// Most bytes of a GPU class name.
pub const MAX_GPU_CLASS: usize = 32;

/// The kind of a report: its tag in the signed encoding (never renumbered;
/// new kinds take new numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Kind {
    /// Wireless: a hotspot's beacon.
    Beacon = 0,
    /// Wireless: a hotspot heard another's beacon.
    Witness = 1,
    /// Wireless: data carried for a customer (co-signed by the customer).
    DataTransfer = 2,
    /// Mapping: a dashcam's track of fixes and frames.
    MapTrack = 3,
    /// Storage: the answer to one storage challenge.
    StorageProof = 4,
    /// Compute: a GPU job's receipt (co-signed by the client).
    GpuReceipt = 5,
    /// Compute: the answer to an oracle's matrix-multiplication challenge.
    ComputeAnswer = 6,
}

impl Kind {
    /// Every kind, in tag order.
    pub const ALL: [Kind; 7] = [
        Kind::Beacon,
        Kind::Witness,
        Kind::DataTransfer,
        Kind::MapTrack,
        Kind::StorageProof,
        Kind::GpuReceipt,
        Kind::ComputeAnswer,
    ];

    /// The network category (device-registry's `Category`, by name) whose
    /// devices send this kind.
    pub fn category(self) -> &'static str {
        match self {
            Kind::Beacon | Kind::Witness | Kind::DataTransfer => "wireless",
            Kind::MapTrack => "mapping",
            Kind::StorageProof => "storage",
            Kind::GpuReceipt | Kind::ComputeAnswer => "compute",
        }
    }
}

/// A hotspot's beacon: a radio packet sent for others to witness.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Beacon {
    /// Entropy an oracle of the network issued (`GET /v1/entropy`), proving
    /// the beacon was made after it.
    pub entropy: Entropy,
    /// The packet's bytes; witnesses name the beacon by their SHA-256.
    #[serde(with = "hex_bytes")]
    pub payload: Vec<u8>,
    /// Carrier frequency, Hz.
    pub frequency_hz: u64,
    /// Transmit power, tenths of a dBm.
    pub tx_power_ddbm: i16,
    /// Antenna gain, tenths of a dBi.
    pub antenna_gain_ddbi: i16,
}

/// A hotspot heard a beacon.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Witness {
    /// The beaconing device's key.
    pub beaconer: Key,
    /// SHA-256 of the beacon's payload.
    pub beacon_payload_hash: Hash32,
    /// When the packet arrived, unix milliseconds.
    pub received_at_ms: i64,
    /// Frequency heard, Hz.
    pub frequency_hz: u64,
    /// Received signal strength, tenths of a dBm.
    pub rssi_ddbm: i16,
    /// Signal-to-noise ratio, tenths of a dB.
    pub snr_ddb: i16,
    /// Antenna gain of the witness, tenths of a dBi.
    pub antenna_gain_ddbi: i16,
}

/// Data a hotspot carried for a customer in a time window; the customer
/// co-signs it, and pays for it from its usage escrow.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DataTransfer {
    /// The customer's wallet (owner of the usage escrow); co-signs.
    pub customer: Key,
    /// Bytes carried up and down.
    pub bytes: u64,
    /// Window start, unix milliseconds.
    pub start_ms: i64,
    /// Window end, unix milliseconds.
    pub end_ms: i64,
}

/// One GNSS fix of a map track and the frame taken at it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GnssFix {
    /// Fix time, unix milliseconds.
    pub timestamp_ms: i64,
    /// Latitude, 1e-7 degrees.
    pub lat_e7: i32,
    /// Longitude, 1e-7 degrees.
    pub lon_e7: i32,
    /// NMEA fix quality (0 none, 1 GPS, 2 DGPS, 4 RTK fixed, ...).
    pub fix_quality: u8,
    /// Satellites used.
    pub satellites: u8,
    /// SHA-256 of the frame taken at the fix.
    pub frame_hash: Hash32,
}

/// A dashcam's track.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MapTrack {
    /// The fixes, in the order taken.
    pub fixes: Vec<GnssFix>,
}

/// A provider's answer to one storage challenge: the leaf and its merkle path
/// (see [`crate::storage`] for the tree and how challenges are drawn).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct StorageProof {
    /// The deal (its order's address).
    pub deal: Key,
    /// What the deal's order committed to (its `spec_hash` is the spec's hash).
    pub spec: DealSpec,
    /// The reward-pool epoch of the challenge.
    pub epoch: u32,
    /// The epoch's seed the challenge was drawn from: an oracle's entropy
    /// issued in the epoch's first minute.
    pub seed: Entropy,
    /// Which of the epoch's challenges of the deal this answers.
    pub challenge: u16,
    /// The leaf's index.
    pub leaf_index: u64,
    /// The leaf's bytes.
    #[serde(with = "hex_bytes")]
    pub leaf: Vec<u8>,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash32>,
}

/// A GPU job's receipt; the client co-signs it (it accepts the work).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GpuReceipt {
    /// The order (its address).
    pub order: Key,
    /// The client's wallet; co-signs.
    pub client: Key,
    /// GPU class declared (e.g. `a100-80g`).
    pub gpu_class: String,
    /// Job start, unix milliseconds.
    pub start_ms: i64,
    /// Job end, unix milliseconds.
    pub end_ms: i64,
    /// GPU-seconds billed.
    pub gpu_seconds: u64,
    /// SHA-256 of the job's result.
    pub result_hash: Hash32,
}

/// A report's kind-specific part.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Body {
    /// See [`Beacon`].
    Beacon(Beacon) = 0,
    /// See [`Witness`].
    Witness(Witness) = 1,
    /// See [`DataTransfer`].
    DataTransfer(DataTransfer) = 2,
    /// See [`MapTrack`].
    MapTrack(MapTrack) = 3,
    /// See [`StorageProof`].
    StorageProof(StorageProof) = 4,
    /// See [`GpuReceipt`].
    GpuReceipt(GpuReceipt) = 5,
    /// See [`ComputeAnswer`].
    ComputeAnswer(ComputeAnswer) = 6,
}

impl Body {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Beacon(_) => Kind::Beacon,
            Body::Witness(_) => Kind::Witness,
            Body::DataTransfer(_) => Kind::DataTransfer,
            Body::MapTrack(_) => Kind::MapTrack,
            Body::StorageProof(_) => Kind::StorageProof,
            Body::GpuReceipt(_) => Kind::GpuReceipt,
            Body::ComputeAnswer(_) => Kind::ComputeAnswer,
        }
    }

    /// The key that must co-sign this report, for kinds a second party
    /// accepts (the customer of a data transfer, the client of a GPU job).
    pub fn cosigner(&self) -> Option<Key> {
        match self {
            Body::DataTransfer(d) => Some(d.customer),
            Body::GpuReceipt(r) => Some(r.client),
            _ => None,
        }
    }

    /// Structural checks: sizes and ranges, not rules. `Err` names the field.
    pub fn check(&self) -> Result<(), &'static str> {
        fn ensure(ok: bool, field: &'static str) -> Result<(), &'static str> {
            if ok { Ok(()) } else { Err(field) }
        }
        match self {
            Body::Beacon(b) => {
                ensure(
                    !b.payload.is_empty() && b.payload.len() <= MAX_BEACON_PAYLOAD,
                    "payload",
                )?;
                ensure(b.frequency_hz > 0, "frequency_hz")
            }
            Body::Witness(w) => {
                ensure(w.frequency_hz > 0, "frequency_hz")?;
                ensure(w.received_at_ms > 0, "received_at_ms")
            }
            Body::DataTransfer(d) => {
                ensure(d.bytes > 0, "bytes")?;
                ensure(d.start_ms > 0 && d.start_ms <= d.end_ms, "end_ms")
            }
            Body::MapTrack(t) => {
                ensure(
                    !t.fixes.is_empty() && t.fixes.len() <= MAX_TRACK_FIXES,
                    "fixes",
                )?;
                t.fixes.iter().try_for_each(|f| {
                    ensure(f.lat_e7.unsigned_abs() <= 900_000_000, "lat_e7")?;
                    ensure(f.lon_e7.unsigned_abs() <= 1_800_000_000, "lon_e7")?;
                    ensure(f.timestamp_ms > 0, "timestamp_ms")
                })
            }
            Body::StorageProof(p) => {
                ensure(
                    !p.leaf.is_empty() && p.leaf.len() <= MAX_STORAGE_LEAF,
                    "leaf",
                )?;
                ensure(p.spec.check().is_ok(), "spec")?;
                ensure(p.path.len() <= MAX_STORAGE_PATH, "path")?;
                // The path's length fixes the tree's height: the index fits it.
                ensure(p.leaf_index >> p.path.len() == 0, "leaf_index")
            }
            Body::GpuReceipt(r) => {
                ensure(
                    !r.gpu_class.is_empty() && r.gpu_class.len() <= MAX_GPU_CLASS,
                    "gpu_class",
                )?;
                ensure(r.start_ms > 0 && r.start_ms < r.end_ms, "end_ms")?;
                ensure(r.gpu_seconds > 0, "gpu_seconds")
            }
            Body::ComputeAnswer(a) => {
                let n = a.challenge.size;
                ensure((2..=MAX_CHALLENGE_SIZE).contains(&n), "size")?;
                ensure(
                    !a.challenge.gpu_class.is_empty()
                        && a.challenge.gpu_class.len() <= MAX_GPU_CLASS,
                    "gpu_class",
                )?;
                ensure(
                    a.product.len() == usize::from(n) * usize::from(n)
                        && a.product.iter().all(|&x| u64::from(x) < FIELD_PRIME),
                    "product",
                )
            }
        }
    }
}

/// Hex in JSON for byte strings (payloads, leaves).
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
        if text.len() % 2 != 0 {
            return Err(D::Error::custom("odd number of hex digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| D::Error::custom("not hex"))
            })
            .collect()
    }
}
