//! depinkit device registry: networks, their makers, and device NFTs.
//!
//! A network authority creates a [`state::Network`] (category, fees, oracle set),
//! approves [`state::Maker`]s, and may suspend devices. A device owner onboards a
//! device with their wallet, the maker's issuing key and the device's own ed25519
//! signature; the device becomes a [`state::Device`] and a Token-2022 NFT whose
//! holder owns the device's rewards.
//!
//! Formats shared with off-chain code (PDA seeds in [`pda`], signed messages in
//! [`messages`], H3 validation in [`h3`], the oracle quorum rule in [`quorum`],
//! events in [`events`]) are defined here only; the SDK and the oracle use them
//! through the `no-entrypoint` feature. Helpers every depinkit program shares
//! live here too: [`account_util`] and [`token_safety`].

use anchor_lang::prelude::*;

pub mod account_util;
pub mod ed25519;
pub mod errors;
pub mod events;
pub mod fees;
pub mod h3;
pub mod instructions;
pub mod messages;
pub mod nft;
pub mod pda;
pub mod quorum;
pub mod state;
pub mod token_safety;

use instructions::*;
use state::{DeviceStatus, MakerStatus};

declare_id!("33Wc2gEtEXkJgfA5k4KZRHgog8QqmutSBWWY9MzjQGvd");

// Who to tell about a vulnerability, readable from the deployed program
// (explorers show it). Left out of builds linked into other programs.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "depinkit device registry",
    project_url: "https://github.com/depinkit/depinkit",
    contacts: "link:https://github.com/depinkit/depinkit/security/advisories/new",
    policy: "https://github.com/depinkit/depinkit#security",
    preferred_languages: "en",
    source_code: "https://github.com/depinkit/depinkit/tree/main/programs/device-registry"
}

/// Instructions of the device registry; each one is documented in its module.
#[program]
pub mod device_registry {
    use super::*;

    /// Creates a network; the creator becomes its authority.
    pub fn create_network(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
        instructions::create_network::handler(ctx, args)
    }

    /// Changes a network's fees, treasury, oracle set, threshold, name or URI.
    pub fn update_network(ctx: Context<UpdateNetwork>, args: UpdateNetworkArgs) -> Result<()> {
        instructions::update_network::handler(ctx, args)
    }

    /// Proposes a new network authority (`None` withdraws the proposal).
    pub fn propose_network_authority(
        ctx: Context<ProposeNetworkAuthority>,
        new_authority: Option<Pubkey>,
    ) -> Result<()> {
        instructions::network_authority::propose_handler(ctx, new_authority)
    }

    /// The proposed authority takes over.
    pub fn accept_network_authority(ctx: Context<AcceptNetworkAuthority>) -> Result<()> {
        instructions::network_authority::accept_handler(ctx)
    }

    /// Registers a maker's issuing key, pending approval.
    pub fn register_maker(ctx: Context<RegisterMaker>, name: String) -> Result<()> {
        instructions::register_maker::handler(ctx, name)
    }

    /// Approves or revokes a maker.
    pub fn set_maker_status(ctx: Context<SetMakerStatus>, status: MakerStatus) -> Result<()> {
        instructions::set_status::maker_handler(ctx, status)
    }

    /// Onboards a device and mints its NFT to the owner.
    pub fn onboard_device(ctx: Context<OnboardDevice>, args: OnboardDeviceArgs) -> Result<()> {
        instructions::onboard_device::handler(ctx, args)
    }

    /// Moves a device to a new H3 cell.
    pub fn assert_location(ctx: Context<AssertLocation>, args: AssertLocationArgs) -> Result<()> {
        instructions::assert_location::handler(ctx, args)
    }

    /// Suspends or reactivates a device.
    pub fn set_device_status(ctx: Context<SetDeviceStatus>, status: DeviceStatus) -> Result<()> {
        instructions::set_status::device_handler(ctx, status)
    }
}
