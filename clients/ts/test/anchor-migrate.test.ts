// `anchor migrate` itself, as a network builder runs it after `anchor deploy`:
// the Anchor CLI runs migrations/deploy.ts with ts-node against a localnet; the
// config's network and pool are created, and a second run has nothing to do.
// Skipped where anchor-cli is not installed (CI installs it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSigner } from '@solana/kit';
import * as depinkit from '../src';
import { Localnet } from '../test-support/localnet';
import { createMint } from '../test-support/network';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const anchorInstalled = spawnSync('anchor', ['--version']).status === 0;

let localnet: Localnet;

before(async () => {
  if (anchorInstalled) localnet = await Localnet.start();
});

after(() => localnet?.stop());

function anchorMigrate(configFile: string) {
  const run = spawnSync(
    'anchor',
    ['migrate', '--provider.cluster', localnet.rpcUrl, '--provider.wallet', localnet.payerFile],
    { cwd: repoRoot, env: { ...process.env, DEPIN_NETWORKS: configFile }, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('anchor migrate creates the networks of its config, then has nothing to do', { skip: !anchorInstalled && 'anchor-cli is not installed' }, async () => {
  const mint = await createMint(localnet, localnet.payer);
  const oracle = (await generateKeyPairSigner()).address;
  const configFile = join(mkdtempSync(join(tmpdir(), 'depinkit-migrate-')), 'networks.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      networks: [
        {
          seed: 'anchor-mapping',
          name: 'Mapping',
          symbol: 'MAP',
          category: 'mapping',
          rewardMint: mint,
          locationResolution: 9,
          oracles: [oracle],
          threshold: 1,
          oracleChangeDelaySecs: 86400,
          metadataUriBase: 'https://example.org/dashcams/',
          pool: {
            epochLengthSecs: 86400,
            schedule: { initialPerEpoch: 5000000, decayIntervalEpochs: 0, retainBps: 10000 },
          },
        },
      ],
    }),
  );
  const first = anchorMigrate(configFile);
  assert.equal(first.status, 0, first.output);
  assert.match(first.output, /network anchor-mapping \(\w+\): created/);
  assert.match(first.output, /pool anchor-mapping \(\w+\): created/);
  const [network] = await depinkit.findNetworkPda(
    localnet.payer.address,
    new TextEncoder().encode('anchor-mapping'),
  );
  const created = await depinkit.deviceRegistry.fetchNetwork(localnet.rpc, network);
  assert.equal(created.data.category, depinkit.deviceRegistry.Category.Mapping);

  const second = anchorMigrate(configFile);
  assert.equal(second.status, 0, second.output);
  assert.match(second.output, /nothing to do/);
  assert.doesNotMatch(second.output, /created/);

  // A config that no longer matches the chain: reported, exit 1.
  writeFileSync(configFile, JSON.stringify({ networks: [] }));
  const wrong = anchorMigrate(configFile);
  assert.notEqual(wrong.status, 0, wrong.output);
  assert.match(wrong.output, /at least one network/);
});
