//! Reward-pool fixtures: instruction builders over the program's own Anchor
//! client types and a pool over a [`NetworkFixture`] with onboarded devices.

use crate::{
    harness::{Harness, ata, token_id},
    registry::{NetworkFixture, cell},
};
pub use depinkit_sdk::pool::{
    ClaimAccounts, PoolKeys, claim, create_pool, fund_pool, init_claim_record, vote_epoch_root,
};
use reward_pool::{
    instructions::{CreatePoolArgs, VoteEpochRootArgs},
    merkle::{Hash32, RewardTree},
    pda,
    state::{EmissionSchedule, FundingKind},
};
use solana_program_test::BanksClientError;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// Epoch length of the fixture pool (one hour).
pub const EPOCH_SECS: i64 = 3_600;
/// Emission of epoch 0 of the fixture pool.
pub const INITIAL_EMISSION: u64 = 1_000_000_000;
/// Reward tokens the fixture funds the pool with.
pub const FUNDING: u64 = 100_000_000_000;

/// The fixture schedule: halving every 2 epochs.
pub fn halving_schedule() -> EmissionSchedule {
    EmissionSchedule {
        initial_per_epoch: INITIAL_EMISSION,
        decay_interval_epochs: 2,
        retain_bps: 5_000,
    }
}

/// An onboarded device of the fixture network.
pub struct FixtureDevice {
    /// The device key.
    pub key: Keypair,
    /// Its current holder.
    pub holder: Keypair,
    /// The device PDA.
    pub device: Pubkey,
    /// The NFT mint (the leaf key).
    pub mint: Pubkey,
}

/// A network with a funded pool (epoch 0 starting now) and onboarded devices.
pub struct PoolFixture {
    /// The network.
    pub net: NetworkFixture,
    /// The pool's addresses.
    pub keys: PoolKeys,
    /// Onboarded devices.
    pub devices: Vec<FixtureDevice>,
    /// Unix time epoch 0 starts.
    pub start_time: i64,
}

impl PoolFixture {
    /// Creates the network and pool with the [`halving_schedule`], funds it with
    /// [`FUNDING`] emission tokens, and onboards `devices` devices, each with its
    /// own holder.
    pub async fn create(h: &mut Harness, seed: &str, devices: usize) -> Self {
        Self::create_with(h, seed, devices, halving_schedule(), FUNDING).await
    }

    /// [`PoolFixture::create`] with another schedule and funding.
    pub async fn create_with(
        h: &mut Harness,
        seed: &str,
        devices: usize,
        schedule: EmissionSchedule,
        funding: u64,
    ) -> Self {
        let net = NetworkFixture::create(h, seed).await;
        let start_time = h.clock().await.unix_timestamp;
        let args = CreatePoolArgs {
            start_time,
            epoch_length_secs: EPOCH_SECS,
            schedule,
        };
        let keys = PoolKeys::new(&net.network, &net.reward_mint, &token_id());
        let ix = create_pool(&net.authority.pubkey(), &net.network, &keys, args);
        h.send(&[ix], &[&net.authority]).await.expect("create pool");
        let mut fixture = Self {
            net,
            keys,
            devices: Vec::new(),
            start_time,
        };
        fixture.fund(h, funding, FundingKind::Emissions).await;
        for i in 0..devices {
            let holder = fixture.net.owner(h).await;
            let key = Keypair::new();
            let location = cell(37.0 + i as f64 * 0.01, -122.0);
            fixture
                .net
                .onboard(h, &holder, &key, location)
                .await
                .expect("onboard");
            fixture.devices.push(FixtureDevice {
                device: fixture.net.device_address(&key.pubkey()),
                mint: fixture.net.mint_address(&key.pubkey()),
                key,
                holder,
            });
        }
        fixture
    }

    /// Mints `amount` reward tokens to a new funder and deposits them as `kind`.
    pub async fn fund(&self, h: &mut Harness, amount: u64, kind: FundingKind) {
        let funder = h.funded_wallet().await;
        let account = h
            .create_ata(&funder.pubkey(), &self.keys.reward_mint, &token_id())
            .await;
        let authority = h.payer().insecure_clone();
        h.mint_to(
            &token_id(),
            &self.keys.reward_mint,
            &account,
            &authority,
            amount,
        )
        .await;
        let ix = fund_pool(&funder.pubkey(), &self.keys, &account, amount, kind);
        h.send(&[ix], &[&funder]).await.expect("fund pool");
    }

    /// The vote of `tree` for `epoch`.
    pub fn vote_args(epoch: u32, tree: &RewardTree) -> VoteEpochRootArgs {
        VoteEpochRootArgs {
            epoch,
            root: tree.root(),
            total: tree.total(),
            leaf_count: tree.len() as u64,
        }
    }

    /// `oracle` (an index into the network's oracles) votes `args`.
    pub async fn vote(
        &self,
        h: &mut Harness,
        oracle: usize,
        args: VoteEpochRootArgs,
    ) -> Result<(), BanksClientError> {
        let signer = &self.net.oracles[oracle];
        let ix = vote_epoch_root(&signer.pubkey(), &self.net.network, &self.keys.pool, args);
        h.send(&[ix], &[signer]).await
    }

    /// Waits out `epoch` and has oracles 0 and 1 (the threshold) vote `tree`.
    pub async fn finalize(&self, h: &mut Harness, epoch: u32, tree: &RewardTree) {
        let end = self.epoch_end(epoch);
        let now = h.clock().await.unix_timestamp;
        if now < end {
            h.warp_seconds(end - now).await;
        }
        for oracle in 0..2 {
            self.vote(h, oracle, Self::vote_args(epoch, tree))
                .await
                .expect("vote");
        }
    }

    /// Creates, freezes and registers the pool's claim lookup table, then moves
    /// one slot on so that it can be used; returns its address.
    pub async fn create_claim_lookup_table(&self, h: &mut Harness) -> Pubkey {
        let payer = h.payer().pubkey();
        let slot = h.recent_slot().await;
        let (table, ixs) = depinkit_sdk::pool::claim_lookup_table_setup(&payer, &self.keys, slot);
        h.send(&ixs, &[]).await.expect("claim lookup table");
        h.warp_seconds(1).await;
        table
    }

    /// Unix time `epoch` ends.
    pub fn epoch_end(&self, epoch: u32) -> i64 {
        self.start_time + (i64::from(epoch) + 1) * EPOCH_SECS
    }

    /// The claim accounts of device `i` paid to its first holder's reward ATA.
    pub fn claim_accounts(&self, i: usize) -> ClaimAccounts {
        self.claim_accounts_for(i, &self.devices[i].holder.pubkey())
    }

    /// The claim accounts of device `i` as held by `holder`: their NFT account
    /// and their reward ATA.
    pub fn claim_accounts_for(&self, i: usize, holder: &Pubkey) -> ClaimAccounts {
        let d = &self.devices[i];
        ClaimAccounts {
            device: d.device,
            device_mint: d.mint,
            holder_nft_account: ata(holder, &d.mint, &anchor_spl::token_2022::ID),
            holder_reward_account: ata(holder, &self.keys.reward_mint, &token_id()),
        }
    }

    /// Claims for device `i` with its leaf in `tree`, as a client does: creates
    /// the holder's reward ATA and the claim record when missing, then claims.
    pub async fn claim(
        &self,
        h: &mut Harness,
        i: usize,
        tree: &RewardTree,
    ) -> Result<(), BanksClientError> {
        let accounts = self.claim_accounts(i);
        let index = tree
            .position(&accounts.device_mint)
            .expect("device in tree");
        let amount = tree.entries()[index].1;
        self.claim_with(h, accounts, amount, tree.proof(index))
            .await
    }

    /// Sends the setup a first claim needs, then `claim` with the given inputs.
    pub async fn claim_with(
        &self,
        h: &mut Harness,
        accounts: ClaimAccounts,
        amount: u64,
        proof: Vec<Hash32>,
    ) -> Result<(), BanksClientError> {
        let payer = h.payer().pubkey();
        let mut ixs = Vec::new();
        let holder = Self::reward_account_owner(h, &accounts).await;
        if h.account_data(&accounts.holder_reward_account)
            .await
            .is_none()
        {
            ixs.push(
                spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                    &payer,
                    &holder,
                    &self.keys.reward_mint,
                    &token_id(),
                ),
            );
        }
        let record = pda::find_claim_record_address(&self.keys.pool, &accounts.device_mint).0;
        if h.account_data(&record).await.is_none() {
            ixs.push(init_claim_record(
                &payer,
                &self.keys.pool,
                &accounts.device,
                &accounts.device_mint,
            ));
        }
        ixs.push(claim(&self.keys, accounts, amount, proof));
        h.send(&ixs, &[]).await
    }

    /// Whose reward ATA `accounts.holder_reward_account` is meant to be: the
    /// owner of the NFT account named in the claim.
    async fn reward_account_owner(h: &mut Harness, accounts: &ClaimAccounts) -> Pubkey {
        match h.account_data(&accounts.holder_nft_account).await {
            Some(data) => Pubkey::new_from_array(data[32..64].try_into().expect("owner")),
            None => Pubkey::default(),
        }
    }
}
