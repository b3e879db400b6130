//! The claim crank (`[crank]`, off by default): set and forget for device
//! owners. After each epoch the chain finalized with this oracle's totals,
//! it claims for every device whose unclaimed amount is at least
//! `min_unclaimed`, paying the fees (and the rent of a first claim's record
//! and of a holder's missing reward account) from the oracle's key. Claims
//! pay whoever holds the device NFT, so the crank cannot misdirect a reward;
//! it only spends its operator's SOL.
//!
//! A round reads the claim records in pages of 100, picks the largest unpaid
//! amounts first (at most `max_claims_per_round`), leaves suspended devices
//! out (the program refuses their claims), finds each NFT's holder,
//! and packs as many claims as fit into one transaction (a v0 transaction
//! with the pool's claim lookup table when it has one). A transaction that
//! fails is retried claim by claim, so one device whose NFT moved meanwhile
//! costs only its own claim; what still fails is tried again next round.

use crate::api::Proofs;
use anchor_lang::prelude::Pubkey;
use depinkit_sdk::{
    accounts,
    pool::{self, ClaimAccounts, ClaimSetup, PoolKeys},
    sender::{PACKET_DATA_SIZE, TransactionSender, transaction_size},
    tokens,
};
use device_registry::state::DeviceStatus;
use reward_pool::state::{ClaimRecord, Pool};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    instruction::Instruction,
    message::AddressLookupTableAccount,
    signature::{Keypair, Signer},
};
use std::{collections::HashMap, sync::Arc};

/// Which devices a round claims for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrankSettings {
    /// Least unclaimed amount (base units of the reward token) worth a claim.
    pub min_unclaimed: u64,
    /// Most claims one round sends.
    pub max_claims_per_round: usize,
}

/// A round's failure before any claim was sent (the next round retries).
#[derive(Debug, thiserror::Error)]
pub enum CrankError {
    /// A chain read failed.
    #[error("chain: {0}")]
    Chain(#[from] depinkit_sdk::SdkError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// The finalized epoch whose totals it claimed, if any.
    pub epoch: Option<u64>,
    /// Devices with at least `min_unclaimed` to claim (before the round's cap).
    pub due: usize,
    /// Claims paid.
    pub claimed: usize,
    /// Amount paid to holders, base units.
    pub paid: u64,
    /// Transactions landed.
    pub transactions: usize,
    /// Claims that failed (retried next round).
    pub failed: usize,
    /// The chain's root is not (yet) one this oracle recorded as finalized
    /// with its totals: the epoch worker records it at its next tick, so
    /// the next round comes one tick later.
    pub pending: bool,
}

/// A device owed at least the threshold: its leaf, what it may claim now,
/// and whether its claim record exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// Index of its leaf in the tree.
    pub leaf: usize,
    /// Cumulative amount less what was claimed.
    pub claimable: u64,
    /// Its claim record exists (a first claim creates it).
    pub has_record: bool,
}

/// The devices of `entries` (mint, cumulative) owed at least `min_unclaimed`
/// given what each has claimed (`None`: no claim record), largest amount
/// first (ties by leaf), at most `max`; and how many were due before the cap.
pub fn due_claims(
    entries: &[(Pubkey, u64)],
    claimed: &[Option<u64>],
    min_unclaimed: u64,
    max: usize,
) -> (Vec<Due>, usize) {
    let mut due: Vec<Due> = entries
        .iter()
        .zip(claimed)
        .enumerate()
        .filter_map(|(leaf, (&(_, cumulative), claimed))| {
            let claimable = cumulative.saturating_sub(claimed.unwrap_or(0));
            (claimable > 0 && claimable >= min_unclaimed).then_some(Due {
                leaf,
                claimable,
                has_record: claimed.is_some(),
            })
        })
        .collect();
    let total = due.len();
    due.sort_by(|a, b| b.claimable.cmp(&a.claimable).then(a.leaf.cmp(&b.leaf)));
    due.truncate(max);
    (due, total)
}

/// Groups claims (each the instructions of one claim, in order) into
/// transactions: consecutive claims share one while `fits` says the group
/// fits; a claim that does not fit alone goes alone (the sender reports it).
/// Each group lists the claims it holds.
pub fn pack(
    claims: &[Vec<Instruction>],
    fits: impl Fn(&[Instruction]) -> bool,
) -> Vec<(Vec<Instruction>, Vec<usize>)> {
    let mut groups: Vec<(Vec<Instruction>, Vec<usize>)> = Vec::new();
    for (i, claim) in claims.iter().enumerate() {
        if let Some((instructions, members)) = groups.last_mut() {
            let mut joined = instructions.clone();
            joined.extend_from_slice(claim);
            if fits(&joined) {
                *instructions = joined;
                members.push(i);
                continue;
            }
        }
        groups.push((claim.clone(), vec![i]));
    }
    groups
}

/// One claim ready to send: its transactions (the setup apart from the
/// claim when a deep proof needs it) and its amount.
struct Planned {
    transactions: Vec<Vec<Instruction>>,
    amount: u64,
}

/// The claim crank of one network.
pub struct ClaimCrank {
    rpc: Arc<RpcClient>,
    sender: TransactionSender,
    payer: Keypair,
    network: Pubkey,
    proofs: Proofs,
    settings: CrankSettings,
}

impl ClaimCrank {
    /// A crank for `network` sending through `sender` (whose RPC client is
    /// `rpc`), paid by `payer`, claiming the totals `proofs` holds.
    pub fn new(
        rpc: Arc<RpcClient>,
        sender: TransactionSender,
        payer: Keypair,
        network: Pubkey,
        proofs: Proofs,
        settings: CrankSettings,
    ) -> Self {
        ClaimCrank {
            rpc,
            sender,
            payer,
            network,
            proofs,
            settings,
        }
    }

    /// Claims what is due under the latest root the chain finalized with
    /// this oracle's totals.
    pub async fn round(&self) -> Result<Round, CrankError> {
        let pool_address = reward_pool::pda::find_pool_address(&self.network).0;
        let pool: Pool = accounts::fetch(&self.rpc, &pool_address).await?;
        let latest = self.proofs.latest().await?;
        let Some(finalized) = latest.filter(|f| f.tree().root() == pool.root) else {
            // Nothing final yet, or a root final on chain that the epoch
            // worker has not recorded yet (or not ours: then never).
            return Ok(Round {
                pending: pool.root_finalized_at != 0,
                ..Round::default()
            });
        };
        let tree = finalized.tree();
        let mut round = Round {
            epoch: Some(finalized.epoch()),
            ..Round::default()
        };
        let keys = PoolKeys::new(&self.network, &pool.reward_mint, &pool.reward_token_program);
        let entries = tree.entries();
        let records: Vec<Pubkey> = entries
            .iter()
            .map(|(mint, _)| reward_pool::pda::find_claim_record_address(&keys.pool, mint).0)
            .collect();
        let claimed: Vec<Option<u64>> = accounts::fetch_many::<ClaimRecord>(&self.rpc, &records)
            .await?
            .into_iter()
            .map(|record| record.map(|r| r.claimed))
            .collect();
        let (due, total) = due_claims(
            entries,
            &claimed,
            self.settings.min_unclaimed,
            self.settings.max_claims_per_round,
        );
        round.due = total;
        if due.is_empty() {
            return Ok(round);
        }

        let devices: HashMap<Pubkey, (Pubkey, bool)> =
            accounts::devices_of_network(&self.rpc, &self.network)
                .await?
                .into_iter()
                .map(|(address, device)| {
                    (
                        device.mint,
                        (address, device.status == DeviceStatus::Active),
                    )
                })
                .collect();
        let tables: Vec<AddressLookupTableAccount> = (pool.claim_lookup_table != Pubkey::default())
            .then(|| pool::claim_lookup_table(&pool.claim_lookup_table, &keys))
            .into_iter()
            .collect();
        // Who holds each NFT now, then which holders lack a reward account
        // (one read for all of them).
        let mut claims = Vec::new();
        for due in &due {
            let (mint, cumulative) = entries[due.leaf];
            match self.claim_accounts(&keys, &devices, mint).await {
                Ok(Some((accounts_, owner))) => claims.push((due, cumulative, accounts_, owner)),
                Ok(None) => {}
                Err(e) => {
                    round.failed += 1;
                    tracing::warn!(%mint, error = %e, "cannot find who a claim pays");
                }
            }
        }
        let reward_accounts: Vec<Pubkey> = claims
            .iter()
            .map(|(_, _, accounts_, _)| accounts_.holder_reward_account)
            .collect();
        let existing = accounts::raw_many(&self.rpc, &reward_accounts).await?;
        let plans = claims
            .into_iter()
            .zip(existing)
            .map(
                |((due, cumulative, accounts_, owner), reward_account)| Planned {
                    transactions: pool::claim_transactions(
                        &self.payer.pubkey(),
                        &owner,
                        &keys,
                        accounts_,
                        ClaimSetup {
                            create_reward_account: reward_account.is_none(),
                            create_claim_record: !due.has_record,
                        },
                        cumulative,
                        tree.proof(due.leaf),
                        !tables.is_empty(),
                    ),
                    amount: due.claimable,
                },
            )
            .collect();
        self.send(plans, &tables, &mut round).await;
        metrics::counter!("depin_oracle_crank_claims_total").increment(round.claimed as u64);
        metrics::counter!("depin_oracle_crank_claim_failures_total").increment(round.failed as u64);
        Ok(round)
    }

    /// The accounts of `mint`'s claim and the wallet it pays; `None` when
    /// the device is gone or nobody holds its NFT.
    async fn claim_accounts(
        &self,
        keys: &PoolKeys,
        devices: &HashMap<Pubkey, (Pubkey, bool)>,
        mint: Pubkey,
    ) -> Result<Option<(ClaimAccounts, Pubkey)>, depinkit_sdk::SdkError> {
        let Some(&(device, active)) = devices.get(&mint) else {
            tracing::warn!(%mint, "a leaf names no device of the network; not claimed");
            return Ok(None);
        };
        if !active {
            // The program refuses claims of suspended devices.
            tracing::debug!(%mint, "device suspended; not claimed");
            return Ok(None);
        }
        let Some(holding) = tokens::nft_holding(&self.rpc, &mint).await? else {
            tracing::warn!(%mint, "nobody holds the device NFT; not claimed");
            return Ok(None);
        };
        let accounts_ = ClaimAccounts {
            device,
            device_mint: mint,
            holder_nft_account: holding.account,
            holder_reward_account: depinkit_sdk::ata(
                &holding.owner,
                &keys.reward_mint,
                &keys.reward_token_program,
            ),
        };
        Ok(Some((accounts_, holding.owner)))
    }

    /// Sends the planned claims: single-transaction claims packed together,
    /// split ones in order; a packed transaction that fails is retried claim
    /// by claim.
    async fn send(
        &self,
        plans: Vec<Planned>,
        tables: &[AddressLookupTableAccount],
        round: &mut Round,
    ) {
        let payer = self.payer.pubkey();
        let (single, split): (Vec<Planned>, Vec<Planned>) =
            plans.into_iter().partition(|p| p.transactions.len() == 1);
        let claims: Vec<Vec<Instruction>> =
            single.iter().map(|p| p.transactions[0].clone()).collect();
        let fits = |instructions: &[Instruction]| {
            transaction_size(instructions, &payer, tables)
                .is_ok_and(|size| size <= PACKET_DATA_SIZE)
        };
        for (instructions, members) in pack(&claims, fits) {
            if self.send_one(&instructions, tables).await {
                round.transactions += 1;
                round.claimed += members.len();
                round.paid += members.iter().map(|&i| single[i].amount).sum::<u64>();
                continue;
            }
            if members.len() == 1 {
                round.failed += 1;
                continue;
            }
            for i in members {
                if self.send_one(&claims[i], tables).await {
                    round.transactions += 1;
                    round.claimed += 1;
                    round.paid += single[i].amount;
                } else {
                    round.failed += 1;
                }
            }
        }
        for plan in split {
            let mut landed = true;
            for instructions in &plan.transactions {
                landed = self.send_one(instructions, tables).await;
                if !landed {
                    break;
                }
                round.transactions += 1;
            }
            if landed {
                round.claimed += 1;
                round.paid += plan.amount;
            } else {
                round.failed += 1;
            }
        }
    }

    /// Sends one transaction; whether it landed (a failure is logged).
    async fn send_one(
        &self,
        instructions: &[Instruction],
        tables: &[AddressLookupTableAccount],
    ) -> bool {
        match self
            .sender
            .send_with_lookup_tables(instructions, &self.payer.pubkey(), &[&self.payer], tables)
            .await
        {
            Ok(sent) => {
                tracing::debug!(signature = %sent.signature, "claims landed");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "a claim transaction failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mint(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    #[test]
    fn the_largest_unpaid_amounts_above_the_threshold_come_first() {
        let entries = [
            (mint(1), 500),
            (mint(2), 900),
            (mint(3), 300),
            (mint(4), 900),
            (mint(5), 1_000),
        ];
        // Device 2 claimed 100 (800 left); 3 never claimed (300, below the
        // threshold); 5 claimed everything.
        let claimed = [None, Some(100), None, None, Some(1_000)];
        let (due, total) = due_claims(&entries, &claimed, 400, 10);
        assert_eq!(total, 3);
        assert_eq!(
            due,
            vec![
                Due {
                    leaf: 3,
                    claimable: 900,
                    has_record: false
                },
                Due {
                    leaf: 1,
                    claimable: 800,
                    has_record: true
                },
                Due {
                    leaf: 0,
                    claimable: 500,
                    has_record: false
                },
            ]
        );
        let (capped, total) = due_claims(&entries, &claimed, 400, 2);
        assert_eq!((capped.len(), total), (2, 3));
        assert_eq!(capped[0].leaf, 3);
        // A zero threshold still never claims nothing.
        let (all, _) = due_claims(&entries, &claimed, 0, 10);
        assert!(all.iter().all(|d| d.claimable > 0));
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn claims_share_a_transaction_while_they_fit() {
        let ix = |n: u8| Instruction {
            program_id: mint(n),
            accounts: vec![],
            data: vec![n],
        };
        let claims = vec![
            vec![ix(1), ix(2)],
            vec![ix(3)],
            vec![ix(4), ix(5), ix(6), ix(7)],
            vec![ix(8)],
            vec![ix(9)],
        ];
        // Room for three instructions per transaction.
        let groups = pack(&claims, |instructions| instructions.len() <= 3);
        let members: Vec<Vec<usize>> = groups.iter().map(|(_, m)| m.clone()).collect();
        assert_eq!(members, vec![vec![0, 1], vec![2], vec![3, 4]]);
        assert_eq!(groups[0].0, vec![ix(1), ix(2), ix(3)]);
        assert_eq!(groups[1].0.len(), 4, "too large alone: sent alone");
    }
}
