/**
 * Reading an oracle's reward proofs: `GET /v1/devices/{mint}/rewards` answers a
 * proof file with the device's entry in the latest finalized tree, `GET
 * /v1/proofs` the whole tree. A claim sends the entry's cumulative amount and
 * proof (the `claim` instruction of `rewardPool`); {@link claimOf} checks the
 * proof against the file's root first.
 */
import { type Address, address } from '@solana/kit';
import { fromHex } from './hash';
import { leafHash, verifyProof } from './merkle';

/** One device's entry in a proof file, as the oracle writes it. */
export interface ProofEntry {
  device_mint: string;
  /** Cumulative amount in reward-mint base units (a JSON number: may exceed 2^53). */
  cumulative_amount: number | string;
  /** Sibling hashes, hex, leaf to root. */
  proof: string[];
}

/** An epoch's tree, as JSON: `clients/sdk/src/proofs.rs`'s `ProofFile`. */
export interface ProofFile {
  pool: string;
  epoch: number;
  root: string;
  total: number | string;
  claims: ProofEntry[];
}

/** A claim ready to send: what the tree pays the device in total, and the proof. */
export interface Claim {
  pool: Address;
  epoch: number;
  deviceMint: Address;
  cumulativeAmount: bigint;
  root: Uint8Array;
  proof: Uint8Array[];
}

/** An oracle's refusal: its HTTP status and reason code (`no_rewards`, `no_finalized_root`). */
export class OracleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/**
 * Parses an oracle's JSON keeping integers beyond 2^53 exact: every bare integer
 * of 16 digits or more becomes a string before `JSON.parse` sees it.
 */
export function parseExact<T>(text: string): T {
  return JSON.parse(text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as T;
}

async function getJson<T>(url: string, fetchImpl: typeof fetch): Promise<T> {
  const response = await fetchImpl(url);
  const text = await response.text();
  if (!response.ok) {
    let body: { error?: string; message?: string } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the status says enough
    }
    throw new OracleError(response.status, body.error ?? 'http', body.message ?? text);
  }
  return parseExact<T>(text);
}

/** The proof file with `deviceMint`'s entry, from the oracle at `oracleUrl`. */
export const fetchDeviceRewards = (
  oracleUrl: string,
  deviceMint: Address,
  fetchImpl: typeof fetch = fetch,
): Promise<ProofFile> =>
  getJson(`${oracleUrl.replace(/\/$/, '')}/v1/devices/${deviceMint}/rewards`, fetchImpl);

/** The whole latest tree, from the oracle at `oracleUrl`. */
export const fetchAllProofs = (oracleUrl: string, fetchImpl: typeof fetch = fetch): Promise<ProofFile> =>
  getJson(`${oracleUrl.replace(/\/$/, '')}/v1/proofs`, fetchImpl);

/**
 * `deviceMint`'s claim in `file`, its proof checked against the file's root;
 * throws when the file has no entry for it or the proof does not lead to the root.
 */
export async function claimOf(file: ProofFile, deviceMint: Address): Promise<Claim> {
  const entry = file.claims.find((c) => c.device_mint === deviceMint);
  if (!entry) throw new Error(`the proof file has no entry for ${deviceMint}`);
  const cumulativeAmount = BigInt(entry.cumulative_amount);
  const root = fromHex(file.root);
  const proof = entry.proof.map(fromHex);
  if (!(await verifyProof(proof, root, await leafHash(deviceMint, cumulativeAmount)))) {
    throw new Error(`the proof of ${deviceMint} does not lead to root ${file.root}`);
  }
  return { pool: address(file.pool), epoch: file.epoch, deviceMint, cumulativeAmount, root, proof };
}
