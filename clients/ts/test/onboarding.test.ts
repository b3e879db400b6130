// Onboarding a device from TypeScript on a localnet: a network and an approved
// maker, then the device's own signature over the onboarding message, proven by
// the Ed25519 instruction; the device account and its NFT read back. The
// attacks the registry refuses are refused here too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Address,
  type Instruction,
  type KeyPairSigner,
  generateKeyPair,
  generateKeyPairSigner,
  getAddressFromPublicKey,
} from '@solana/kit';
import { findAssociatedTokenPda } from '@solana-program/token';
import * as depinkit from '../src';
import { Localnet, TOKEN_2022 } from '../test-support/localnet';
import { type TestNetwork, createNetwork, events } from '../test-support/network';

const { deviceRegistry } = depinkit;
const REGISTRY = deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS;

let localnet: Localnet;
let net: TestNetwork;
let network: Address;
let issuing: KeyPairSigner;
let eventAuthority: Address;

before(async () => {
  localnet = await Localnet.start();
  net = await createNetwork(localnet, 'ts-wireless', deviceRegistry.Category.Wireless);
  ({ network, issuing } = net);
  ({ eventAuthority } = await events(REGISTRY));
});

after(() => localnet?.stop());

/** A device: its key pair (what it signs with) and its key as an address. */
async function newDevice(): Promise<{ keys: CryptoKeyPair; key: Address }> {
  const keys = await generateKeyPair();
  return { keys, key: await getAddressFromPublicKey(keys.publicKey) };
}

/** The onboarding of `device` to `owner`: its proof, then the registry instruction. */
async function onboarding(
  owner: KeyPairSigner,
  device: { keys: CryptoKeyPair; key: Address },
  options: { signedFor?: Address; expiresAt?: bigint; location?: bigint } = {},
): Promise<{ instructions: Instruction[]; deviceAccount: Address; mint: Address; nft: Address }> {
  const [deviceAccount] = await depinkit.findDevicePda(network, device.key);
  const [mint] = await depinkit.findDeviceMintPda(network, device.key);
  const [nft] = await findAssociatedTokenPda({ owner: owner.address, mint, tokenProgram: TOKEN_2022 });
  const location = options.location ?? 0x882a1072b5fffffn;
  const expiresAt = options.expiresAt ?? BigInt(Math.floor(Date.now() / 1000) + 600);
  const message = await depinkit.onboardDeviceMessage({
    network,
    owner: options.signedFor ?? owner.address,
    deviceKey: device.key,
    issuingKey: issuing.address,
    location,
    expiresAt,
  });
  const proof = await depinkit.signDeviceProof(device.keys, device.key, message);
  const onboard = await deviceRegistry.getOnboardDeviceInstructionAsync({
    owner,
    issuingKey: issuing,
    network,
    device: deviceAccount,
    mint,
    ownerNftAccount: nft,
    eventAuthority,
    program: REGISTRY,
    deviceKey: device.key,
    location,
    expiresAt,
    maxFee: 0n,
  });
  return { instructions: [proof, onboard], deviceAccount, mint, nft };
}

/** Whether `error` carries the registry error `code`. */
const refusedWith = (code: number) => (error: unknown) => {
  assert.equal(depinkit.customErrorCode(error), code, String(error));
  return true;
};

test('a device onboarded with its own proof holds its NFT and reads back', async () => {
  const owner = await localnet.funded();
  const device = await newDevice();
  const { instructions, deviceAccount, mint, nft } = await onboarding(owner, device);
  await localnet.send(owner, instructions);

  const account = await deviceRegistry.fetchDevice(localnet.rpc, deviceAccount);
  assert.equal(account.data.deviceKey, device.key);
  assert.equal(account.data.network, network);
  assert.equal(account.data.mint, mint);
  assert.equal(account.data.location, 0x882a1072b5fffffn);
  assert.equal(account.data.status, deviceRegistry.DeviceStatus.Active);
  const held = await localnet.rpc.getTokenAccountBalance(nft).send();
  assert.equal(held.value.amount, '1');

  // The same device again: refused, nothing changes.
  const again = await onboarding(owner, device);
  await assert.rejects(
    localnet.send(owner, again.instructions),
    refusedWith(deviceRegistry.DEVICE_REGISTRY_ERROR__DEVICE_ALREADY_ONBOARDED),
  );
});

test('a proof signed for another owner, or expired, is refused and onboards nothing', async () => {
  const owner = await localnet.funded();
  const thief = await localnet.funded();
  const device = await newDevice();
  // The device signed for `owner`; `thief` sends it.
  const stolen = await onboarding(thief, device, { signedFor: owner.address });
  await assert.rejects(
    localnet.send(thief, stolen.instructions),
    refusedWith(deviceRegistry.DEVICE_REGISTRY_ERROR__WRONG_DEVICE_MESSAGE),
  );
  const expired = await onboarding(owner, device, { expiresAt: 1n });
  await assert.rejects(
    localnet.send(owner, expired.instructions),
    refusedWith(deviceRegistry.DEVICE_REGISTRY_ERROR__MESSAGE_EXPIRED),
  );
  const nothing = await deviceRegistry.fetchMaybeDevice(localnet.rpc, stolen.deviceAccount);
  assert.equal(nothing.exists, false);
});
