/**
 * The reward merkle tree as `programs/reward-pool/src/merkle.rs` defines it:
 * leaf = SHA-256(0x00 || device mint || cumulative amount, u64 LE), node =
 * SHA-256(0x01 || min(a, b) || max(a, b)); a proof is the siblings from the leaf
 * up, at most 24 of them. A claimant checks its proof before sending a claim.
 */
import { type Address, getAddressEncoder, getU64Encoder } from '@solana/kit';
import { sha256 } from './hash';

/** First byte hashed into every leaf. */
export const LEAF_DOMAIN = 0x00;
/** First byte hashed into every inner node. */
export const NODE_DOMAIN = 0x01;
/** Longest proof a claim accepts: 2^24 devices. */
export const MAX_PROOF_LEN = 24;

/** The leaf paying `cumulativeAmount` in total to the device `deviceMint`. */
export const leafHash = (deviceMint: Address, cumulativeAmount: bigint): Promise<Uint8Array> =>
  sha256(
    Uint8Array.of(LEAF_DOMAIN),
    new Uint8Array(getAddressEncoder().encode(deviceMint)),
    new Uint8Array(getU64Encoder().encode(cumulativeAmount)),
  );

/** -1, 0 or 1 as `a` sorts before, with or after `b`, byte by byte. */
function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/** The inner node over two children, in either order. */
export function nodeHash(a: Uint8Array, b: Uint8Array): Promise<Uint8Array> {
  const [low, high] = compare(a, b) <= 0 ? [a, b] : [b, a];
  return sha256(Uint8Array.of(NODE_DOMAIN), low, high);
}

/** Whether `proof` leads from `leaf` to `root` (a proof too long never does). */
export async function verifyProof(
  proof: Uint8Array[],
  root: Uint8Array,
  leaf: Uint8Array,
): Promise<boolean> {
  if (proof.length > MAX_PROOF_LEN) return false;
  let node = leaf;
  for (const sibling of proof) node = await nodeHash(node, sibling);
  return compare(node, root) === 0;
}
