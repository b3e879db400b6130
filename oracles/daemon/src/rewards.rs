//! An epoch's rewards (RULES.md, "Epoch rewards"): the distributable amount
//! split by score, added to each device's cumulative total, checked against
//! what the pool has received, and built into the tree whose root is voted.
//! Integer arithmetic over inputs sorted by device mint, so every honest
//! oracle computes the same numbers and the same root.

use anchor_lang::prelude::Pubkey;
use reward_pool::merkle::{RewardTree, TreeError};
use std::collections::BTreeMap;

/// Amounts by device mint, in the reward mint's base units.
pub type Amounts = BTreeMap<Pubkey, u64>;

/// One epoch's split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Each scored device's reward: floor(amount x score / total score).
    pub rewards: Amounts,
    /// What the floors left: carried into the next epoch's amount.
    pub dust: u64,
}

/// Splits `amount` by `scores` (devices with score 0 get nothing and are
/// left out). With no score at all, everything is dust.
pub fn split(amount: u64, scores: &BTreeMap<Pubkey, u64>) -> Split {
    let total: u128 = scores.values().map(|&s| u128::from(s)).sum();
    if total == 0 {
        return Split {
            rewards: Amounts::new(),
            dust: amount,
        };
    }
    let mut paid = 0u64;
    let rewards: Amounts = scores
        .iter()
        .filter(|&(_, &score)| score > 0)
        .map(|(&mint, &score)| {
            // amount x score < 2^128 and the quotient is at most `amount`.
            let reward = (u128::from(amount) * u128::from(score) / total) as u64;
            paid += reward;
            (mint, reward)
        })
        .collect();
    Split {
        rewards,
        dust: amount - paid,
    }
}

/// Splits an epoch's `amount` when some of it pays for usage: with any
/// `usage` (the value of the service each device delivered that customers
/// paid for), `usage_share_bps` of the amount is split by it first and the
/// rest by `scores`; without, all of it by `scores`. Each device's rewards
/// add up; both splits' dust carries on.
pub fn split_with_usage(
    amount: u64,
    scores: &BTreeMap<Pubkey, u64>,
    usage: &BTreeMap<Pubkey, u64>,
    usage_share_bps: u16,
) -> Split {
    if usage.values().all(|&u| u == 0) || usage_share_bps == 0 {
        return split(amount, scores);
    }
    let for_usage = (u128::from(amount) * u128::from(usage_share_bps.min(10_000)) / 10_000) as u64;
    let paid_for_usage = split(for_usage, usage);
    let coverage = split(amount - for_usage, scores);
    let mut rewards = coverage.rewards;
    for (mint, reward) in paid_for_usage.rewards {
        let total = rewards.entry(mint).or_insert(0);
        *total = total.saturating_add(reward);
    }
    Split {
        rewards,
        dust: paid_for_usage.dust + coverage.dust,
    }
}

/// Why an epoch's totals cannot be voted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RewardsError {
    /// A cumulative total passed `u64::MAX`.
    #[error("device {0}'s cumulative total overflows")]
    Overflow(Pubkey),
    /// The totals add up to more than the pool has received: a root that
    /// could never be paid in full is never voted.
    #[error("cumulative totals of {total} exceed the {received} the pool has received")]
    AboveReceived {
        /// Sum of the cumulative totals.
        total: u64,
        /// Emissions and revenue the pool has received.
        received: u64,
    },
    /// The tree cannot be built.
    #[error("reward tree: {0}")]
    Tree(String),
}

impl From<TreeError> for RewardsError {
    fn from(error: TreeError) -> Self {
        RewardsError::Tree(error.to_string())
    }
}

/// The new cumulative totals: `previous` plus this epoch's `rewards`, the
/// tree over them, checked to stay within what the pool has `received`.
pub fn cumulative_tree(
    previous: &Amounts,
    rewards: &Amounts,
    received: u64,
) -> Result<(Amounts, RewardTree), RewardsError> {
    let mut totals = previous.clone();
    for (&mint, &reward) in rewards {
        let total = totals.entry(mint).or_insert(0);
        *total = total
            .checked_add(reward)
            .ok_or(RewardsError::Overflow(mint))?;
    }
    let tree = RewardTree::new(totals.iter().map(|(&mint, &amount)| (mint, amount)))?;
    if tree.total() > received {
        return Err(RewardsError::AboveReceived {
            total: tree.total(),
            received,
        });
    }
    Ok((totals, tree))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mint(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    #[test]
    fn usage_takes_its_share_first_and_coverage_the_rest() {
        // Two equal hotspots; the second carried data: 20 % of 1,000 is
        // split by usage (all to it), 800 by coverage (400 each).
        let scores = BTreeMap::from([(mint(1), 5), (mint(2), 5)]);
        let usage = BTreeMap::from([(mint(2), 42)]);
        let paid = split_with_usage(1_000, &scores, &usage, 2_000);
        assert_eq!(
            paid.rewards,
            BTreeMap::from([(mint(1), 400), (mint(2), 600)])
        );
        assert_eq!(paid.dust, 0);
        // No usage, or no share: coverage alone.
        assert_eq!(
            split_with_usage(1_000, &scores, &BTreeMap::new(), 2_000),
            split(1_000, &scores)
        );
        assert_eq!(
            split_with_usage(1_000, &scores, &usage, 0),
            split(1_000, &scores)
        );
        // Usage alone: its share, the rest is dust carried on.
        let only = split_with_usage(1_000, &BTreeMap::new(), &usage, 2_000);
        assert_eq!((only.rewards[&mint(2)], only.dust), (200, 800));
    }

    #[test]
    fn the_split_is_proportional_and_floors_into_dust() {
        let scores = BTreeMap::from([(mint(1), 1), (mint(2), 2), (mint(3), 0)]);
        let split = split(100, &scores);
        assert_eq!(
            split.rewards,
            BTreeMap::from([(mint(1), 33), (mint(2), 66)])
        );
        assert_eq!(split.dust, 1);
        assert_eq!(super::split(100, &BTreeMap::new()).dust, 100);
        // The largest amounts and scores do not overflow.
        let huge = BTreeMap::from([(mint(1), u64::MAX), (mint(2), u64::MAX)]);
        let split = super::split(u64::MAX, &huge);
        assert_eq!(split.rewards[&mint(1)], u64::MAX / 2);
        assert_eq!(split.dust, 1);
    }

    #[test]
    fn totals_accumulate_and_never_exceed_what_was_received() {
        let previous = BTreeMap::from([(mint(1), 10)]);
        let rewards = BTreeMap::from([(mint(1), 5), (mint(2), 7)]);
        let (totals, tree) = cumulative_tree(&previous, &rewards, 22).unwrap();
        assert_eq!(totals, BTreeMap::from([(mint(1), 15), (mint(2), 7)]));
        assert_eq!(tree.total(), 22);
        assert_eq!(
            cumulative_tree(&previous, &rewards, 21).unwrap_err(),
            RewardsError::AboveReceived {
                total: 22,
                received: 21
            }
        );
        let full = BTreeMap::from([(mint(1), u64::MAX)]);
        assert_eq!(
            cumulative_tree(&full, &BTreeMap::from([(mint(1), 1)]), u64::MAX).unwrap_err(),
            RewardsError::Overflow(mint(1))
        );
    }

    proptest! {
        /// Nothing is created or lost, no device gets more than a higher
        /// scorer, and the root does not depend on the order scores arrive in.
        #[test]
        fn splits_conserve_the_amount_and_respect_the_order_of_scores(
            amount in any::<u64>(),
            scores in prop::collection::vec((any::<u8>(), any::<u64>()), 0..40),
        ) {
            let scores: BTreeMap<Pubkey, u64> =
                scores.into_iter().map(|(m, s)| (mint(m), s)).collect();
            let result = split(amount, &scores);
            let paid: u128 = result.rewards.values().map(|&r| u128::from(r)).sum();
            prop_assert_eq!(paid + u128::from(result.dust), u128::from(amount));
            if scores.values().any(|&s| s > 0) {
                // Each floor loses less than one unit.
                prop_assert!((result.dust as usize) < result.rewards.len());
            } else {
                prop_assert_eq!(result.dust, amount);
            }
            for (a, ra) in &result.rewards {
                for (b, rb) in &result.rewards {
                    if scores[a] > scores[b] {
                        prop_assert!(ra >= rb);
                    }
                }
            }
            let reversed: Vec<(Pubkey, u64)> =
                result.rewards.iter().rev().map(|(&m, &r)| (m, r)).collect();
            let forward = RewardTree::new(result.rewards.iter().map(|(&m, &r)| (m, r))).unwrap();
            prop_assert_eq!(forward.root(), RewardTree::new(reversed).unwrap().root());
        }
    }
}
