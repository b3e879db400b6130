//! Every depinkit program as a native builtin: the one place the lifetime shims
//! are written, used by the localnet and by the native test harness.
//!
//! Anchor's generated `entry` ties the program id, the accounts and the data to
//! one lifetime; the runtime's builtin signature hands out independent ones. Each
//! shim re-borrows them at one lifetime and calls `entry`. The values outlive the
//! call and `entry` keeps no reference after it returns, so the lifetime-only
//! transmute is sound.

use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
use solana_program_test::ProgramTest;
use solana_sdk::pubkey::Pubkey;

/// Defines `pub fn $shim`, a builtin-compatible function calling `$entry` (an
/// Anchor program's `entry`). Exported so that test-only programs use it too.
#[macro_export]
macro_rules! native_shim {
    ($shim:ident, $entry:path) => {
        /// Builtin entry of the program.
        pub fn $shim<'a, 'b, 'c, 'd>(
            program_id: &'a ::solana_sdk::pubkey::Pubkey,
            accounts: &'b [::solana_sdk::account_info::AccountInfo<'c>],
            data: &'d [u8],
        ) -> ::solana_sdk::entrypoint::ProgramResult {
            // SAFETY: lifetime-only casts; see `depinkit_localnet::programs`.
            let (program_id, accounts, data): (
                &'c ::solana_sdk::pubkey::Pubkey,
                &'c [::solana_sdk::account_info::AccountInfo<'c>],
                &'c [u8],
            ) = unsafe {
                (
                    ::std::mem::transmute::<
                        &'a ::solana_sdk::pubkey::Pubkey,
                        &'c ::solana_sdk::pubkey::Pubkey,
                    >(program_id),
                    ::std::mem::transmute::<
                        &'b [::solana_sdk::account_info::AccountInfo<'c>],
                        &'c [::solana_sdk::account_info::AccountInfo<'c>],
                    >(accounts),
                    ::std::mem::transmute::<&'d [u8], &'c [u8]>(data),
                )
            };
            $entry(program_id, accounts, data)
        }
    };
}

native_shim!(device_registry_entry, device_registry::entry);
native_shim!(reward_pool_entry, reward_pool::entry);
native_shim!(service_payments_entry, service_payments::entry);

/// A program to register natively.
pub struct NativeProgram {
    /// Program name (the crate's library name).
    pub name: &'static str,
    /// Program id.
    pub id: Pubkey,
    /// The builtin entry.
    pub entry: BuiltinFunctionWithContext,
}

/// The depinkit programs.
pub fn depinkit_programs() -> Vec<NativeProgram> {
    // Typed where made: calling `unwrap` on the macro directly loses the
    // higher-ranked function type.
    let registry: Option<BuiltinFunctionWithContext> =
        solana_program_test::processor!(device_registry_entry);
    let pool: Option<BuiltinFunctionWithContext> =
        solana_program_test::processor!(reward_pool_entry);
    let payments: Option<BuiltinFunctionWithContext> =
        solana_program_test::processor!(service_payments_entry);
    vec![
        NativeProgram {
            name: "device_registry",
            id: device_registry::ID,
            entry: registry.expect("builtin"),
        },
        NativeProgram {
            name: "reward_pool",
            id: reward_pool::ID,
            entry: pool.expect("builtin"),
        },
        NativeProgram {
            name: "service_payments",
            id: service_payments::ID,
            entry: payments.expect("builtin"),
        },
    ]
}

/// Adds every depinkit program to `program_test` as a native builtin.
pub fn add_to_program_test(program_test: &mut ProgramTest) {
    for program in depinkit_programs() {
        program_test.add_program(program.name, program.id, Some(program.entry));
    }
}
