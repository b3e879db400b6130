import { getBase16Decoder, getBase16Encoder } from '@solana/kit';

/** SHA-256 through WebCrypto: the same in Node (>= 20) and in browsers. */
export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', joined));
}

/** Lower-case hex, as proof files and bundles write hashes. */
export const toHex = (bytes: Uint8Array): string => getBase16Decoder().decode(bytes);

/** The bytes of a hex string (any case); throws on anything else. */
export const fromHex = (hex: string): Uint8Array => new Uint8Array(getBase16Encoder().encode(hex));
