//! Every depinkit program, registered natively.
//!
//! Anchor's generated `entry` ties the program id, the accounts and the data to
//! one lifetime; the runtime's builtin signature hands out independent ones. Each
//! shim below re-borrows them at one lifetime and calls `entry`. The values outlive
//! the call, and `entry` keeps no reference after it returns, so the lifetime-only
//! transmute is sound.

use solana_program_test::ProgramTest;
use solana_sdk::{account_info::AccountInfo, entrypoint::ProgramResult, pubkey::Pubkey};

/// Defines a builtin-compatible function calling an Anchor program's `entry`.
macro_rules! native_shim {
    ($shim:ident, $entry:path) => {
        /// Builtin entry of the program, for `ProgramTest::add_program`.
        pub fn $shim<'a, 'b, 'c, 'd>(
            program_id: &'a Pubkey,
            accounts: &'b [AccountInfo<'c>],
            data: &'d [u8],
        ) -> ProgramResult {
            // SAFETY: lifetime-only casts; see the module documentation.
            let (program_id, accounts, data): (&'c Pubkey, &'c [AccountInfo<'c>], &'c [u8]) = unsafe {
                (
                    std::mem::transmute::<&'a Pubkey, &'c Pubkey>(program_id),
                    std::mem::transmute::<&'b [AccountInfo<'c>], &'c [AccountInfo<'c>]>(accounts),
                    std::mem::transmute::<&'d [u8], &'c [u8]>(data),
                )
            };
            $entry(program_id, accounts, data)
        }
    };
}

native_shim!(device_registry_entry, device_registry::entry);
native_shim!(reward_pool_entry, reward_pool::entry);
native_shim!(service_payments_entry, service_payments::entry);
native_shim!(job_market_entry, job_market::entry);

/// Adds every depinkit program to `program_test` as a native builtin.
pub fn add_depinkit_programs(program_test: &mut ProgramTest) {
    program_test.add_program(
        "device_registry",
        device_registry::ID,
        solana_program_test::processor!(device_registry_entry),
    );
    program_test.add_program(
        "reward_pool",
        reward_pool::ID,
        solana_program_test::processor!(reward_pool_entry),
    );
    program_test.add_program(
        "service_payments",
        service_payments::ID,
        solana_program_test::processor!(service_payments_entry),
    );
    // Test-only: an example third-party program calling the others by CPI.
    program_test.add_program(
        "job_market",
        job_market::ID,
        solana_program_test::processor!(job_market_entry),
    );
}
