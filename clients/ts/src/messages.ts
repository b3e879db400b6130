/**
 * The messages a device signs with its ed25519 key, byte for byte as
 * `programs/device-registry/src/messages.rs` defines them: a 32-byte domain tag,
 * then the SHA-256 of the fields (little-endian, in order). The program rebuilds
 * these bytes and compares them with what the Ed25519 instruction verified.
 */
import { type Address, getAddressEncoder, getI64Encoder, getU32Encoder, getU64Encoder } from '@solana/kit';
import { DEVICE_REGISTRY_PROGRAM_ADDRESS } from './generated/deviceRegistry/programs';
import { sha256 } from './hash';

/** Length of every signed message: the domain tag and the digest. */
export const SIGNED_MESSAGE_LEN = 64;

/** Domain tag of the onboarding proof. */
export const ONBOARD_DEVICE_DOMAIN = new TextEncoder().encode('depinkit/device-registry/onboard');

/** Domain tag of the location proof (31 characters and a zero byte). */
export const ASSERT_LOCATION_DOMAIN = new Uint8Array(32);
ASSERT_LOCATION_DOMAIN.set(new TextEncoder().encode('depinkit/device-registry/locate'));

const key = (address: Address) => new Uint8Array(getAddressEncoder().encode(address));

async function signed(domain: Uint8Array, fields: Uint8Array[]): Promise<Uint8Array> {
  const message = new Uint8Array(SIGNED_MESSAGE_LEN);
  message.set(domain, 0);
  message.set(await sha256(...fields), 32);
  return message;
}

/** What a device signs to be onboarded to `network` and held by `owner`. */
export interface OnboardDeviceMessage {
  network: Address;
  /** The wallet that will hold the device NFT. */
  owner: Address;
  /** The device's own key (the signer). */
  deviceKey: Address;
  /** The issuing key of the device's maker, which co-signs the onboarding. */
  issuingKey: Address;
  /** H3 cell, or 0n for none. */
  location: bigint;
  /** Unix time after which the signature is refused. */
  expiresAt: bigint;
  /** The device-registry program (its deployed address by default). */
  programId?: Address;
}

/** The 64 bytes a device signs to be onboarded. */
export const onboardDeviceMessage = (m: OnboardDeviceMessage): Promise<Uint8Array> =>
  signed(ONBOARD_DEVICE_DOMAIN, [
    key(m.programId ?? DEVICE_REGISTRY_PROGRAM_ADDRESS),
    key(m.network),
    key(m.owner),
    key(m.deviceKey),
    key(m.issuingKey),
    new Uint8Array(getU64Encoder().encode(m.location)),
    new Uint8Array(getI64Encoder().encode(m.expiresAt)),
  ]);

/** What a device signs to move to `location`, asked by its NFT's `holder`. */
export interface AssertLocationMessage {
  network: Address;
  deviceKey: Address;
  /** The wallet holding the device NFT, which submits the assertion. */
  holder: Address;
  /** The new H3 cell. */
  location: bigint;
  /** The device's `locationAssertCount` when signing: each signature is used once. */
  nonce: number;
  /** Unix time after which the signature is refused. */
  expiresAt: bigint;
  /** The device-registry program (its deployed address by default). */
  programId?: Address;
}

/** The 64 bytes a device signs to move. */
export const assertLocationMessage = (m: AssertLocationMessage): Promise<Uint8Array> =>
  signed(ASSERT_LOCATION_DOMAIN, [
    key(m.programId ?? DEVICE_REGISTRY_PROGRAM_ADDRESS),
    key(m.network),
    key(m.deviceKey),
    key(m.holder),
    new Uint8Array(getU64Encoder().encode(m.location)),
    new Uint8Array(getU32Encoder().encode(m.nonce)),
    new Uint8Array(getI64Encoder().encode(m.expiresAt)),
  ]);
