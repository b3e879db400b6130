/**
 * Every PDA of the three programs, with the seeds of `programs/<name>/src/pda.rs`
 * (the one definition; `test/vectors.json`, written by the Rust side, proves these
 * give the same addresses). Codama renders only the PDAs an IDL names with constant
 * seeds; these cover all of them, with the right program each.
 */
import {
  type Address,
  type ProgramDerivedAddress,
  getAddressEncoder,
  getProgramDerivedAddress,
  getU32Encoder,
  getU64Encoder,
} from '@solana/kit';
import { DEVICE_REGISTRY_PROGRAM_ADDRESS } from './generated/deviceRegistry/programs';
import { REWARD_POOL_PROGRAM_ADDRESS } from './generated/rewardPool/programs';
import { SERVICE_PAYMENTS_PROGRAM_ADDRESS } from './generated/servicePayments/programs';

const text = (seed: string): Uint8Array => new TextEncoder().encode(seed);
const address = (key: Address): Uint8Array => new Uint8Array(getAddressEncoder().encode(key));
const u32 = (value: number): Uint8Array => new Uint8Array(getU32Encoder().encode(value));
const u64 = (value: bigint): Uint8Array => new Uint8Array(getU64Encoder().encode(value));

const find = (programAddress: Address, seeds: Uint8Array[]): Promise<ProgramDerivedAddress> =>
  getProgramDerivedAddress({ programAddress, seeds });

/** The network `creator` made with `seed` (at most 32 bytes). */
export const findNetworkPda = (creator: Address, seed: Uint8Array) =>
  find(DEVICE_REGISTRY_PROGRAM_ADDRESS, [text('network'), address(creator), seed]);

/** The maker of `network` identified by its issuing key. */
export const findMakerPda = (network: Address, issuingKey: Address) =>
  find(DEVICE_REGISTRY_PROGRAM_ADDRESS, [text('maker'), address(network), address(issuingKey)]);

/** The device account of `deviceKey` on `network`. */
export const findDevicePda = (network: Address, deviceKey: Address) =>
  find(DEVICE_REGISTRY_PROGRAM_ADDRESS, [text('device'), address(network), address(deviceKey)]);

/** The device NFT's mint (Token-2022) of `deviceKey` on `network`. */
export const findDeviceMintPda = (network: Address, deviceKey: Address) =>
  find(DEVICE_REGISTRY_PROGRAM_ADDRESS, [text('device_mint'), address(network), address(deviceKey)]);

/** The reward pool of `network`. */
export const findPoolPda = (network: Address) =>
  find(REWARD_POOL_PROGRAM_ADDRESS, [text('pool'), address(network)]);

/** What a device (its NFT mint) has claimed from `pool`. */
export const findClaimRecordPda = (pool: Address, deviceMint: Address) =>
  find(REWARD_POOL_PROGRAM_ADDRESS, [text('claim'), address(pool), address(deviceMint)]);

/** The payments config of `network`. */
export const findPaymentsPda = (network: Address) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [text('payments'), address(network)]);

/** The data-credits mint of `network`. */
export const findCreditsMintPda = (network: Address) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [text('credits_mint'), address(network)]);

/** `customer`'s usage escrow (delegated credits) on `network`. */
export const findUsageEscrowPda = (network: Address, customer: Address) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [text('usage_escrow'), address(network), address(customer)]);

/** The usage an oracle set attested against `escrow` for `epoch`. */
export const findUsageReportPda = (escrow: Address, epoch: number) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [text('usage_report'), address(escrow), u32(epoch)]);

/** The usage attested on `network` for `epoch`, all escrows. */
export const findEpochUsagePda = (network: Address, epoch: number) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [text('epoch_usage'), address(network), u32(epoch)]);

/** `customer`'s order `orderId` on `network`. */
export const findOrderPda = (network: Address, customer: Address, orderId: bigint) =>
  find(SERVICE_PAYMENTS_PROGRAM_ADDRESS, [
    text('order'),
    address(network),
    address(customer),
    u64(orderId),
  ]);

/**
 * The event authority of `programAddress` (Anchor's `#[event_cpi]`): every
 * instruction that emits an event takes it and the program itself as accounts.
 */
export const findEventAuthorityPda = (programAddress: Address) =>
  find(programAddress, [text('__event_authority')]);
