// A claim from TypeScript with the proof a real oracle serves: a network and pool
// made here, two hotspots (keys from `depin-device keygen`) onboarded, the oracle
// daemon (`depin-oracle run`, one point per report) ingesting what
// `depin-device run` sends, the epoch ended by time travel, the root voted and
// finalized; then `GET /v1/devices/{mint}/rewards` read with fetchDeviceRewards,
// its proof checked with claimOf, and the claim sent: the holder is paid exactly
// the leaf's amount, a second claim pays nothing, a raised amount is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Address,
  type KeyPairSigner,
  createKeyPairFromBytes,
  getAddressFromPublicKey,
} from '@solana/kit';
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstructionAsync,
} from '@solana-program/token';
import { latLngToCell } from 'h3-js';
import * as depinkit from '../src';
import { Localnet, TOKEN_2022, freePort, workspaceBinary } from '../test-support/localnet';
import { createMint, events, fund, tokenBalance } from '../test-support/network';

const { deviceRegistry, rewardPool } = depinkit;
const EPOCH_SECS = 20n;
const RESOLUTION = 12;

let localnet: Localnet;
let oracleProcess: ChildProcess | undefined;
let oracleUrl: string;
let owner: KeyPairSigner;
let network: Address;
let pool: Address;
let mint: Address;
const devices: { keys: CryptoKeyPair; key: Address; mint: Address; device: Address; nft: Address }[] = [];

/** Polls `check` every half second until it returns a value, for `seconds`. */
async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

before(async () => {
  localnet = await Localnet.start();
  const dir = mkdtempSync(join(tmpdir(), 'depinkit-claim-'));
  // The oracle's key: the localnet's funded wallet, in its own file.
  const authority = localnet.payer;
  owner = await localnet.funded();
  mint = await createMint(localnet, authority);

  const seed = new TextEncoder().encode('ts-claims');
  [network] = await depinkit.findNetworkPda(authority.address, seed);
  const registry = await events(deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS);
  const noFee = { mint, amount: 0n };
  const start = await localnet.now();
  await localnet.send(authority, [
    deviceRegistry.getCreateNetworkInstruction({
      creator: authority,
      network,
      rewardMint: mint,
      ...registry,
      seed,
      name: 'TS claims',
      symbol: 'TSC',
      category: deviceRegistry.Category.Wireless,
      treasury: authority.address,
      onboardingFee: noFee,
      locationFee: noFee,
      locationResolution: RESOLUTION,
      oracles: [authority.address],
      threshold: 1,
      oracleChangeDelaySecs: 3_600n,
      metadataUriBase: 'https://example.org/hotspots/',
    }),
  ]);
  [pool] = await depinkit.findPoolPda(network);
  const poolEvents = await events(rewardPool.REWARD_POOL_PROGRAM_ADDRESS);
  const [vault] = await findAssociatedTokenPda({ owner: pool, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const funderAccount = await fund(localnet, { authority, mint, network, issuing: authority }, authority.address, 10_000_000n);
  await localnet.send(authority, [
    await rewardPool.getCreatePoolInstructionAsync({
      authority,
      network,
      rewardMint: mint,
      rewardTokenProgram: TOKEN_PROGRAM_ADDRESS,
      ...poolEvents,
      startTime: start,
      epochLengthSecs: EPOCH_SECS,
      schedule: { initialPerEpoch: 1_000_000n, decayIntervalEpochs: 0, retainBps: 10_000 },
    }),
    rewardPool.getFundPoolInstruction({
      funder: authority,
      pool,
      rewardMint: mint,
      funderAccount,
      vault,
      rewardTokenProgram: TOKEN_PROGRAM_ADDRESS,
      ...poolEvents,
      amount: 10_000_000n,
      kind: rewardPool.FundingKind.Emissions,
    }),
  ]);

  // A maker (the authority itself) and two hotspots made by `depin-device keygen`.
  const [maker] = await depinkit.findMakerPda(network, authority.address);
  await localnet.send(authority, [
    await deviceRegistry.getRegisterMakerInstructionAsync({
      payer: authority,
      issuingKey: authority,
      network,
      ...registry,
      name: 'TS hotspots',
    }),
    deviceRegistry.getSetMakerStatusInstruction({
      authority,
      network,
      maker,
      ...registry,
      status: deviceRegistry.MakerStatus.Approved,
    }),
  ]);
  const fleet = join(dir, 'fleet');
  execFileSync(workspaceBinary('depin-device'), [
    'keygen', '--count', '2', '--dir', fleet, '--lat', '48.8566', '--lon', '2.3522',
  ]);
  const rows = readFileSync(join(fleet, 'fleet.csv'), 'utf8').trim().split('\n').slice(1);
  for (const row of rows) {
    const [file, lat, lon] = row.split(',');
    const bytes = Uint8Array.from(JSON.parse(readFileSync(join(fleet, file.split('/').pop()!), 'utf8')));
    const keys = await createKeyPairFromBytes(bytes);
    const key = await getAddressFromPublicKey(keys.publicKey);
    const location = BigInt(`0x${latLngToCell(Number(lat), Number(lon), RESOLUTION)}`);
    const expiresAt = (await localnet.now()) + 600n;
    const [device] = await depinkit.findDevicePda(network, key);
    const [deviceMint] = await depinkit.findDeviceMintPda(network, key);
    const [nft] = await findAssociatedTokenPda({ owner: owner.address, mint: deviceMint, tokenProgram: TOKEN_2022 });
    const message = await depinkit.onboardDeviceMessage({
      network,
      owner: owner.address,
      deviceKey: key,
      issuingKey: authority.address,
      location,
      expiresAt,
    });
    await localnet.send(owner, [
      await depinkit.signDeviceProof(keys, key, message),
      await deviceRegistry.getOnboardDeviceInstructionAsync({
        owner,
        issuingKey: authority,
        network,
        device,
        mint: deviceMint,
        ownerNftAccount: nft,
        ...registry,
        deviceKey: key,
        location,
        expiresAt,
        maxFee: 0n,
      }),
    ]);
    devices.push({ keys, key, mint: deviceMint, device, nft });
  }

  // The oracle daemon, one point per report.
  const port = await freePort();
  oracleUrl = `http://127.0.0.1:${port}`;
  oracleProcess = spawn(
    workspaceBinary('depin-oracle'),
    ['run', '--config', join(__dirname, '..', '..', '..', '..', 'oracles', 'oracle.example.toml')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        DEPIN_ORACLE__CHAIN__RPC_URL: localnet.rpcUrl,
        DEPIN_ORACLE__CHAIN__NETWORK: network,
        DEPIN_ORACLE__CHAIN__KEYPAIR: localnet.payerFile,
        DEPIN_ORACLE__STORE__DATABASE_URL: `sqlite:${join(dir, 'oracle.db')}`,
        DEPIN_ORACLE__INGEST__BIND: `127.0.0.1:${port}`,
        DEPIN_ORACLE__BUNDLES__LOCATION: join(dir, 'bundles'),
        DEPIN_ORACLE__EPOCHS__GRACE_SECS: '1',
        DEPIN_ORACLE__EPOCHS__TICK_SECS: '1',
        DEPIN_ORACLE__RULES__SET: 'report-count',
        DEPIN_ORACLE__CHAIN__REGISTRY_REFRESH_SECS: '1',
        RUST_LOG: 'error',
      },
    },
  );
  await eventually('the oracle', 60, async () => {
    const health = await (await fetch(`${oracleUrl}/health`)).json();
    return health.devices === 2 ? health : undefined;
  });
  // The hotspots report in epoch 0, then the epoch ends.
  execFileSync(workspaceBinary('depin-device'), [
    'run', '--oracle', oracleUrl, '--network', network, '--fleet', join(fleet, 'fleet.csv'),
    '--category', 'wireless', '--rounds', '1',
  ]);
  await localnet.timeTravel(start + EPOCH_SECS + 2n);
});

after(() => {
  oracleProcess?.kill('SIGTERM');
  localnet?.stop();
});

test("a device's reward is claimed with the proof its oracle serves", async () => {
  const { mint: deviceMint, device } = devices[0];
  const file = await eventually('a finalized root with the device', 120, async () => {
    try {
      return await depinkit.fetchDeviceRewards(oracleUrl, deviceMint);
    } catch (e) {
      if (e instanceof depinkit.OracleError) return undefined;
      throw e;
    }
  });
  assert.equal(file.pool, pool);
  const claim = await depinkit.claimOf(file, deviceMint);
  assert.ok(claim.cumulativeAmount > 0n, 'the device earned something');
  const onChain = await rewardPool.fetchPool(localnet.rpc, pool);
  assert.equal(depinkit.toHex(new Uint8Array(onChain.data.root)), file.root, 'the root the chain finalized');

  const [claimRecord] = await depinkit.findClaimRecordPda(pool, deviceMint);
  const [vault] = await findAssociatedTokenPda({ owner: pool, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const [holderNftAccount] = await findAssociatedTokenPda({
    owner: owner.address,
    mint: deviceMint,
    tokenProgram: TOKEN_2022,
  });
  const [holderRewardAccount] = await findAssociatedTokenPda({
    owner: owner.address,
    mint,
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
  });
  const claimInstruction = async (cumulativeAmount: bigint) =>
    rewardPool.getClaimInstruction({
      pool,
      vault,
      rewardMint: mint,
      device,
      holderNftAccount,
      holderRewardAccount,
      claimRecord,
      rewardTokenProgram: TOKEN_PROGRAM_ADDRESS,
      ...(await events(rewardPool.REWARD_POOL_PROGRAM_ADDRESS)),
      cumulativeAmount,
      proof: claim.proof,
    });
  await localnet.send(owner, [
    await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: owner, owner: owner.address, mint }),
    rewardPool.getInitClaimRecordInstruction({ payer: owner, pool, device, claimRecord }),
    await claimInstruction(claim.cumulativeAmount),
  ]);
  assert.equal(await tokenBalance(localnet, holderRewardAccount), claim.cumulativeAmount);

  // Claimed already: a second claim pays nothing more.
  await localnet.send(owner, [await claimInstruction(claim.cumulativeAmount)]);
  assert.equal(await tokenBalance(localnet, holderRewardAccount), claim.cumulativeAmount);
  // A raised amount does not match the root.
  await assert.rejects(localnet.send(owner, [await claimInstruction(claim.cumulativeAmount + 1n)]), (e) => {
    assert.equal(depinkit.customErrorCode(e), rewardPool.REWARD_POOL_ERROR__INVALID_PROOF, String(e));
    return true;
  });
  assert.equal(await tokenBalance(localnet, holderRewardAccount), claim.cumulativeAmount);
});

test('a device that moves is seen at its new cell in its location history', async () => {
  const { keys, key, mint: deviceMint, device, nft } = devices[1];
  const history = async () =>
    (await (await fetch(`${oracleUrl}/v1/devices/${deviceMint}/history`)).json()) as {
      cell: string;
      locations: { cell: string; seen_ms: number }[];
    };
  const before = await eventually('the first cell recorded', 30, async () => {
    const h = await history();
    return h.locations.length === 1 ? h : undefined;
  });
  // The holder moves it 2 km east: the device signs the new cell, the holder sends it.
  const moved = latLngToCell(48.8566, 2.38, RESOLUTION);
  const onChain = await deviceRegistry.fetchDevice(localnet.rpc, device);
  const expiresAt = (await localnet.now()) + 600n;
  const message = await depinkit.assertLocationMessage({
    network,
    deviceKey: key,
    holder: owner.address,
    location: BigInt(`0x${moved}`),
    nonce: onChain.data.locationAssertCount,
    expiresAt,
  });
  await localnet.send(owner, [
    await depinkit.signDeviceProof(keys, key, message),
    deviceRegistry.getAssertLocationInstruction({
      holder: owner,
      network,
      device,
      mint: deviceMint,
      holderNftAccount: nft,
      ...(await events(deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS)),
      location: BigInt(`0x${moved}`),
      expiresAt,
      maxFee: 0n,
    }),
  ]);
  const after = await eventually('the new cell recorded', 30, async () => {
    const h = await history();
    return h.locations.length === 2 ? h : undefined;
  });
  assert.equal(after.cell, moved);
  assert.deepEqual(
    after.locations.map((l) => l.cell),
    [moved, before.locations[0].cell],
  );
  assert.ok(after.locations[0].seen_ms >= after.locations[1].seen_ms);
});
