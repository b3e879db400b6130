//! The device NFT: a Token-2022 mint at a PDA, decimals 0, with a metadata pointer
//! to itself and token metadata (name, symbol, URI, category, location); one token
//! is minted to the owner and the mint authority is then removed, so supply stays 1.
//! The mint PDA stays the metadata update authority, so the program can keep the
//! `location` field current when a device moves.

use crate::{
    account_util::create_pda_account,
    state::{Category, Device},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::{self, Create},
    token_2022::{
        self, InitializeMint2, MintTo, SetAuthority,
        spl_token_2022::{
            extension::ExtensionType, instruction::AuthorityType, state::Mint as MintState,
        },
    },
    token_interface::{
        MetadataPointerInitialize, TokenMetadataInitialize, TokenMetadataUpdateField,
        metadata_pointer_initialize, spl_token_metadata_interface::state::Field,
        token_metadata_initialize, token_metadata_update_field,
    },
};

/// Metadata key holding the network category.
pub const CATEGORY_KEY: &str = "category";
/// Metadata key holding the asserted H3 cell in lowercase hex.
pub const LOCATION_KEY: &str = "location";

/// The H3 cell as the 15-character lowercase hex string every H3 library prints.
pub fn location_value(cell: u64) -> String {
    format!("{cell:x}")
}

/// What goes into a device NFT's metadata.
pub struct NftMetadata {
    /// Display name.
    pub name: String,
    /// Network symbol.
    pub symbol: String,
    /// Off-chain JSON.
    pub uri: String,
    /// Network category.
    pub category: Category,
    /// Asserted cell or [`Device::NO_LOCATION`].
    pub location: u64,
}

impl NftMetadata {
    /// The additional key/value fields, in the order they are written.
    fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![(CATEGORY_KEY.to_string(), self.category.as_str().to_string())];
        if self.location != Device::NO_LOCATION {
            fields.push((LOCATION_KEY.to_string(), location_value(self.location)));
        }
        fields
    }

    /// Bytes the metadata entry will take in the mint account: Token-2022's TLV
    /// header (u16 type, u16 length) and the borsh `TokenMetadata`.
    fn tlv_len(&self) -> usize {
        let fields: usize = self
            .fields()
            .iter()
            .map(|(key, value)| borsh_string_len(key) + borsh_string_len(value))
            .sum();
        TOKEN_2022_TLV_HEADER_LEN
            + 32 // update authority
            + 32 // mint
            + borsh_string_len(&self.name)
            + borsh_string_len(&self.symbol)
            + borsh_string_len(&self.uri)
            + 4 // number of additional fields
            + fields
    }
}

/// Token-2022 extension header: a u16 extension type and a u16 length.
const TOKEN_2022_TLV_HEADER_LEN: usize = 4;

/// Borsh size of a string: a u32 length and the bytes.
fn borsh_string_len(value: &str) -> usize {
    4 + value.len()
}

/// Bytes a new `location` metadata field adds to a mint that has none yet.
pub fn location_field_len(cell: u64) -> usize {
    borsh_string_len(LOCATION_KEY) + borsh_string_len(&location_value(cell))
}

/// The accounts minting a device NFT touches.
pub struct MintDeviceNft<'a, 'info> {
    /// Pays rent.
    pub payer: &'a AccountInfo<'info>,
    /// Receives the NFT.
    pub owner: &'a AccountInfo<'info>,
    /// The mint PDA, not yet created.
    pub mint: &'a AccountInfo<'info>,
    /// The owner's associated token account for the mint, not yet created.
    pub owner_token_account: &'a AccountInfo<'info>,
    /// Token-2022.
    pub token_program: &'a AccountInfo<'info>,
    /// Associated Token program.
    pub associated_token_program: &'a AccountInfo<'info>,
    /// System program.
    pub system_program: &'a AccountInfo<'info>,
}

impl MintDeviceNft<'_, '_> {
    /// Creates the mint with its metadata, mints the one token and removes the
    /// mint authority. `mint_seeds` are the mint PDA's seeds with its bump.
    pub fn run(&self, metadata: &NftMetadata, mint_seeds: &[&[u8]]) -> Result<()> {
        let signer = [mint_seeds];
        let mint_key = self.mint.key();
        let mint_len = ExtensionType::try_calculate_account_len::<MintState>(&[
            ExtensionType::MetadataPointer,
        ])?;
        // Fund the final size now: initializing the metadata grows the account.
        let final_len = mint_len
            .checked_add(metadata.tlv_len())
            .ok_or(crate::errors::RegistryError::ArithmeticOverflow)?;
        let lamports = Rent::get()?.minimum_balance(final_len);
        create_pda_account(
            self.payer,
            self.mint,
            mint_len,
            lamports,
            &token_2022::ID,
            mint_seeds,
        )?;
        metadata_pointer_initialize(
            CpiContext::new(
                token_2022::ID,
                MetadataPointerInitialize {
                    token_program_id: self.token_program.clone(),
                    mint: self.mint.clone(),
                },
            ),
            None,
            Some(mint_key),
        )?;
        token_2022::initialize_mint2(
            CpiContext::new(
                token_2022::ID,
                InitializeMint2 {
                    mint: self.mint.clone(),
                },
            ),
            0,
            &mint_key,
            None,
        )?;
        token_metadata_initialize(
            CpiContext::new_with_signer(
                token_2022::ID,
                TokenMetadataInitialize {
                    program_id: self.token_program.clone(),
                    metadata: self.mint.clone(),
                    update_authority: self.mint.clone(),
                    mint_authority: self.mint.clone(),
                    mint: self.mint.clone(),
                },
                &signer,
            ),
            metadata.name.clone(),
            metadata.symbol.clone(),
            metadata.uri.clone(),
        )?;
        for (key, value) in metadata.fields() {
            self.update_field(key, value, mint_seeds)?;
        }
        associated_token::create(CpiContext::new(
            associated_token::ID,
            Create {
                payer: self.payer.clone(),
                associated_token: self.owner_token_account.clone(),
                authority: self.owner.clone(),
                mint: self.mint.clone(),
                system_program: self.system_program.clone(),
                token_program: self.token_program.clone(),
            },
        ))?;
        token_2022::mint_to(
            CpiContext::new_with_signer(
                token_2022::ID,
                MintTo {
                    mint: self.mint.clone(),
                    to: self.owner_token_account.clone(),
                    authority: self.mint.clone(),
                },
                &signer,
            ),
            1,
        )?;
        token_2022::set_authority(
            CpiContext::new_with_signer(
                token_2022::ID,
                SetAuthority {
                    current_authority: self.mint.clone(),
                    account_or_mint: self.mint.clone(),
                },
                &signer,
            ),
            AuthorityType::MintTokens,
            None,
        )
    }

    fn update_field(&self, key: String, value: String, mint_seeds: &[&[u8]]) -> Result<()> {
        update_metadata_field(self.token_program, self.mint, key, value, mint_seeds)
    }
}

/// Sets one additional metadata field of a device NFT, signed by the mint PDA
/// (the update authority). The caller funds any growth first.
pub fn update_metadata_field<'info>(
    token_program: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    key: String,
    value: String,
    mint_seeds: &[&[u8]],
) -> Result<()> {
    let signer = [mint_seeds];
    token_metadata_update_field(
        CpiContext::new_with_signer(
            token_2022::ID,
            TokenMetadataUpdateField {
                program_id: token_program.clone(),
                metadata: mint.clone(),
                update_authority: mint.clone(),
            },
            &signer,
        ),
        Field::Key(key),
        value,
    )
}
