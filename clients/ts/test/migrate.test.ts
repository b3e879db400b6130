// The deployment migration against a localnet: two networks with their pools and
// payments created from a config; a second run sends nothing and says every
// account is unchanged; a setting changed in the config is reported, not
// applied; a wrong config is refused before anything is sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Address, type KeyPairSigner, generateKeyPairSigner } from '@solana/kit';
import * as depinkit from '../src';
import { Localnet } from '../test-support/localnet';
import { createMint } from '../test-support/network';

let localnet: Localnet;
let deployer: KeyPairSigner;
let mint: Address;
let oracles: Address[];

before(async () => {
  localnet = await Localnet.start();
  deployer = await localnet.funded();
  mint = await createMint(localnet, deployer);
  oracles = await Promise.all([1, 2, 3].map(async () => (await generateKeyPairSigner()).address));
});

after(() => localnet?.stop());

function config(): depinkit.MigrationConfig {
  return {
    networks: [
      {
        seed: 'wireless',
        name: 'Wireless',
        symbol: 'HOT',
        category: 'wireless',
        rewardMint: mint,
        locationResolution: 8,
        oracles,
        threshold: 2,
        oracleChangeDelaySecs: 86_400,
        metadataUriBase: 'https://example.org/hotspots/',
        pool: {
          epochLengthSecs: 3_600,
          schedule: { initialPerEpoch: '1000000000', decayIntervalEpochs: 24, retainBps: 9_990 },
        },
        payments: {
          creditsDecimals: 0,
          creditUsdMicros: 10,
          maxPriceAgeSecs: 3_600,
          orderFeeBps: 250,
          poolShareBps: 1_000,
          withdrawalNoticeSecs: 86_400,
        },
      },
      {
        seed: 'compute',
        name: 'Compute',
        symbol: 'GPU',
        category: 'compute',
        rewardMint: mint,
        locationResolution: 5,
        oracles: oracles.slice(0, 1),
        threshold: 1,
        oracleChangeDelaySecs: 3_600,
        metadataUriBase: 'https://example.org/gpus/',
        payments: {
          creditsDecimals: 0,
          creditUsdMicros: 10,
          maxPriceAgeSecs: 3_600,
          orderFeeBps: 500,
          poolShareBps: 0,
          withdrawalNoticeSecs: 0,
        },
      },
    ],
  };
}

test('a config is deployed once: the second run changes nothing and says so', async () => {
  const lines: string[] = [];
  const first = await depinkit.migrate(localnet.rpc, deployer, config(), (l) => lines.push(l));
  assert.deepEqual(
    first.map((s) => [s.subject, s.outcome]),
    [
      ['network wireless', 'created'],
      ['pool wireless', 'created'],
      ['payments wireless', 'created'],
      ['network compute', 'created'],
      ['payments compute', 'created'],
    ],
  );
  assert.equal(lines.length, 5);

  const [wireless] = await depinkit.findNetworkPda(deployer.address, new TextEncoder().encode('wireless'));
  const network = await depinkit.deviceRegistry.fetchNetwork(localnet.rpc, wireless);
  assert.equal(network.data.authority, deployer.address);
  assert.equal(network.data.threshold, 2);
  assert.deepEqual(network.data.oracles, oracles);
  const [poolAddress] = await depinkit.findPoolPda(wireless);
  const pool = await depinkit.rewardPool.fetchPool(localnet.rpc, poolAddress);
  assert.equal(pool.data.epochLengthSecs, 3_600n);
  assert.equal(pool.data.schedule.initialPerEpoch, 1_000_000_000n);
  const [paymentsAddress] = await depinkit.findPaymentsPda(wireless);
  const payments = await depinkit.servicePayments.fetchPaymentsConfig(localnet.rpc, paymentsAddress);
  assert.equal(payments.data.orderFeeBps, 250);
  assert.equal(payments.data.burnMint, mint);

  const lamports = await localnet.balance(deployer.address);
  const second = await depinkit.migrate(localnet.rpc, deployer, config());
  assert.ok(second.every((s) => s.outcome === 'unchanged'), JSON.stringify(second));
  assert.deepEqual(
    second.map((s) => s.address),
    first.map((s) => s.address),
  );
  assert.equal(await localnet.balance(deployer.address), lamports, 'nothing was sent');
});

test('a setting changed in the config is reported and left as it is on chain', async () => {
  const changed = config();
  changed.networks[0].threshold = 3;
  changed.networks[1].payments!.orderFeeBps = 600;
  const steps = await depinkit.migrate(localnet.rpc, deployer, changed);
  const differs = steps.filter((s) => s.outcome === 'differs');
  assert.deepEqual(
    differs.map((s) => [s.subject, s.differences]),
    [
      ['network wireless', ['threshold: on chain 2, config 3']],
      ['payments compute', ['orderFeeBps: on chain 500, config 600']],
    ],
  );
  const [wireless] = await depinkit.findNetworkPda(deployer.address, new TextEncoder().encode('wireless'));
  assert.equal((await depinkit.deviceRegistry.fetchNetwork(localnet.rpc, wireless)).data.threshold, 2);
});

test('a wrong config is refused before anything is sent', async () => {
  const lamports = await localnet.balance(deployer.address);
  const bad = (edit: (c: depinkit.MigrationConfig) => void, message: RegExp) => {
    const c = config();
    c.networks[0].seed = 'never-created';
    edit(c);
    return assert.rejects(depinkit.migrate(localnet.rpc, deployer, c), message);
  };
  await bad((c) => (c.networks[0].category = 'mining' as never), /category must be one of/);
  await bad((c) => (c.networks[0].oracles = ['not-a-key']), /not-a-key is not an address/);
  await bad((c) => (c.networks[1].seed = 'never-created'), /appears twice/);
  await assert.rejects(depinkit.migrate(localnet.rpc, deployer, { networks: [] }), /at least one network/);
  assert.equal(await localnet.balance(deployer.address), lamports);
});

test('a pool the program refuses is reported with its error, the network before it kept', async () => {
  const c = config();
  c.networks = [{ ...c.networks[0], seed: 'slow-oracles', oracleChangeDelaySecs: 3_600 }];
  c.networks[0].pool!.epochLengthSecs = 86_400;
  await assert.rejects(depinkit.migrate(localnet.rpc, deployer, c), /program error \d+/);
  const again = await depinkit.migrate(localnet.rpc, deployer, {
    networks: [{ ...c.networks[0], pool: undefined, payments: undefined }],
  });
  assert.deepEqual(
    again.map((s) => [s.subject, s.outcome]),
    [['network slow-oracles', 'unchanged']],
  );
});
