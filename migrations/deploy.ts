// `anchor migrate`, after `anchor deploy`: creates the networks, reward pools and
// payments that migrations/networks.json describes (DEPIN_NETWORKS names another
// file) with the provider's wallet as their authority, and compares those that
// exist: a second run changes nothing and says so; a setting that differs on chain
// is reported, not changed, and the run exits 1.
// Needs the TypeScript client built: (cd clients/ts && npm ci && npm run build),
// and `npm ci` here for @anchor-lang/core and ts-node.
import * as path from 'node:path';
import type { AnchorProvider } from '@anchor-lang/core';

module.exports = async function (provider: AnchorProvider) {
  const { migrateFromFiles } = require('../clients/ts/dist/src/node/deploy');
  const wallet = process.env.ANCHOR_WALLET;
  if (!wallet) throw new Error('ANCHOR_WALLET is not set: run this with `anchor migrate`');
  const config = process.env.DEPIN_NETWORKS ?? path.join(__dirname, 'networks.json');
  try {
    const steps = await migrateFromFiles(provider.connection.rpcEndpoint, wallet, config);
    const differs = steps.filter((s: { outcome: string }) => s.outcome === 'differs').length;
    if (differs > 0) {
      console.error(`${differs} account(s) differ from ${config}: not changed`);
      process.exitCode = 1;
    } else {
      console.log(steps.some((s: { outcome: string }) => s.outcome === 'created') ? 'done' : 'nothing to do: every account is as the config says');
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  }
};
