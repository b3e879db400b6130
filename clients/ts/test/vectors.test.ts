// The Rust side's bytes (test/vectors.json, written by
// clients/sdk/tests/ts_vectors.rs) reproduced here: both languages agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, address, createKeyPairFromPrivateKeyBytes } from '@solana/kit';
import * as depinkit from '../src';

const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'vectors.json'), 'utf8'));
const a = (text: string): Address => address(text);

test('the generated clients name the programs the Rust side deploys', () => {
  assert.equal(depinkit.deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS, vectors.programs.deviceRegistry);
  assert.equal(depinkit.rewardPool.REWARD_POOL_PROGRAM_ADDRESS, vectors.programs.rewardPool);
  assert.equal(
    depinkit.servicePayments.SERVICE_PAYMENTS_PROGRAM_ADDRESS,
    vectors.programs.servicePayments,
  );
});

test('every PDA is where the programs put it', async () => {
  const derive: Record<string, (s: any) => Promise<readonly [Address, number]>> = {
    network: (s) => depinkit.findNetworkPda(a(s.creator), depinkit.fromHex(s.seed)),
    maker: (s) => depinkit.findMakerPda(a(s.network), a(s.issuingKey)),
    device: (s) => depinkit.findDevicePda(a(s.network), a(s.deviceKey)),
    deviceMint: (s) => depinkit.findDeviceMintPda(a(s.network), a(s.deviceKey)),
    pool: (s) => depinkit.findPoolPda(a(s.network)),
    claimRecord: (s) => depinkit.findClaimRecordPda(a(s.pool), a(s.deviceMint)),
    payments: (s) => depinkit.findPaymentsPda(a(s.network)),
    creditsMint: (s) => depinkit.findCreditsMintPda(a(s.network)),
    usageEscrow: (s) => depinkit.findUsageEscrowPda(a(s.network), a(s.customer)),
    usageReport: (s) => depinkit.findUsageReportPda(a(s.escrow), s.epoch),
    epochUsage: (s) => depinkit.findEpochUsagePda(a(s.network), s.epoch),
    order: (s) => depinkit.findOrderPda(a(s.network), a(s.customer), BigInt(s.orderId)),
  };
  assert.deepEqual(Object.keys(derive).sort(), vectors.pdas.map((p: any) => p.name).sort());
  for (const pda of vectors.pdas) {
    const [found, bump] = await derive[pda.name](pda.seeds);
    assert.equal(found, pda.address, pda.name);
    assert.equal(bump, pda.bump, pda.name);
  }
  // The generated helper for a PDA the IDL names agrees too.
  const maker = vectors.pdas.find((p: any) => p.name === 'maker');
  const [generated] = await depinkit.deviceRegistry.findMakerPda({
    network: a(maker.seeds.network),
    issuingKey: a(maker.seeds.issuingKey),
  });
  assert.equal(generated, maker.address);
});

test('the messages a device signs are the bytes the registry rebuilds', async () => {
  const o = vectors.onboard;
  const onboard = await depinkit.onboardDeviceMessage({
    network: a(o.network),
    owner: a(o.owner),
    deviceKey: a(o.deviceKey),
    issuingKey: a(o.issuingKey),
    location: BigInt(o.location),
    expiresAt: BigInt(o.expiresAt),
  });
  assert.equal(depinkit.toHex(onboard), o.message);
  const m = vectors.assertLocation;
  const relocate = await depinkit.assertLocationMessage({
    network: a(m.network),
    deviceKey: a(m.deviceKey),
    holder: a(m.holder),
    location: BigInt(m.location),
    nonce: m.nonce,
    expiresAt: BigInt(m.expiresAt),
  });
  assert.equal(depinkit.toHex(relocate), m.message);
  // Any field changed changes the bytes.
  const moved = await depinkit.assertLocationMessage({
    network: a(m.network),
    deviceKey: a(m.deviceKey),
    holder: a(m.holder),
    location: BigInt(m.location),
    nonce: m.nonce + 1,
    expiresAt: BigInt(m.expiresAt),
  });
  assert.notEqual(depinkit.toHex(moved), m.message);
});

test('the Ed25519 proof instruction is the layout the registry checks', async () => {
  const e = vectors.ed25519;
  const message = depinkit.fromHex(e.message);
  const built = depinkit.deviceProofInstruction(a(e.publicKey), depinkit.fromHex(e.signature), message);
  assert.equal(built.programAddress, e.programId);
  assert.equal(depinkit.toHex(built.data as Uint8Array), e.data);
  // Signed here with the same seed: the same signature (ed25519 is deterministic).
  const device = await createKeyPairFromPrivateKeyBytes(depinkit.fromHex(e.deviceSeed));
  const signed = await depinkit.signDeviceProof(device, a(e.publicKey), message);
  assert.equal(depinkit.toHex(signed.data as Uint8Array), e.data);
  assert.throws(() => depinkit.deviceProofInstruction(a(e.publicKey), new Uint8Array(63), message));
});

test('leaves, nodes and proofs hash as the reward pool verifies them', async () => {
  const m = vectors.merkle;
  for (const leaf of m.leaves) {
    assert.equal(
      depinkit.toHex(await depinkit.leafHash(a(leaf.deviceMint), BigInt(leaf.amount))),
      leaf.hash,
    );
  }
  const [x, y] = [depinkit.fromHex(m.node.a), depinkit.fromHex(m.node.b)];
  assert.equal(depinkit.toHex(await depinkit.nodeHash(x, y)), m.node.hash);
  assert.equal(depinkit.toHex(await depinkit.nodeHash(y, x)), m.node.hash, 'children sorted');

  const file = depinkit.parseExact<depinkit.ProofFile>(JSON.stringify(m.proofFile));
  assert.equal(file.claims.length, 5);
  for (const entry of file.claims) {
    const claim = await depinkit.claimOf(file, a(entry.device_mint));
    assert.equal(claim.cumulativeAmount, BigInt(entry.cumulative_amount));
  }
  // A wrong amount, a wrong sibling or a foreign device is refused.
  const tampered = structuredClone(file);
  tampered.claims[0].cumulative_amount = BigInt(tampered.claims[0].cumulative_amount) + 1n + '';
  await assert.rejects(depinkit.claimOf(tampered, a(file.claims[0].device_mint)), /does not lead/);
  const swapped = structuredClone(file);
  swapped.claims[1].proof[0] = '00'.repeat(32);
  await assert.rejects(depinkit.claimOf(swapped, a(file.claims[1].device_mint)), /does not lead/);
  await assert.rejects(depinkit.claimOf(file, a(vectors.onboard.owner)), /no entry/);
  const long = Array.from({ length: depinkit.MAX_PROOF_LEN + 1 }, () => new Uint8Array(32));
  assert.equal(await depinkit.verifyProof(long, new Uint8Array(32), new Uint8Array(32)), false);
});

test('amounts past 2^53 survive the oracle JSON', () => {
  const parsed = depinkit.parseExact<{ total: string; claims: { cumulative_amount: string }[] }>(
    '{"total": 18446744073709551615, "claims": [{"cumulative_amount": 9007199254740993}]}',
  );
  assert.equal(BigInt(parsed.total), 18446744073709551615n);
  assert.equal(BigInt(parsed.claims[0].cumulative_amount), 9007199254740993n);
});
