//! Every program the native tests load: the depinkit programs (registered by
//! `depinkit_localnet::programs`, the one place their shims are written) and
//! the test-only example dApp.

use solana_program_test::ProgramTest;

depinkit_localnet::native_shim!(job_market_entry, job_market::entry);

/// Adds every depinkit program, and the example dApp, to `program_test`.
pub fn add_depinkit_programs(program_test: &mut ProgramTest) {
    depinkit_localnet::programs::add_to_program_test(program_test);
    program_test.add_program(
        "job_market",
        job_market::ID,
        solana_program_test::processor!(job_market_entry),
    );
}
