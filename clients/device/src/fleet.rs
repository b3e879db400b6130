//! A fleet of simulated devices of one category, each honest unless given a
//! cheat: what tests, the demo and the benchmarks put in front of an
//! oracle. A round makes every device's reports for one moment; the fleet
//! remembers each device's last reports (for replays) and is reproducible
//! from its seed.

use crate::{
    dashcam::{self, Dashcam, Drive},
    gpu::GpuNode,
    hotspot::{Hotspot, OnAir, Radio},
    keys::DeviceKey,
    sim::{Position, Rng},
    storage::{Answering, StorageNode, StoredDeal},
};
use depinkit_reports::{ComputeChallenge, Entropy, Key, SignedReport, storage::StorageSeed};
use std::collections::BTreeMap;

/// The GPU class a compute fleet's devices declare.
pub const DEFAULT_GPU_CLASS: &str = "a100";

/// Which kind of devices a fleet plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Dashcams sending map tracks.
    Mapping,
    /// Hotspots sending beacons and witnesses.
    Wireless,
    /// GPU providers answering an oracle's compute challenges.
    Compute,
    /// Storage providers answering each epoch's storage challenges.
    Storage,
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "mapping" => Ok(Category::Mapping),
            "wireless" => Ok(Category::Wireless),
            "compute" => Ok(Category::Compute),
            "storage" => Ok(Category::Storage),
            other => Err(format!(
                "category {other:?}: the fleet plays mapping, wireless, compute or storage devices"
            )),
        }
    }
}

/// A way to cheat that a device can be told to use (each is refused by the
/// oracle's rules: the tests assert which rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cheat {
    /// Mapping: the track jumps kilometres between two fixes.
    Teleport,
    /// Mapping: the track's frames are another device's.
    DuplicateFrames,
    /// Any: the device sends its last round's reports again.
    Replay,
    /// Wireless: witnesses claim a signal stronger than free space allows.
    RssiTooStrong,
    /// Compute: challenges answered with a product that was not computed.
    WrongProduct,
    /// Storage: one answer's leaf is not the stored bytes.
    WrongChunk,
    /// Storage: one challenge of each deal goes unanswered.
    SkipChallenge,
}

impl std::str::FromStr for Cheat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "teleport" => Cheat::Teleport,
            "duplicate-frames" => Cheat::DuplicateFrames,
            "replay" => Cheat::Replay,
            "rssi-too-strong" => Cheat::RssiTooStrong,
            "wrong-product" => Cheat::WrongProduct,
            "wrong-chunk" => Cheat::WrongChunk,
            "skip-challenge" => Cheat::SkipChallenge,
            other => {
                return Err(format!(
                    "cheat {other:?}: one of teleport, duplicate-frames, replay, rssi-too-strong, \
                     wrong-product, wrong-chunk, skip-challenge \
                     (co-located witnesses are placed by `keygen --colocated`)"
                ));
            }
        })
    }
}

/// Where the devices of a new fleet go: a square grid around `center`,
/// `spacing_m` apart; the last `colocated` devices instead a few metres from
/// the first (hotspots too close to witness each other honestly).
pub fn layout(count: usize, center: Position, spacing_m: f64, colocated: usize) -> Vec<Position> {
    let side = (count as f64).sqrt().ceil().max(1.0) as usize;
    let half = (side as f64 - 1.0) / 2.0;
    (0..count)
        .map(|i| {
            if i >= count.saturating_sub(colocated) && i > 0 {
                let k = (count - i) as f64;
                return center
                    .moved(-half * spacing_m, -half * spacing_m)
                    .moved(12.0 * k, 0.0);
            }
            let (row, column) = ((i / side) as f64, (i % side) as f64);
            center.moved((row - half) * spacing_m, (column - half) * spacing_m)
        })
        .collect()
}

/// One device of a fleet.
#[derive(Clone)]
enum Member {
    Dashcam(Dashcam),
    Hotspot(Hotspot),
    Gpu(GpuNode),
    Storage(StorageNode),
}

/// A fleet and its memory of the last round.
pub struct Fleet {
    network: Key,
    category: Category,
    members: Vec<Member>,
    cheats: BTreeMap<usize, Cheat>,
    last: Vec<Vec<SignedReport>>,
    /// Each dashcam's honest track of the last round (what a copier copies).
    last_tracks: Vec<depinkit_reports::MapTrack>,
    rng: Rng,
    /// How dashcams drive.
    pub drive: Drive,
    /// How far a hotspot hears a beacon, metres.
    pub radio_range_m: f64,
    /// Most hotspots that witness one beacon (the nearest).
    pub max_witnesses: usize,
}

impl Fleet {
    /// A fleet of `category` devices for `network`: each key at its place.
    pub fn new(
        network: Key,
        category: Category,
        devices: Vec<(DeviceKey, Position)>,
        seed: u64,
    ) -> Self {
        let members: Vec<Member> = devices
            .into_iter()
            .enumerate()
            .map(|(i, (key, position))| match category {
                Category::Mapping => {
                    Member::Dashcam(Dashcam::new(key, position, seed ^ (i as u64 + 1)))
                }
                Category::Wireless => {
                    Member::Hotspot(Hotspot::new(key, position, Radio::default()))
                }
                Category::Compute => Member::Gpu(GpuNode::new(key, DEFAULT_GPU_CLASS)),
                Category::Storage => Member::Storage(StorageNode::new(key)),
            })
            .collect();
        let count = members.len();
        Fleet {
            network,
            category,
            members,
            cheats: BTreeMap::new(),
            last: vec![Vec::new(); count],
            last_tracks: Vec::new(),
            rng: Rng::new(seed),
            drive: Drive::default(),
            radio_range_m: 10_000.0,
            max_witnesses: 20,
        }
    }

    /// Devices in the fleet.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the fleet has no device.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The key of device `index`.
    pub fn key(&self, index: usize) -> &DeviceKey {
        match &self.members[index] {
            Member::Dashcam(cam) => cam.key(),
            Member::Hotspot(hotspot) => hotspot.key(),
            Member::Gpu(node) => node.key(),
            Member::Storage(node) => node.key(),
        }
    }

    /// Gives storage device `index` the bytes of the deal at `order` (an
    /// order its device accepted); whether it is a storage device.
    pub fn hold(&mut self, index: usize, order: Key, deal: StoredDeal) -> Result<(), String> {
        match self.members.get_mut(index) {
            Some(Member::Storage(node)) => {
                node.hold(order, deal);
                Ok(())
            }
            _ => Err(format!("device {index} is no storage device of this fleet")),
        }
    }

    /// The GPU class device `index` declares (compute fleets).
    pub fn gpu_class(&self, index: usize) -> Option<&str> {
        match &self.members[index] {
            Member::Gpu(node) => Some(node.gpu_class()),
            _ => None,
        }
    }

    /// Tells device `index` to cheat so from the next round on; whether the
    /// cheat fits the fleet's category.
    pub fn set_cheat(&mut self, index: usize, cheat: Cheat) -> Result<(), String> {
        let fits = match cheat {
            Cheat::Teleport | Cheat::DuplicateFrames => self.category == Category::Mapping,
            Cheat::RssiTooStrong => self.category == Category::Wireless,
            Cheat::WrongProduct => self.category == Category::Compute,
            Cheat::WrongChunk | Cheat::SkipChallenge => self.category == Category::Storage,
            Cheat::Replay => true,
        };
        if !fits || index >= self.members.len() {
            return Err(format!(
                "device {index}: {cheat:?} is no cheat of this {:?} fleet of {}",
                self.category,
                self.members.len()
            ));
        }
        self.cheats.insert(index, cheat);
        Ok(())
    }

    /// Every device's reports for the moment `now_ms`, each with the index
    /// of the device that signed it. Wireless rounds need the oracle's
    /// latest `entropy`; GPU providers report only answers ([`Self::answer`]).
    pub fn round(&mut self, now_ms: i64, entropy: Option<Entropy>) -> Vec<(usize, SignedReport)> {
        let made: Vec<Vec<SignedReport>> = match self.category {
            Category::Mapping => self.mapping_round(now_ms),
            Category::Wireless => {
                let entropy = entropy.expect("a wireless round needs the oracle's entropy");
                self.wireless_round(now_ms, entropy)
            }
            Category::Compute | Category::Storage => vec![Vec::new(); self.members.len()],
        };
        self.sent(made)
    }

    /// The answers of a compute fleet's devices to the `challenges` an
    /// oracle issued them (device index, challenge), signed at `now_ms`.
    pub fn answer(
        &mut self,
        now_ms: i64,
        challenges: Vec<(usize, ComputeChallenge)>,
    ) -> Vec<(usize, SignedReport)> {
        let mut made = vec![Vec::new(); self.members.len()];
        for (index, challenge) in challenges {
            let Some(Member::Gpu(node)) = self.members.get(index) else {
                continue;
            };
            made[index].push(if self.cheats.get(&index) == Some(&Cheat::WrongProduct) {
                node.wrong_answer(self.network, challenge, now_ms)
            } else {
                node.answer(self.network, challenge, now_ms)
            });
        }
        self.sent(made)
    }

    /// The answers of a storage fleet's devices, for every deal each holds,
    /// to the challenges of the epoch `seed` names, signed at `now_ms`.
    pub fn answer_storage(
        &mut self,
        now_ms: i64,
        seed: &StorageSeed,
    ) -> Vec<(usize, SignedReport)> {
        let made = (0..self.members.len())
            .map(|index| {
                let Member::Storage(node) = &self.members[index] else {
                    return Vec::new();
                };
                let answering = match self.cheats.get(&index) {
                    Some(Cheat::WrongChunk) => Answering::WrongChunk,
                    Some(Cheat::SkipChallenge) => Answering::SkipChallenge,
                    _ => Answering::Honest,
                };
                node.answer_epoch(
                    self.network,
                    &seed.seed,
                    seed.epoch,
                    seed.challenges_per_deal,
                    now_ms,
                    answering,
                )
            })
            .collect();
        self.sent(made)
    }

    /// What each device sends of what it `made`: a replayer its last
    /// reports again.
    fn sent(&mut self, made: Vec<Vec<SignedReport>>) -> Vec<(usize, SignedReport)> {
        let mut out = Vec::new();
        for (index, reports) in made.into_iter().enumerate() {
            let sent = if self.cheats.get(&index) == Some(&Cheat::Replay)
                && !self.last[index].is_empty()
            {
                self.last[index].clone()
            } else {
                reports
            };
            self.last[index] = sent.clone();
            out.extend(sent.into_iter().map(|r| (index, r)));
        }
        out
    }

    fn mapping_round(&mut self, now_ms: i64) -> Vec<Vec<SignedReport>> {
        let drive = self.drive;
        let previous = std::mem::take(&mut self.last_tracks);
        let tracks: Vec<_> = self
            .members
            .iter_mut()
            .map(|member| match member {
                Member::Dashcam(cam) => cam.drive(&drive, now_ms),
                _ => unreachable!("a mapping fleet has dashcams"),
            })
            .collect();
        let reports = (0..self.members.len())
            .map(|i| {
                let mut track = tracks[i].clone();
                match self.cheats.get(&i) {
                    Some(Cheat::Teleport) => dashcam::teleport(&mut track, 5.0),
                    Some(Cheat::DuplicateFrames) => {
                        // A neighbour's frames, as the copier obtained them:
                        // from its last round, or a moment after it sent this
                        // round's.
                        let source = if i == 0 { 1 } else { i - 1 };
                        match previous.get(source) {
                            Some(from) => dashcam::copy_frames(&mut track, from),
                            None => {
                                if let Some(from) = tracks.get(source) {
                                    dashcam::copy_frames(&mut track, from);
                                    for fix in &mut track.fixes {
                                        fix.timestamp_ms += 1_000;
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
                let Member::Dashcam(cam) = &self.members[i] else {
                    unreachable!("a mapping fleet has dashcams")
                };
                vec![cam.report(self.network, track)]
            })
            .collect();
        self.last_tracks = tracks;
        reports
    }

    fn wireless_round(&mut self, now_ms: i64, entropy: Entropy) -> Vec<Vec<SignedReport>> {
        let network = self.network;
        let count = self.members.len();
        let mut out = vec![Vec::new(); count];
        // Each hotspot beacons, a moment apart, none before the entropy it
        // carries was issued.
        let first_ms = (now_ms - count as i64 * 10).max(entropy.issued_ms);
        let mut on_air: Vec<(usize, OnAir)> = Vec::new();
        for (i, member) in self.members.iter_mut().enumerate() {
            let Member::Hotspot(hotspot) = member else {
                unreachable!("a wireless fleet has hotspots")
            };
            let at = first_ms + i as i64 * 10;
            let beacon = hotspot.beacon(network, entropy, at);
            out[i].push(beacon.report.clone());
            on_air.push((i, beacon));
        }
        // The nearest hotspots in range witness each.
        for (beaconer, beacon) in &on_air {
            let mut hearers: Vec<(f64, usize)> = (0..count)
                .filter(|&j| j != *beaconer)
                .map(|j| (self.hotspot(j).position().distance_m(&beacon.from), j))
                .filter(|(d, _)| *d <= self.radio_range_m)
                .collect();
            hearers.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            hearers.truncate(self.max_witnesses);
            for (metres, j) in hearers {
                let hotspot = self.hotspot(j).clone();
                let mut rssi = hotspot.hears(beacon, &mut self.rng);
                if self.cheats.get(&j) == Some(&Cheat::RssiTooStrong) {
                    rssi = rssi.saturating_add(400);
                }
                // Light takes microseconds; the hotspot's own delay, up to
                // half a second.
                let received = beacon.report.report.timestamp_ms
                    + (metres / 300_000.0) as i64
                    + self.rng.range(50, 500);
                out[j].push(hotspot.witness(network, beacon, received, rssi));
            }
        }
        out
    }

    fn hotspot(&self, index: usize) -> &Hotspot {
        match &self.members[index] {
            Member::Hotspot(hotspot) => hotspot,
            _ => unreachable!("a wireless fleet has hotspots"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> Vec<DeviceKey> {
        (1..=n).map(|i| DeviceKey::from_seed([i; 32])).collect()
    }

    #[test]
    fn a_layout_spreads_devices_and_colocates_the_last_ones() {
        let center = Position::degrees(48.8566, 2.3522);
        let places = layout(9, center, 1_000.0, 2);
        assert_eq!(places.len(), 9);
        assert!(places[0].distance_m(&places[1]) > 990.0);
        assert!(places[0].distance_m(&places[8]) < 30.0);
        assert!(places[0].distance_m(&places[7]) < 30.0);
    }

    #[test]
    fn a_compute_fleet_answers_its_challenges_and_the_cheat_answers_wrong() {
        let network = Key([9; 32]);
        let devices = keys(3)
            .into_iter()
            .map(|k| (k, Position::degrees(0.0, 0.0)))
            .collect();
        let mut fleet = Fleet::new(network, Category::Compute, devices, 7);
        fleet.set_cheat(1, Cheat::WrongProduct).unwrap();
        assert!(fleet.set_cheat(0, Cheat::Teleport).is_err());
        assert!(fleet.round(1_000, None).is_empty(), "answers only");
        let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let challenges = (0..3)
            .map(|i| {
                let challenge = ComputeChallenge::issue(
                    &network,
                    fleet.key(i).public(),
                    fleet.gpu_class(i).unwrap(),
                    depinkit_reports::Hash32([i as u8; 32]),
                    4,
                    1_000,
                    &oracle,
                );
                (i, challenge)
            })
            .collect();
        let answers = fleet.answer(1_500, challenges);
        assert_eq!(answers.len(), 3);
        for (index, signed) in answers {
            let depinkit_reports::Body::ComputeAnswer(answer) = signed.report.body else {
                panic!("an answer")
            };
            let (a, b) = depinkit_reports::challenge_matrices(&answer.challenge.seed, 4);
            let right = depinkit_reports::multiply(&a, &b, 4) == answer.product;
            assert_eq!(right, index != 1, "device {index}");
        }
    }

    #[test]
    fn a_storage_fleet_answers_every_deal_and_the_cheats_fail_theirs() {
        let network = Key([9; 32]);
        let devices = keys(3)
            .into_iter()
            .map(|k| (k, Position::degrees(0.0, 0.0)))
            .collect();
        let mut fleet = Fleet::new(network, Category::Storage, devices, 7);
        let bytes: Vec<u8> = (0..5_000u32).map(|i| (i % 241) as u8).collect();
        for index in 0..3 {
            let deal = StoredDeal::new(bytes.clone(), 128).unwrap();
            fleet.hold(index, Key([index as u8; 32]), deal).unwrap();
        }
        fleet.set_cheat(1, Cheat::WrongChunk).unwrap();
        fleet.set_cheat(2, Cheat::SkipChallenge).unwrap();
        assert!(fleet.set_cheat(0, Cheat::WrongProduct).is_err());
        let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let seed = StorageSeed {
            epoch: 4,
            epoch_start_ms: 60_000,
            epoch_end_ms: 120_000,
            seed: Entropy::issue(&network, 60_000, &[1; 32], &oracle),
            challenges_per_deal: 5,
        };
        let answers = fleet.answer_storage(70_000, &seed);
        let mut per_device = [0usize; 3];
        let mut wrong = [0usize; 3];
        for (index, signed) in answers {
            let depinkit_reports::Body::StorageProof(proof) = signed.report.body else {
                panic!("a storage proof")
            };
            per_device[index] += 1;
            if !proof
                .spec
                .verify(proof.leaf_index, &proof.leaf, &proof.path)
            {
                wrong[index] += 1;
            }
        }
        assert_eq!(per_device, [5, 5, 4]);
        assert_eq!(wrong, [0, 1, 0]);
    }

    #[test]
    fn rounds_give_every_device_its_reports_and_replays_repeat_them() {
        let center = Position::degrees(48.8566, 2.3522);
        let devices: Vec<_> = keys(4)
            .into_iter()
            .zip(layout(4, center, 2_000.0, 0))
            .collect();
        let mut fleet = Fleet::new(Key([9; 32]), Category::Wireless, devices, 7);
        assert!(
            fleet.set_cheat(0, Cheat::Teleport).is_err(),
            "not a wireless cheat"
        );
        fleet.set_cheat(3, Cheat::Replay).unwrap();
        let network = Key([9; 32]);
        let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let entropy = Entropy::issue(&network, 0, &[1; 32], &oracle);
        let first = fleet.round(1_000_000, Some(entropy));
        // 4 beacons, each heard by the 3 others (all within 10 km).
        assert_eq!(first.len(), 4 + 4 * 3);
        let second = fleet.round(2_000_000, Some(entropy));
        let of = |round: &[(usize, SignedReport)], i: usize| -> Vec<SignedReport> {
            round
                .iter()
                .filter(|(d, _)| *d == i)
                .map(|(_, r)| r.clone())
                .collect()
        };
        assert_eq!(of(&first, 3), of(&second, 3), "device 3 replays");
        assert_ne!(of(&first, 2), of(&second, 2));
    }
}
