//! The network's devices as the wireless rules use them: a dense id per
//! device, in key order (so sorting by id is sorting by key, the same on
//! every oracle whatever else it holds), each located device's geometry
//! computed once (a hotspot witnesses and is witnessed many times an epoch),
//! and the active located devices of each density hex, counted once.

use super::WirelessRules;
use crate::verifier::{Devices, geo, parallel_map};
use depinkit_reports::Key;
use device_registry::state::Device;
use h3o::{CellIndex, Resolution};

/// The id of a key the registry does not hold.
pub(super) const NO_DEVICE: u32 = u32::MAX;

/// Where a device asserted it is, in the forms the rules compare.
#[derive(Clone, Copy, Debug)]
pub(super) struct Place {
    /// The asserted cell's center, ready for distances.
    pub center: geo::Point,
    /// The cell at `min_distance_resolution` (for the grid distance).
    pub near: CellIndex,
    /// The cell at `density_resolution`, as a number (its hex).
    pub hex: u64,
}

/// The devices by dense id.
pub(super) struct DeviceTable {
    /// By id: sorted.
    keys: Vec<Key>,
    /// Each key's id.
    ids: KeyIndex,
    /// By id.
    places: Vec<Option<Place>>,
    /// (hex, id) of every active device with a location, sorted.
    crowds: Vec<(u64, u32)>,
    /// By id: the active located devices in the device's hex (0 without
    /// a location).
    crowd_sizes: Vec<u32>,
}

impl DeviceTable {
    /// The table of `devices` under `rules`' resolutions.
    pub fn new(devices: &Devices, rules: &WirelessRules) -> Self {
        let resolution = |r: u8| Resolution::try_from(r).unwrap_or(Resolution::Fifteen);
        let (near, density) = (
            resolution(rules.min_distance_resolution),
            resolution(rules.density_resolution),
        );
        let entries: Vec<_> = devices.iter().collect();
        let places = parallel_map(&entries, |(_, device)| {
            place(device.location, near, density)
        });
        let keys: Vec<Key> = entries.iter().map(|(key, _)| **key).collect();
        let ids = KeyIndex::new(&keys);
        let mut crowds: Vec<(u64, u32)> = entries
            .iter()
            .zip(&places)
            .enumerate()
            .filter(|(_, ((_, device), _))| device.active)
            .filter_map(|(id, (_, place))| Some((place.as_ref()?.hex, id as u32)))
            .collect();
        crowds.sort_unstable();
        let mut crowd_sizes = vec![0u32; entries.len()];
        for crowd in crowds.chunk_by(|a, b| a.0 == b.0) {
            for &(_, id) in crowd {
                crowd_sizes[id as usize] = crowd.len() as u32;
            }
        }
        let mut table = DeviceTable {
            keys,
            ids,
            places,
            crowds,
            crowd_sizes,
        };
        // A suspended device is in no crowd, but may have beaconed before.
        for (id, (_, device)) in entries.iter().enumerate() {
            if !device.active
                && let Some(place) = table.places[id]
            {
                table.crowd_sizes[id] = table.crowd(place.hex).len() as u32;
            }
        }
        table
    }

    /// How many devices.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The id of `key` ([`NO_DEVICE`] when not registered).
    pub fn id(&self, key: &Key) -> u32 {
        self.ids.get(key)
    }

    /// The key of device `id` (which must be one).
    pub fn key(&self, id: u32) -> &Key {
        &self.keys[id as usize]
    }

    /// Where device `id` is, if it asserted a valid location.
    pub fn place(&self, id: u32) -> Option<&Place> {
        self.places.get(id as usize)?.as_ref()
    }

    /// The active devices with a location in device `id`'s density hex.
    pub fn crowd_size(&self, id: u32) -> u32 {
        self.crowd_sizes.get(id as usize).copied().unwrap_or(0)
    }

    /// The active devices with a location in `hex`, as (hex, id).
    fn crowd(&self, hex: u64) -> &[(u64, u32)] {
        let start = self.crowds.partition_point(|entry| entry.0 < hex);
        let end = start + self.crowds[start..].partition_point(|entry| entry.0 == hex);
        &self.crowds[start..end]
    }

    /// The ids of the active located devices in `hexes` (sorted, distinct).
    pub fn crowds_of(&self, hexes: &[u64]) -> impl Iterator<Item = u32> {
        let mut hexes = hexes.iter().peekable();
        self.crowds.iter().filter_map(move |&(hex, id)| {
            while hexes.next_if(|&&wanted| wanted < hex).is_some() {}
            (hexes.peek() == Some(&&hex)).then_some(id)
        })
    }
}

/// Each key's id, found in one bucket (a hash of the key) holding about one
/// key, sorted: a lookup reads one bucket and binary-searches it, so keys
/// chosen to share a bucket slow their own lookups only a little (and
/// change no result). Faster than a hash map at a million devices, and
/// built without one insertion per key.
struct KeyIndex {
    entries: Vec<(Key, u32)>,
    /// Where each bucket starts in `entries`.
    starts: Vec<u32>,
    bits: u32,
}

impl KeyIndex {
    /// The index of `keys` (sorted; a key's id is its position).
    fn new(keys: &[Key]) -> Self {
        // About one key per bucket.
        let bits = (usize::BITS - keys.len().leading_zeros()).min(24);
        let mut starts = vec![0u32; (1 << bits) + 1];
        for key in keys {
            starts[bucket(key, bits) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        let mut entries = vec![(Key::default(), NO_DEVICE); keys.len()];
        // Keys in order: each bucket ends up sorted.
        for (id, key) in keys.iter().enumerate() {
            let slot = &mut next[bucket(key, bits)];
            entries[*slot as usize] = (*key, id as u32);
            *slot += 1;
        }
        KeyIndex {
            entries,
            starts,
            bits,
        }
    }

    /// The id of `key`, or [`NO_DEVICE`].
    fn get(&self, key: &Key) -> u32 {
        let b = bucket(key, self.bits);
        let same = &self.entries[self.starts[b] as usize..self.starts[b + 1] as usize];
        match same.binary_search_by(|(other, _)| other.cmp(key)) {
            Ok(i) => same[i].1,
            Err(_) => NO_DEVICE,
        }
    }
}

/// The bucket of `key` among `2^bits`: all its bytes folded and mixed
/// (Fibonacci hashing), so keys that differ anywhere spread out.
fn bucket(key: &Key, bits: u32) -> usize {
    let word = |i: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&key.0[8 * i..8 * i + 8]);
        u64::from_le_bytes(bytes)
    };
    let folded =
        word(0) ^ word(1).rotate_left(16) ^ word(2).rotate_left(32) ^ word(3).rotate_left(48);
    let mixed = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if bits == 0 {
        0
    } else {
        (mixed >> (64 - bits)) as usize
    }
}

/// The place of a device at `location`: none without one, or when it is not
/// an H3 cell (the registry checks it; the rules do not rely on that).
fn place(location: u64, near: Resolution, density: Resolution) -> Option<Place> {
    if location == Device::NO_LOCATION {
        return None;
    }
    let cell = CellIndex::try_from(location).ok()?;
    let (lat_e7, lon_e7) = geo::center_e7(cell);
    Some(Place {
        center: geo::Point::new(lat_e7, lon_e7),
        near: geo::cell_at(cell, near),
        hex: u64::from(geo::cell_at(cell, density)),
    })
}
