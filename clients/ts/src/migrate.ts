/**
 * The networks a builder deploys, made from a config file: each network, its
 * reward pool and its payments, created when missing and compared when present.
 * A second run changes nothing and says so; a setting that differs on chain is
 * reported, never overwritten (oracle sets change through their timelock, other
 * settings with the programs' update instructions). `migrations/deploy.ts` runs
 * it under `anchor migrate`.
 */
import { type Address, type KeyPairSigner, type Rpc, type SolanaRpcApi, address } from '@solana/kit';
import * as deviceRegistry from './generated/deviceRegistry';
import * as rewardPool from './generated/rewardPool';
import * as servicePayments from './generated/servicePayments';
import { chainTime, sendAndConfirm } from './send';
import { findEventAuthorityPda, findNetworkPda, findPaymentsPda, findPoolPda } from './pdas';

/** A fee as the config writes it. */
export interface FeeConfig {
  mint: string;
  amount: string | number;
}

/** One network of the config file. */
export interface NetworkConfig {
  /** Seed of the network's address under the deploying wallet (1 to 32 bytes). */
  seed: string;
  name: string;
  symbol: string;
  category: 'wireless' | 'mapping' | 'storage' | 'compute';
  /** An existing mint (SPL Token or Token-2022). */
  rewardMint: string;
  /** Fee wallet; the deploying wallet when absent. */
  treasury?: string;
  onboardingFee?: FeeConfig;
  locationFee?: FeeConfig;
  locationResolution: number;
  oracles: string[];
  threshold: number;
  oracleChangeDelaySecs: number;
  metadataUriBase: string;
  /** The reward pool; none when absent. */
  pool?: {
    /** Unix time epoch 0 starts; the chain's time at creation when absent. */
    startTime?: number;
    epochLengthSecs: number;
    schedule: { initialPerEpoch: string | number; decayIntervalEpochs: number; retainBps: number };
  };
  /** Credits and orders; none when absent. */
  payments?: {
    /** The token burned to buy credits; the reward mint when absent. */
    burnMint?: string;
    creditsDecimals: number;
    creditUsdMicros: number;
    maxPriceAgeSecs: number;
    orderFeeBps: number;
    poolShareBps: number;
    withdrawalNoticeSecs: number;
  };
}

/** The config file: `{ "networks": [...] }`. */
export interface MigrationConfig {
  networks: NetworkConfig[];
}

/** What the migration did with one account. */
export interface MigrationStep {
  /** `network wireless`, `pool wireless`, `payments wireless`. */
  subject: string;
  address: Address;
  outcome: 'created' | 'unchanged' | 'differs';
  /** For `differs`: each setting, on chain and in the config. */
  differences: string[];
}

const CATEGORIES = {
  wireless: deviceRegistry.Category.Wireless,
  mapping: deviceRegistry.Category.Mapping,
  storage: deviceRegistry.Category.Storage,
  compute: deviceRegistry.Category.Compute,
} as const;

/** Checks a parsed config file; throws naming the first wrong field. */
export function checkConfig(value: unknown): MigrationConfig {
  const config = value as MigrationConfig;
  if (!config || !Array.isArray(config.networks) || config.networks.length === 0) {
    throw new Error('the config needs "networks": [ ... ] with at least one network');
  }
  const seen = new Set<string>();
  config.networks.forEach((n, i) => {
    const where = `networks[${i}]`;
    for (const field of ['seed', 'name', 'symbol', 'rewardMint', 'metadataUriBase'] as const) {
      if (typeof n[field] !== 'string' || n[field].length === 0) {
        throw new Error(`${where}.${field} must be a non-empty string`);
      }
    }
    if (seen.has(n.seed)) throw new Error(`${where}.seed "${n.seed}" appears twice`);
    seen.add(n.seed);
    if (!(n.category in CATEGORIES)) {
      throw new Error(`${where}.category must be one of ${Object.keys(CATEGORIES).join(', ')}`);
    }
    if (!Array.isArray(n.oracles) || n.oracles.length === 0) {
      throw new Error(`${where}.oracles must list at least one oracle key`);
    }
    for (const key of [n.rewardMint, n.treasury, ...n.oracles].filter((k) => k !== undefined)) {
      try {
        address(key as string);
      } catch {
        throw new Error(`${where}: ${key} is not an address`);
      }
    }
  });
  return config;
}

/** `what: on chain X, config Y` for each pair that differs. */
function compare(pairs: [string, unknown, unknown][]): string[] {
  const text = (v: unknown) =>
    JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
  return pairs
    .filter(([, onChain, wanted]) => text(onChain) !== text(wanted))
    .map(([what, onChain, wanted]) => `${what}: on chain ${text(onChain)}, config ${text(wanted)}`);
}

const fee = (f: FeeConfig | undefined, rewardMint: Address) => ({
  mint: address(f?.mint ?? rewardMint),
  amount: BigInt(f?.amount ?? 0),
});

/** The token program owning `mint`. */
async function tokenProgramOf(rpc: Rpc<SolanaRpcApi>, mint: Address): Promise<Address> {
  const { value } = await rpc.getAccountInfo(mint, { encoding: 'base64' }).send();
  if (!value) throw new Error(`mint ${mint} does not exist on this cluster`);
  return value.owner;
}

/** The network of `n`: created, or compared with the config. */
async function migrateNetwork(
  rpc: Rpc<SolanaRpcApi>,
  payer: KeyPairSigner,
  n: NetworkConfig,
): Promise<MigrationStep> {
  const seed = new TextEncoder().encode(n.seed);
  const [network] = await findNetworkPda(payer.address, seed);
  const rewardMint = address(n.rewardMint);
  const wanted = {
    name: n.name,
    symbol: n.symbol,
    category: CATEGORIES[n.category],
    treasury: address(n.treasury ?? payer.address),
    onboardingFee: fee(n.onboardingFee, rewardMint),
    locationFee: fee(n.locationFee, rewardMint),
    locationResolution: n.locationResolution,
    oracles: n.oracles.map((o) => address(o)),
    threshold: n.threshold,
    oracleChangeDelaySecs: BigInt(n.oracleChangeDelaySecs),
    metadataUriBase: n.metadataUriBase,
  };
  const subject = `network ${n.seed}`;
  const found = await deviceRegistry.fetchMaybeNetwork(rpc, network);
  if (found.exists) {
    const d = found.data;
    const differences = compare([
      ['reward mint', d.rewardMint, rewardMint],
      ...Object.entries(wanted).map(
        ([k, v]) => [k, (d as Record<string, unknown>)[k], v] as [string, unknown, unknown],
      ),
    ]);
    return { subject, address: network, outcome: differences.length ? 'differs' : 'unchanged', differences };
  }
  const [eventAuthority] = await findEventAuthorityPda(deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS);
  const feeMint = [wanted.onboardingFee, wanted.locationFee].find((f) => f.amount > 0n)?.mint;
  await sendAndConfirm(rpc, payer, [
    deviceRegistry.getCreateNetworkInstruction({
      creator: payer,
      network,
      rewardMint,
      feeMint,
      eventAuthority,
      program: deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS,
      seed,
      ...wanted,
    }),
  ]);
  return { subject, address: network, outcome: 'created', differences: [] };
}

/** The reward pool of `n` on `network`: created, or compared with the config. */
async function migratePool(
  rpc: Rpc<SolanaRpcApi>,
  payer: KeyPairSigner,
  n: NetworkConfig,
  network: Address,
): Promise<MigrationStep> {
  const pool = n.pool!;
  const [address_] = await findPoolPda(network);
  const schedule = {
    initialPerEpoch: BigInt(pool.schedule.initialPerEpoch),
    decayIntervalEpochs: pool.schedule.decayIntervalEpochs,
    retainBps: pool.schedule.retainBps,
  };
  const subject = `pool ${n.seed}`;
  const found = await rewardPool.fetchMaybePool(rpc, address_);
  if (found.exists) {
    const d = found.data;
    const differences = compare([
      ['reward mint', d.rewardMint, address(n.rewardMint)],
      ['epochLengthSecs', d.epochLengthSecs, BigInt(pool.epochLengthSecs)],
      ['schedule', d.schedule, schedule],
      ...(pool.startTime === undefined
        ? []
        : [['startTime', d.startTime, BigInt(pool.startTime)] as [string, unknown, unknown]]),
    ]);
    return {
      subject,
      address: address_,
      outcome: differences.length ? 'differs' : 'unchanged',
      differences,
    };
  }
  const rewardMint = address(n.rewardMint);
  const [eventAuthority] = await findEventAuthorityPda(rewardPool.REWARD_POOL_PROGRAM_ADDRESS);
  await sendAndConfirm(rpc, payer, [
    await rewardPool.getCreatePoolInstructionAsync({
      authority: payer,
      network,
      rewardMint,
      rewardTokenProgram: await tokenProgramOf(rpc, rewardMint),
      eventAuthority,
      program: rewardPool.REWARD_POOL_PROGRAM_ADDRESS,
      startTime: pool.startTime === undefined ? await chainTime(rpc) : BigInt(pool.startTime),
      epochLengthSecs: BigInt(pool.epochLengthSecs),
      schedule,
    }),
  ]);
  return { subject, address: address_, outcome: 'created', differences: [] };
}

/** The payments of `n` on `network`: created, or compared with the config. */
async function migratePayments(
  rpc: Rpc<SolanaRpcApi>,
  payer: KeyPairSigner,
  n: NetworkConfig,
  network: Address,
): Promise<MigrationStep> {
  const p = n.payments!;
  const [config] = await findPaymentsPda(network);
  const burnMint = address(p.burnMint ?? n.rewardMint);
  const wanted = {
    creditsDecimals: p.creditsDecimals,
    creditUsdMicros: BigInt(p.creditUsdMicros),
    maxPriceAgeSecs: BigInt(p.maxPriceAgeSecs),
    orderFeeBps: p.orderFeeBps,
    poolShareBps: p.poolShareBps,
    withdrawalNoticeSecs: BigInt(p.withdrawalNoticeSecs),
  };
  const subject = `payments ${n.seed}`;
  const found = await servicePayments.fetchMaybePaymentsConfig(rpc, config);
  if (found.exists) {
    const d = found.data;
    const differences = compare([
      ['burnMint', d.burnMint, burnMint],
      ...Object.entries(wanted).map(
        ([k, v]) => [k, (d as Record<string, unknown>)[k], v] as [string, unknown, unknown],
      ),
    ]);
    return { subject, address: config, outcome: differences.length ? 'differs' : 'unchanged', differences };
  }
  const [eventAuthority] = await findEventAuthorityPda(servicePayments.SERVICE_PAYMENTS_PROGRAM_ADDRESS);
  await sendAndConfirm(rpc, payer, [
    await servicePayments.getInitPaymentsInstructionAsync({
      authority: payer,
      network,
      burnMint,
      burnTokenProgram: await tokenProgramOf(rpc, burnMint),
      eventAuthority,
      program: servicePayments.SERVICE_PAYMENTS_PROGRAM_ADDRESS,
      ...wanted,
    }),
  ]);
  return { subject, address: config, outcome: 'created', differences: [] };
}

/**
 * Brings the chain to `config` with `payer` as every network's creator and
 * authority: what is missing is created, what exists is compared. `log` hears one
 * line per account as it goes.
 */
export async function migrate(
  rpc: Rpc<SolanaRpcApi>,
  payer: KeyPairSigner,
  config: MigrationConfig,
  log: (line: string) => void = () => {},
): Promise<MigrationStep[]> {
  checkConfig(config);
  const steps: MigrationStep[] = [];
  const record = (step: MigrationStep) => {
    steps.push(step);
    const tail = step.differences.length ? `: ${step.differences.join('; ')}` : '';
    log(`${step.subject} (${step.address}): ${step.outcome}${tail}`);
  };
  for (const n of config.networks) {
    const network = await migrateNetwork(rpc, payer, n);
    record(network);
    if (n.pool) record(await migratePool(rpc, payer, n, network.address));
    if (n.payments) record(await migratePayments(rpc, payer, n, network.address));
  }
  return steps;
}
