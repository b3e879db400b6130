/**
 * The Ed25519 program instruction that proves a device signed a message, in the
 * one layout the registry accepts (one signature, every offset inside this
 * instruction's own data): 16 bytes of header and offsets, the public key, the
 * signature, the message. Place it right before the registry instruction.
 */
import {
  type Address,
  type Instruction,
  address,
  getAddressEncoder,
  getU16Encoder,
  signBytes,
} from '@solana/kit';

/** The Ed25519 signature-verify program. */
export const ED25519_PROGRAM_ADDRESS = address('Ed25519SigVerify111111111111111111111111111');

/** Offsets inside the instruction's data: header (2) + offsets (14) first. */
const PUBLIC_KEY_OFFSET = 16;
const SIGNATURE_OFFSET = PUBLIC_KEY_OFFSET + 32;
const MESSAGE_OFFSET = SIGNATURE_OFFSET + 64;
/** "This instruction": the index every offset refers to. */
const THIS_INSTRUCTION = 0xffff;

/** The proof that `deviceKey` signed `message` with `signature` (64 bytes). */
export function deviceProofInstruction(
  deviceKey: Address,
  signature: Uint8Array,
  message: Uint8Array,
): Instruction {
  if (signature.length !== 64) {
    throw new Error(`an ed25519 signature is 64 bytes, not ${signature.length}`);
  }
  if (message.length > 0xffff - MESSAGE_OFFSET) {
    throw new Error('message too long for an Ed25519 instruction');
  }
  const u16 = (value: number) => new Uint8Array(getU16Encoder().encode(value));
  const data = new Uint8Array(MESSAGE_OFFSET + message.length);
  data.set([1, 0], 0); // one signature, padding
  const offsets = [
    SIGNATURE_OFFSET,
    THIS_INSTRUCTION,
    PUBLIC_KEY_OFFSET,
    THIS_INSTRUCTION,
    MESSAGE_OFFSET,
    message.length,
    THIS_INSTRUCTION,
  ];
  offsets.forEach((value, i) => data.set(u16(value), 2 + 2 * i));
  data.set(getAddressEncoder().encode(deviceKey), PUBLIC_KEY_OFFSET);
  data.set(signature, SIGNATURE_OFFSET);
  data.set(message, MESSAGE_OFFSET);
  return { programAddress: ED25519_PROGRAM_ADDRESS, accounts: [], data };
}

/**
 * Signs `message` with the device's key pair (a WebCrypto Ed25519 key, e.g. from
 * `createKeyPairFromPrivateKeyBytes`) and returns the proof instruction. A device
 * whose key never leaves its hardware signs there and passes the signature to
 * {@link deviceProofInstruction} instead.
 */
export async function signDeviceProof(
  device: CryptoKeyPair,
  deviceKey: Address,
  message: Uint8Array,
): Promise<Instruction> {
  const signature = await signBytes(device.privateKey, message);
  return deviceProofInstruction(deviceKey, new Uint8Array(signature), message);
}
