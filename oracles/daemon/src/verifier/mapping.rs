//! Mapping (dashcam tiles; reference: Hivemapper): RULES.md, "Mapping".
//!
//! A track is refused whole when its fixes are not in time order, or when it
//! implies a speed above `max_speed_kmh` between two usable fixes (a
//! teleporting dashcam). A fix is usable with a fix (quality above 0), at
//! least `min_satellites` satellites, and a time inside the epoch; a track
//! with none is refused. A frame submitted twice in the epoch (by any
//! device, the same one included) counts once: for the earliest fix that
//! carries it. Each usable fix maps to an H3 cell at `resolution`; in each
//! cell the first `contributors_per_cell` devices to map it (by their
//! earliest fix there) earn the cell's value, which grows with the time since
//! the cell was last mapped (carried from epoch to epoch): `base_value` for a
//! cell mapped a moment ago, up to `max_value` for one not mapped for
//! `freshness_cap_secs` (or never). A device's score is the sum of the values
//! of the cells it earns in. A track that earns in no cell is refused as
//! `no_new_cells` (or `duplicate_frames`, when all its frames were sent
//! before), so its owner sees why.

use super::{EpochInput, Plan, Refusal, RuleSet, Scoring, State, StateKey, Verifier, geo};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Body, Hash32, MapTrack};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The rule set's name in bundles.
pub const NAME: &str = "mapping";
/// Its version: a change of any rule takes a new one.
pub const VERSION: u32 = 1;
/// The carried-value space of a cell's last mapping (unix milliseconds).
pub const CELL_SPACE: u8 = 1;

/// The mapping rules' constants (RULES.md's defaults), `[rules.mapping]` in
/// the oracle's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingRules {
    /// H3 resolution fixes map to (12: cells of about 300 m², some 50 per
    /// km of road).
    pub resolution: u8,
    /// Fastest speed believed between two fixes, km/h.
    pub max_speed_kmh: u32,
    /// Fewest satellites of a usable fix.
    pub min_satellites: u8,
    /// Devices that earn in one cell and epoch, first come.
    pub contributors_per_cell: u32,
    /// Value of a cell mapped again at once.
    pub base_value: u64,
    /// Value of a cell not mapped for `freshness_cap_secs`, or never.
    pub max_value: u64,
    /// Age at which a cell's value stops growing, seconds.
    pub freshness_cap_secs: i64,
}

impl Default for MappingRules {
    fn default() -> Self {
        MappingRules {
            resolution: 12,
            max_speed_kmh: 250,
            min_satellites: 4,
            contributors_per_cell: 3,
            base_value: 100,
            max_value: 1_000,
            freshness_cap_secs: 30 * 24 * 3600,
        }
    }
}

impl MappingRules {
    /// The rules a rule set's constants describe (`None` when one is
    /// missing or out of range).
    pub fn from_constants(constants: &BTreeMap<String, i64>) -> Option<Self> {
        let get = |name: &str| constants.get(name).copied();
        let rules = MappingRules {
            resolution: u8::try_from(get("resolution")?).ok()?,
            max_speed_kmh: u32::try_from(get("max_speed_kmh")?).ok()?,
            min_satellites: u8::try_from(get("min_satellites")?).ok()?,
            contributors_per_cell: u32::try_from(get("contributors_per_cell")?).ok()?,
            base_value: u64::try_from(get("base_value")?).ok()?,
            max_value: u64::try_from(get("max_value")?).ok()?,
            freshness_cap_secs: get("freshness_cap_secs")?,
        };
        rules.check().ok()?;
        Some(rules)
    }

    /// Whether the constants make sense, and if not which one and why.
    pub fn check(&self) -> Result<(), String> {
        if self.resolution > 15 {
            return Err("mapping.resolution must be 0 to 15".into());
        }
        if self.max_speed_kmh == 0 || self.contributors_per_cell == 0 {
            return Err(
                "mapping.max_speed_kmh and mapping.contributors_per_cell must be at least 1".into(),
            );
        }
        if self.base_value == 0 || self.max_value < self.base_value {
            return Err("mapping.base_value must be at least 1 and at most max_value".into());
        }
        if self.freshness_cap_secs <= 0 {
            return Err("mapping.freshness_cap_secs must be at least 1".into());
        }
        Ok(())
    }

    /// A cell's value when first mapped this epoch at `first_ms`, last
    /// mapped at `last_ms` (`None`: never).
    pub fn cell_value(&self, first_ms: i64, last_ms: Option<i64>) -> u64 {
        let cap_ms = i128::from(self.freshness_cap_secs) * 1000;
        let age_ms = match last_ms {
            None => cap_ms,
            Some(last) => (i128::from(first_ms) - i128::from(last)).clamp(0, cap_ms),
        };
        let bonus = i128::from(self.max_value - self.base_value) * age_ms / cap_ms;
        self.base_value + bonus as u64
    }
}

/// A cell the epoch verified, for the map the network sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappedCell {
    /// The H3 cell, at the rules' resolution.
    pub cell: u64,
    /// Its latest usable fix this epoch, unix milliseconds.
    pub verified_ms: i64,
    /// Devices that mapped it this epoch.
    pub devices: u32,
    /// Its freshness value when first mapped this epoch.
    pub value: u64,
    /// The report of its latest fix (whose frames in the cell the map shows).
    pub latest_report: Hash32,
}

/// The carried key of `cell`.
fn cell_key(cell: u64) -> StateKey {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&cell.to_le_bytes());
    StateKey {
        space: CELL_SPACE,
        key,
    }
}

/// A usable fix of a track.
#[derive(Clone, Copy, Debug)]
struct Usable {
    /// Its position among the track's fixes.
    fix: u16,
    at_ms: i64,
    cell: u64,
}

/// The first pass over one report: its usable fixes, or why the whole
/// track is refused.
type Judged = Result<Vec<Usable>, Refusal>;

/// The fixes of a map-track body (none for other kinds).
fn fixes_of(body: &Body) -> &[depinkit_reports::GnssFix] {
    match body {
        Body::MapTrack(MapTrack { fixes }) => fixes,
        _ => &[],
    }
}

impl MappingRules {
    /// Judges one report on its own: order, speed, usable fixes.
    fn judge(&self, body: &Body, start_ms: i64, end_ms: i64) -> Judged {
        let Body::MapTrack(MapTrack { fixes }) = body else {
            return Err(Refusal::new(
                "not_a_map_track",
                "a mapping network scores map tracks only",
            ));
        };
        if let Some(i) =
            (1..fixes.len()).find(|&i| fixes[i].timestamp_ms <= fixes[i - 1].timestamp_ms)
        {
            return Err(Refusal::new(
                "fixes_out_of_order",
                format!(
                    "fix {i} at {} ms is not after fix {} at {} ms",
                    fixes[i].timestamp_ms,
                    i - 1,
                    fixes[i - 1].timestamp_ms
                ),
            ));
        }
        let good: Vec<usize> = (0..fixes.len())
            .filter(|&i| fixes[i].fix_quality > 0 && fixes[i].satellites >= self.min_satellites)
            .collect();
        for pair in good.windows(2) {
            let (a, b) = (&fixes[pair[0]], &fixes[pair[1]]);
            let mm = u128::from(geo::distance_mm(a.lat_e7, a.lon_e7, b.lat_e7, b.lon_e7));
            let dt_ms = u128::try_from(b.timestamp_ms - a.timestamp_ms).unwrap_or(1);
            // mm/ms is m/s; km/h = m/s x 3.6.
            if mm * 36 > u128::from(self.max_speed_kmh) * 10 * dt_ms {
                return Err(Refusal::new(
                    "speed_above_limit",
                    format!(
                        "{} km/h between fixes {} and {} (at most {})",
                        mm * 36 / (10 * dt_ms),
                        pair[0],
                        pair[1],
                        self.max_speed_kmh
                    ),
                ));
            }
        }
        let usable: Vec<Usable> = good
            .iter()
            .filter(|&&i| fixes[i].timestamp_ms >= start_ms && fixes[i].timestamp_ms < end_ms)
            .filter_map(|&i| {
                let f = &fixes[i];
                geo::cell_of(f.lat_e7, f.lon_e7, self.resolution).map(|cell| Usable {
                    fix: i as u16,
                    at_ms: f.timestamp_ms,
                    cell: u64::from(cell),
                })
            })
            .collect();
        if usable.is_empty() {
            let weak = fixes.len() - good.len();
            return Err(Refusal::new(
                "no_usable_fix",
                format!(
                    "of {} fixes, {weak} had no fix or fewer than {} satellites and {} fell \
                     outside the epoch",
                    fixes.len(),
                    self.min_satellites,
                    good.len()
                ),
            ));
        }
        Ok(usable)
    }
}

impl Verifier for MappingRules {
    fn rule_set(&self) -> RuleSet {
        RuleSet {
            name: NAME.into(),
            version: VERSION,
            constants: BTreeMap::from([
                ("resolution".into(), i64::from(self.resolution)),
                ("max_speed_kmh".into(), i64::from(self.max_speed_kmh)),
                ("min_satellites".into(), i64::from(self.min_satellites)),
                (
                    "contributors_per_cell".into(),
                    i64::from(self.contributors_per_cell),
                ),
                ("base_value".into(), self.base_value as i64),
                ("max_value".into(), self.max_value as i64),
                ("freshness_cap_secs".into(), self.freshness_cap_secs),
            ]),
        }
    }

    fn plan(&self, input: &EpochInput) -> Plan {
        let verdicts: Vec<Judged> = super::parallel_map(input.reports, |report| {
            self.judge(&report.report.report.body, input.start_ms, input.end_ms)
        });
        let mut cells: Vec<u64> = verdicts
            .iter()
            .filter_map(|judged| judged.as_ref().ok())
            .flatten()
            .map(|fix| fix.cell)
            .collect();
        cells.sort_unstable();
        cells.dedup();
        let cells: BTreeSet<StateKey> = cells.into_iter().map(cell_key).collect();
        Plan {
            state_keys: cells,
            work: Box::new(verdicts),
        }
    }

    fn score(&self, input: &EpochInput, plan: Plan, state: &State) -> Scoring {
        let verdicts: Vec<Judged> = match plan.work.downcast::<Vec<Judged>>() {
            Ok(verdicts) => *verdicts,
            Err(_) => return self.score(input, self.plan(input), state),
        };
        let reports = input.reports;
        let mut refused = BTreeMap::new();
        // Dense device ids, in mint order.
        let mut mints: Vec<Pubkey> = reports.iter().map(|r| r.device_mint).collect();
        mints.sort_unstable();
        mints.dedup();
        let device_of: HashMap<Pubkey, u32> = mints
            .iter()
            .enumerate()
            .map(|(i, m)| (*m, i as u32))
            .collect();

        // Every fix of every map track, numbered in report order.
        let mut first_fix = Vec::with_capacity(reports.len() + 1);
        let mut count = 0usize;
        for report in reports {
            first_fix.push(count);
            count += fixes_of(&report.report.report.body).len();
        }
        first_fix.push(count);

        // Frames: the earliest fix carrying each (in any map track, refused
        // or not) claims it; a fix carrying a frame claimed earlier does not
        // count. Sorted by the frame's first 8 bytes, then exactly.
        let mut frames: Vec<(u64, i64, u32)> = Vec::with_capacity(count);
        let mut frame_of: Vec<&Hash32> = Vec::with_capacity(count);
        for report in reports {
            for fix in fixes_of(&report.report.report.body) {
                let prefix = u64::from_be_bytes(fix.frame_hash.0[..8].try_into().expect("8 bytes"));
                frames.push((prefix, fix.timestamp_ms, frame_of.len() as u32));
                frame_of.push(&fix.frame_hash);
            }
        }
        frames.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| frame_of[a.2 as usize].cmp(frame_of[b.2 as usize]))
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let mut repeated = vec![false; count];
        for pair in frames.windows(2) {
            if pair[0].0 == pair[1].0
                && frame_of[pair[0].2 as usize] == frame_of[pair[1].2 as usize]
            {
                repeated[pair[1].2 as usize] = true;
            }
        }
        drop(frames);
        drop(frame_of);

        // Each device's earliest fix in each cell (and its report), and each
        // cell's latest fix (carried on).
        let mut firsts: Vec<(u64, u32, i64, u32)> = Vec::with_capacity(count);
        for (r, judged) in verdicts.iter().enumerate() {
            let Ok(fixes) = judged else { continue };
            let device = device_of[&reports[r].device_mint];
            let before = firsts.len();
            for fix in fixes {
                if !repeated[first_fix[r] + usize::from(fix.fix)] {
                    firsts.push((fix.cell, device, fix.at_ms, r as u32));
                }
            }
            if firsts.len() == before {
                refused.insert(
                    reports[r].content_hash,
                    Refusal::new(
                        "duplicate_frames",
                        format!("all {} of its frames were submitted earlier", fixes.len()),
                    ),
                );
            }
        }
        drop(repeated);
        firsts.sort_unstable();
        let mut carried: Vec<(StateKey, i64)> = Vec::new();
        // Each cell's latest fix's report (the track the map shows for it).
        let mut latest_report: Vec<u32> = Vec::new();
        let mut start = 0;
        while start < firsts.len() {
            let cell = firsts[start].0;
            let end = start + firsts[start..].partition_point(|entry| entry.0 == cell);
            let latest = firsts[start..end]
                .iter()
                .max_by_key(|e| (e.2, e.3))
                .expect("a cell has a fix");
            carried.push((cell_key(cell), latest.2));
            latest_report.push(latest.3);
            start = end;
        }
        firsts.dedup_by(|later, earlier| later.0 == earlier.0 && later.1 == earlier.1);

        // Per cell, the first devices in (time, device) order earn its value.
        let mut points = vec![0u64; mints.len()];
        let mut earning = vec![false; reports.len()];
        let mut contributors: Vec<(i64, u32, u32)> = Vec::new();
        let mut map_cells = Vec::with_capacity(carried.len());
        let mut start = 0;
        while start < firsts.len() {
            let cell = firsts[start].0;
            let end = start + firsts[start..].partition_point(|entry| entry.0 == cell);
            contributors.clear();
            contributors.extend(
                firsts[start..end]
                    .iter()
                    .map(|&(_, device, at, report)| (at, device, report)),
            );
            contributors.sort_unstable();
            let value = self.cell_value(contributors[0].0, state.get(&cell_key(cell)).copied());
            let index = map_cells.len();
            map_cells.push(MappedCell {
                cell,
                verified_ms: carried[index].1,
                devices: (end - start) as u32,
                value,
                latest_report: reports[latest_report[index] as usize].content_hash,
            });
            for &(_, device, report) in contributors
                .iter()
                .take(self.contributors_per_cell as usize)
            {
                points[device as usize] += value;
                earning[report as usize] = true;
            }
            start = end;
        }
        drop(firsts);
        for (r, judged) in verdicts.into_iter().enumerate() {
            let hash = reports[r].content_hash;
            match judged {
                Err(refusal) => {
                    refused.insert(hash, refusal);
                }
                Ok(_) if !earning[r] && !refused.contains_key(&hash) => {
                    refused.insert(
                        hash,
                        Refusal::new(
                            "no_new_cells",
                            format!(
                                "each of its cells was mapped earlier this epoch by {} devices, \
                                 or by this device's own earlier tracks",
                                self.contributors_per_cell
                            ),
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
        Scoring {
            scores: mints
                .into_iter()
                .zip(points)
                .filter(|(_, points)| *points > 0)
                .collect(),
            refused,
            carried: carried.into_iter().collect(),
            map_cells,
            ..Scoring::default()
        }
    }
}
