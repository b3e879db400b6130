/**
 * The migration from files, for Node: the cluster's JSON-RPC URL, a wallet file
 * (the Solana CLI's JSON array of 64 bytes) and a config file. What
 * `migrations/deploy.ts` calls under `anchor migrate`; kept out of the package's
 * index, which runs in browsers too.
 */
import { readFileSync } from 'node:fs';
import { createKeyPairSignerFromBytes, createSolanaRpc } from '@solana/kit';
import { type MigrationStep, checkConfig, migrate } from '../migrate';

/** Runs the migration of `configFile` on `rpcUrl` with the wallet in `walletFile`. */
export async function migrateFromFiles(
  rpcUrl: string,
  walletFile: string,
  configFile: string,
  log: (line: string) => void = console.log,
): Promise<MigrationStep[]> {
  let config;
  try {
    config = checkConfig(JSON.parse(readFileSync(configFile, 'utf8')));
  } catch (e) {
    throw new Error(`${configFile}: ${(e as Error).message}`);
  }
  const wallet = await createKeyPairSignerFromBytes(
    Uint8Array.from(JSON.parse(readFileSync(walletFile, 'utf8'))),
  );
  log(`deploying ${configFile} to ${rpcUrl} with wallet ${wallet.address}`);
  return migrate(createSolanaRpc(rpcUrl), wallet, config, log);
}
