//! The oracle quorum rule every depinkit program applies to attested results
//! (reward roots, prices, usage, settlements): a result is final when
//! `threshold` oracles of the network's current set voted the identical payload.
//!
//! Votes are (oracle, payload hash) pairs kept by the program that asks the
//! question. A vote for another payload is kept and counts only for its own
//! payload; a vote by a key no longer in the set is dropped and never counts.
//! The set is the one in force when the vote lands ([`Network::oracle_set`]),
//! so a scheduled oracle-set change applies to every pending question at once.
//!
//! [`Network::oracle_set`]: crate::state::Network::oracle_set

use crate::state::{MAX_ORACLES, OracleSet};
use anchor_lang::prelude::*;

/// One oracle's vote: who, and the SHA-256 of what it attests.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub struct OracleVote {
    /// The voting oracle.
    pub oracle: Pubkey,
    /// Hash of the attested payload; identical payloads have identical hashes.
    pub payload_hash: [u8; 32],
}

/// What a second vote by the same oracle on the same question does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Revote {
    /// Refused: one vote per oracle (epoch roots, usage, settlements).
    Refuse,
    /// Replaces its earlier vote (prices: an oracle moves on to a newer price).
    Replace,
}

/// Why a vote was not recorded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VoteRefusal {
    /// The signer is not in the network's oracle set.
    NotAnOracle,
    /// The oracle already voted and [`Revote::Refuse`] applies.
    AlreadyVoted,
}

/// Records `oracle`'s vote for `payload_hash` and returns true when the
/// payload has reached the set's threshold. `votes` never holds more than
/// [`MAX_ORACLES`] entries: one per oracle of the current set.
pub fn record_vote(
    votes: &mut Vec<OracleVote>,
    set: &OracleSet,
    oracle: Pubkey,
    payload_hash: [u8; 32],
    revote: Revote,
) -> core::result::Result<bool, VoteRefusal> {
    if !set.contains(&oracle) {
        return Err(VoteRefusal::NotAnOracle);
    }
    drop_stale_votes(votes, set);
    if let Some(at) = votes.iter().position(|vote| vote.oracle == oracle) {
        match revote {
            Revote::Refuse => return Err(VoteRefusal::AlreadyVoted),
            Revote::Replace => {
                votes.swap_remove(at);
            }
        }
    }
    debug_assert!(votes.len() < MAX_ORACLES);
    votes.push(OracleVote {
        oracle,
        payload_hash,
    });
    let agreeing = votes
        .iter()
        .filter(|vote| vote.payload_hash == payload_hash)
        .count();
    Ok(agreeing >= usize::from(set.threshold))
}

/// Drops the votes of keys no longer in `set`; what remains is what counts.
pub fn drop_stale_votes(votes: &mut Vec<OracleVote>, set: &OracleSet) {
    votes.retain(|vote| set.contains(&vote.oracle));
}

/// Whether any vote by a member of `set` is recorded (a result is pending).
pub fn has_live_votes(votes: &[OracleVote], set: &OracleSet) -> bool {
    votes.iter().any(|vote| set.contains(&vote.oracle))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::{Category, Fee, Network};

    /// A network with `oracles` and `threshold` and nothing else of note.
    pub(crate) fn network(oracles: &[Pubkey], threshold: u8) -> Network {
        let fee = Fee {
            mint: Pubkey::default(),
            amount: 0,
        };
        Network {
            version: 1,
            bump: 0,
            creator: Pubkey::default(),
            seed: vec![1],
            authority: Pubkey::default(),
            pending_authority: None,
            name: "n".into(),
            symbol: "N".into(),
            category: Category::Compute,
            reward_mint: Pubkey::default(),
            treasury: Pubkey::default(),
            onboarding_fee: fee,
            location_fee: fee,
            location_resolution: 12,
            oracles: oracles.to_vec(),
            threshold,
            oracle_change_delay_secs: 3_600,
            pending_oracle_change: None,
            metadata_uri_base: String::new(),
            maker_count: 0,
            device_count: 0,
        }
    }

    #[test]
    fn threshold_identical_votes_finalize() {
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let net = network(&keys, 2);
        let mut votes = Vec::new();
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[0],
                [1; 32],
                Revote::Refuse
            ),
            Ok(false)
        );
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[1],
                [2; 32],
                Revote::Refuse
            ),
            Ok(false)
        );
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[1],
                [1; 32],
                Revote::Refuse
            ),
            Err(VoteRefusal::AlreadyVoted)
        );
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[2],
                [1; 32],
                Revote::Refuse
            ),
            Ok(true)
        );
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                Pubkey::new_unique(),
                [1; 32],
                Revote::Refuse
            ),
            Err(VoteRefusal::NotAnOracle)
        );
    }

    #[test]
    fn replacing_votes_and_removed_oracles() {
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let mut votes = Vec::new();
        let net = network(&keys, 2);
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[0],
                [1; 32],
                Revote::Replace
            ),
            Ok(false)
        );
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[0],
                [2; 32],
                Revote::Replace
            ),
            Ok(false)
        );
        assert_eq!(votes.len(), 1);
        // keys[0] leaves the set: its vote no longer counts.
        let net = network(&keys[1..], 2);
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[1],
                [2; 32],
                Revote::Replace
            ),
            Ok(false)
        );
        assert_eq!(votes.len(), 1);
        assert_eq!(
            record_vote(
                &mut votes,
                &net.oracle_set(0),
                keys[2],
                [2; 32],
                Revote::Replace
            ),
            Ok(true)
        );
    }
}
