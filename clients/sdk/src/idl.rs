//! What the committed IDLs (generated from the programs) tell clients by name:
//! each depinkit program's name, its instructions by discriminator and its
//! errors by code. Read once; used for error messages and transaction logs.

use solana_sdk::pubkey::Pubkey;
use std::sync::OnceLock;

/// One program's names, from its IDL.
struct ProgramNames {
    id: Pubkey,
    name: String,
    instructions: Vec<([u8; 8], String)>,
    errors: Vec<(u32, String)>,
}

fn programs() -> &'static [ProgramNames] {
    static TABLE: OnceLock<Vec<ProgramNames>> = OnceLock::new();
    TABLE.get_or_init(|| {
        [
            include_str!("../../idl/device_registry.json"),
            include_str!("../../idl/reward_pool.json"),
            include_str!("../../idl/service_payments.json"),
        ]
        .into_iter()
        .map(|text| {
            let idl: serde_json::Value = serde_json::from_str(text).expect("committed IDL is JSON");
            let id = idl["address"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .expect("IDL address");
            let name = idl["metadata"]["name"].as_str().unwrap_or("").to_string();
            let instructions = idl["instructions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|ix| {
                    let bytes: Vec<u8> = ix["discriminator"]
                        .as_array()?
                        .iter()
                        .map(|b| b.as_u64().map(|b| b as u8))
                        .collect::<Option<_>>()?;
                    Some((bytes.try_into().ok()?, ix["name"].as_str()?.to_string()))
                })
                .collect();
            let errors = idl["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e["code"].as_u64()? as u32, e["name"].as_str()?.to_string())))
                .collect();
            ProgramNames {
                id,
                name,
                instructions,
                errors,
            }
        })
        .collect()
    })
}

fn program(id: &Pubkey) -> Option<&'static ProgramNames> {
    programs().iter().find(|p| p.id == *id)
}

/// Whether `id` is one of the depinkit programs.
pub fn is_depinkit_program(id: &Pubkey) -> bool {
    program(id).is_some()
}

/// The depinkit program's name (`device_registry`, `reward_pool`, `service_payments`).
pub fn program_name(id: &Pubkey) -> Option<&'static str> {
    program(id).map(|p| p.name.as_str())
}

/// The name of the depinkit instruction whose data is `data`, by its
/// discriminator (`onboard_device`, `claim`, ...).
pub fn instruction_name(id: &Pubkey, data: &[u8]) -> Option<&'static str> {
    let discriminator: [u8; 8] = data.get(..8)?.try_into().ok()?;
    program(id)?
        .instructions
        .iter()
        .find(|(d, _)| *d == discriminator)
        .map(|(_, name)| name.as_str())
}

/// The name of `code` raised by the depinkit program `id` (its own errors).
pub fn program_error_name(id: &Pubkey, code: u32) -> Option<String> {
    program(id)?
        .errors
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;

    #[test]
    fn names_match_the_programs() {
        assert_eq!(program_name(&reward_pool::ID), Some("reward_pool"));
        assert_eq!(
            instruction_name(
                &device_registry::ID,
                device_registry::instruction::OnboardDevice::DISCRIMINATOR
            ),
            Some("onboard_device")
        );
        assert_eq!(
            instruction_name(
                &reward_pool::ID,
                reward_pool::instruction::Claim::DISCRIMINATOR
            ),
            Some("claim")
        );
        assert_eq!(instruction_name(&reward_pool::ID, &[0; 8]), None);
        assert!(!is_depinkit_program(&Pubkey::new_unique()));
    }
}
