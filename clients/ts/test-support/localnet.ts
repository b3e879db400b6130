// A localnet of our own per test file: `depin localnet` (built by `cargo test
// --workspace`, or named by DEPIN_BIN) on free ports, its funded wallet, and a
// way to send transactions and see program errors by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Address,
  address,
  type Instruction,
  type KeyPairSigner,
  type Rpc,
  type RpcSubscriptions,
  type SolanaRpcApi,
  type SolanaRpcSubscriptionsApi,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  generateKeyPairSigner,
  lamports,
  airdropFactory,
} from '@solana/kit';
import { chainTime, sendAndConfirm } from '../src/send';

/** A binary of the workspace (`depin`, `depin-oracle`, `depin-device`) from the cargo target dir's debug build. */
export function workspaceBinary(name: string): string {
  const target = process.env.CARGO_TARGET_DIR ?? join(__dirname, '..', '..', '..', '..', 'target');
  return join(target, 'debug', name);
}

/** Token-2022, which holds the device NFTs. */
export const TOKEN_2022 = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');

/** The `depin` binary: DEPIN_BIN, else the cargo target dir's debug build. */
export function depinBinary(): string {
  return process.env.DEPIN_BIN ?? workspaceBinary('depin');
}

/** A TCP port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A running localnet. */
export class Localnet {
  private constructor(
    private readonly child: ChildProcess,
    readonly rpcUrl: string,
    readonly rpc: Rpc<SolanaRpcApi>,
    readonly subscriptions: RpcSubscriptions<SolanaRpcSubscriptionsApi>,
    /** The wallet the localnet funded. */
    readonly payer: KeyPairSigner,
    /** Its keypair file (the Solana CLI's format). */
    readonly payerFile: string,
  ) {}

  /** Starts one on free ports (the websocket on the next) and waits for it. */
  static async start(): Promise<Localnet> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'depinkit-ts-'));
    const keypair = join(dir, 'payer.json');
    const child = spawn(
      depinBinary(),
      ['localnet', '--bind', `127.0.0.1:${port}`, '--keypair', keypair],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the localnet did not start:\n${output}`)), 60_000);
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the localnet exited (${code}):\n${output}`));
      });
      child.on('error', reject);
    });
    await ready;
    const payer = await createKeyPairSignerFromBytes(
      Uint8Array.from(JSON.parse(readFileSync(keypair, 'utf8'))),
    );
    const rpcUrl = `http://127.0.0.1:${port}`;
    return new Localnet(
      child,
      rpcUrl,
      createSolanaRpc(rpcUrl),
      createSolanaRpcSubscriptions(`ws://127.0.0.1:${port + 1}`),
      payer,
      keypair,
    );
  }

  /** Stops it. */
  stop(): void {
    this.child.kill('SIGTERM');
  }

  /** A new wallet with `sol` SOL. */
  async funded(sol = 10n): Promise<KeyPairSigner> {
    const wallet = await generateKeyPairSigner();
    await airdropFactory({ rpc: this.rpc, rpcSubscriptions: this.subscriptions })({
      recipientAddress: wallet.address,
      lamports: lamports(sol * 1_000_000_000n),
      commitment: 'confirmed',
    });
    return wallet;
  }

  /** Sends `instructions` paid by `feePayer` (signers found in the instructions); its signature. */
  send(feePayer: KeyPairSigner, instructions: Instruction[]): Promise<string> {
    return sendAndConfirm(this.rpc, feePayer, instructions);
  }

  /** Moves the chain's clock to `unixSeconds` (surfpool's `surfnet_timeTravel`). */
  async timeTravel(unixSeconds: bigint): Promise<void> {
    const response = await fetch(this.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'surfnet_timeTravel',
        params: [{ absoluteTimestamp: Number(unixSeconds * 1000n) }],
      }),
    });
    const body = (await response.json()) as { error?: unknown };
    if (body.error) throw new Error(`time travel: ${JSON.stringify(body.error)}`);
  }

  /** The chain's clock, unix seconds. */
  now(): Promise<bigint> {
    return chainTime(this.rpc);
  }

  /** The lamports `address` holds. */
  async balance(address: Address): Promise<bigint> {
    return (await this.rpc.getBalance(address).send()).value;
  }
}
