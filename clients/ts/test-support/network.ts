// A network made from TypeScript alone for the tests: its reward mint (SPL
// Token, 6 decimals, minted by the authority), the network with no fees, and
// an approved maker.
import { type Address, type KeyPairSigner, generateKeyPairSigner } from '@solana/kit';
import { getCreateAccountInstruction } from '@solana-program/system';
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstructionAsync,
  getInitializeMintInstruction,
  getMintSize,
  getMintToInstruction,
} from '@solana-program/token';
import * as depinkit from '../src';
import { type Localnet } from './localnet';

const { deviceRegistry } = depinkit;

/** A network the tests made. */
export interface TestNetwork {
  /** Its authority: creates it, approves makers, mints the reward token. */
  authority: KeyPairSigner;
  /** Its reward mint (SPL Token, 6 decimals). */
  mint: Address;
  network: Address;
  /** The approved maker's issuing key. */
  issuing: KeyPairSigner;
}

/** The event authority of `program`, with the program: the two accounts every event-emitting instruction takes. */
export async function events(program: Address): Promise<{ eventAuthority: Address; program: Address }> {
  const [eventAuthority] = await depinkit.findEventAuthorityPda(program);
  return { eventAuthority, program };
}

/** A new SPL Token mint (6 decimals) whose mint authority is `authority`. */
export async function createMint(localnet: Localnet, authority: KeyPairSigner): Promise<Address> {
  const mint = await generateKeyPairSigner();
  const space = BigInt(getMintSize());
  const rent = await localnet.rpc.getMinimumBalanceForRentExemption(space).send();
  await localnet.send(authority, [
    getCreateAccountInstruction({
      payer: authority,
      newAccount: mint,
      lamports: rent,
      space,
      programAddress: TOKEN_PROGRAM_ADDRESS,
    }),
    getInitializeMintInstruction({ mint: mint.address, decimals: 6, mintAuthority: authority.address }),
  ]);
  return mint.address;
}

/** Creates a network of `category` named by `seed`, with an approved maker. */
export async function createNetwork(
  localnet: Localnet,
  seed: string,
  category: depinkit.deviceRegistry.Category,
): Promise<TestNetwork> {
  const authority = await localnet.funded();
  const issuing = await generateKeyPairSigner();
  const registry = await events(deviceRegistry.DEVICE_REGISTRY_PROGRAM_ADDRESS);

  const mint = { address: await createMint(localnet, authority) };

  const seedBytes = new TextEncoder().encode(seed);
  const [network] = await depinkit.findNetworkPda(authority.address, seedBytes);
  const noFee = { mint: mint.address, amount: 0n };
  await localnet.send(authority, [
    deviceRegistry.getCreateNetworkInstruction({
      creator: authority,
      network,
      rewardMint: mint.address,
      ...registry,
      seed: seedBytes,
      name: seed,
      symbol: 'TS',
      category,
      treasury: authority.address,
      onboardingFee: noFee,
      locationFee: noFee,
      locationResolution: 8,
      oracles: [(await generateKeyPairSigner()).address],
      threshold: 1,
      oracleChangeDelaySecs: 3_600n,
      metadataUriBase: 'https://example.org/devices/',
    }),
  ]);
  const [maker] = await depinkit.findMakerPda(network, issuing.address);
  await localnet.send(authority, [
    await deviceRegistry.getRegisterMakerInstructionAsync({
      payer: authority,
      issuingKey: issuing,
      network,
      ...registry,
      name: `${seed} maker`,
    }),
    deviceRegistry.getSetMakerStatusInstruction({
      authority,
      network,
      maker,
      ...registry,
      status: deviceRegistry.MakerStatus.Approved,
    }),
  ]);
  return { authority, mint: mint.address, network, issuing };
}

/** `owner`'s token account of the network's reward mint, created, holding `amount` more. */
export async function fund(localnet: Localnet, net: TestNetwork, owner: Address, amount: bigint): Promise<Address> {
  const [account] = await findAssociatedTokenPda({ owner, mint: net.mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  await localnet.send(net.authority, [
    await getCreateAssociatedTokenIdempotentInstructionAsync({
      payer: net.authority,
      owner,
      mint: net.mint,
    }),
    getMintToInstruction({ mint: net.mint, token: account, mintAuthority: net.authority, amount }),
  ]);
  return account;
}

/** The base units `account` holds (0 when it does not exist). */
export async function tokenBalance(localnet: Localnet, account: Address): Promise<bigint> {
  try {
    return BigInt((await localnet.rpc.getTokenAccountBalance(account).send()).value.amount);
  } catch {
    return 0n;
  }
}
