//! The oracle quorum rule every depinkit program applies to attested results
//! (reward roots, prices, usage, settlements): a result is final when
//! `threshold` oracles of the network's current set voted the identical payload.
//!
//! Votes are (oracle, payload hash) pairs kept by the program that asks the
//! question. Each oracle has one live vote per question: a new vote replaces
//! its earlier one, so an oracle that voted a wrong result can correct it and a
//! split vote never stalls a question for good. A vote for another payload
//! counts only for its own payload; a vote by a key no longer in the set is
//! dropped and never counts. Safety is the threshold's: with more than half of
//! the set needed and each oracle counted once, two payloads can never both
//! reach it.
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

/// Why a vote was not recorded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VoteRefusal {
    /// The signer is not in the network's oracle set.
    NotAnOracle,
}

/// Records `oracle`'s vote for `payload_hash` and returns true when the
/// payload has reached the set's threshold. `votes` never holds more than
/// [`MAX_ORACLES`] entries: one per oracle of the current set.
pub fn record_vote(
    votes: &mut Vec<OracleVote>,
    set: &OracleSet,
    oracle: Pubkey,
    payload_hash: [u8; 32],
) -> core::result::Result<bool, VoteRefusal> {
    if !set.contains(&oracle) {
        return Err(VoteRefusal::NotAnOracle);
    }
    votes.retain(|vote| set.contains(&vote.oracle) && vote.oracle != oracle);
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
        let set = net.oracle_set(0);
        let mut votes = Vec::new();
        assert_eq!(record_vote(&mut votes, &set, keys[0], [1; 32]), Ok(false));
        assert_eq!(record_vote(&mut votes, &set, keys[1], [2; 32]), Ok(false));
        assert_eq!(record_vote(&mut votes, &set, keys[2], [3; 32]), Ok(false));
        // Three different payloads: stuck, until one oracle corrects its vote.
        assert_eq!(record_vote(&mut votes, &set, keys[1], [1; 32]), Ok(true));
        assert_eq!(
            record_vote(&mut votes, &set, Pubkey::new_unique(), [1; 32]),
            Err(VoteRefusal::NotAnOracle)
        );
    }

    #[test]
    fn an_oracle_counts_once_whatever_it_repeats() {
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let net = network(&keys, 2);
        let set = net.oracle_set(0);
        let mut votes = Vec::new();
        for _ in 0..5 {
            assert_eq!(record_vote(&mut votes, &set, keys[0], [1; 32]), Ok(false));
        }
        assert_eq!(votes.len(), 1);
        assert_eq!(record_vote(&mut votes, &set, keys[0], [2; 32]), Ok(false));
        assert_eq!(votes.len(), 1);
        assert_eq!(record_vote(&mut votes, &set, keys[1], [2; 32]), Ok(true));
    }

    #[test]
    fn votes_of_removed_oracles_are_dropped() {
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let mut votes = Vec::new();
        let net = network(&keys, 2);
        assert_eq!(
            record_vote(&mut votes, &net.oracle_set(0), keys[0], [2; 32]),
            Ok(false)
        );
        // keys[0] leaves the set: its vote no longer counts.
        let net = network(&keys[1..], 2);
        assert_eq!(
            record_vote(&mut votes, &net.oracle_set(0), keys[1], [2; 32]),
            Ok(false)
        );
        assert_eq!(votes.len(), 1);
        assert_eq!(
            record_vote(&mut votes, &net.oracle_set(0), keys[2], [2; 32]),
            Ok(true)
        );
    }
}
