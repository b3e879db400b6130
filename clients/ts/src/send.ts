/**
 * Sending a transaction and reading the chain's clock over plain JSON-RPC (no
 * websocket, so any RPC endpoint serves): what the migration and the tests use.
 */
import {
  type Instruction,
  type KeyPairSigner,
  type Rpc,
  type SolanaRpcApi,
  appendTransactionMessageInstructions,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import { customErrorCode } from './errors';

/**
 * Sends `instructions` paid and signed by `payer` (and the signers the
 * instructions carry), and waits for confirmation; a refusal in simulation is
 * thrown with the program's error code and last log lines, the RPC's error as
 * its cause (so {@link customErrorCode} finds the code).
 */
export async function sendAndConfirm(
  rpc: Rpc<SolanaRpcApi>,
  payer: KeyPairSigner,
  instructions: Instruction[],
  timeoutMs = 60_000,
): Promise<string> {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const signed = await signTransactionMessageWithSigners(message);
  const signature = getSignatureFromTransaction(signed);
  try {
    await rpc
      .sendTransaction(getBase64EncodedWireTransaction(signed), {
        encoding: 'base64',
        preflightCommitment: 'confirmed',
      })
      .send();
  } catch (e) {
    // A refusal in simulation: say which program error, with the program's last words.
    const logs = ((e as { context?: { logs?: string[] } }).context?.logs ?? []).slice(-3);
    const code = customErrorCode(e);
    throw new Error(
      `${(e as Error).message}${code === undefined ? '' : ` (program error ${code})`}${
        logs.length ? `: ${logs.join(' | ')}` : ''
      }`,
      { cause: e },
    );
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const status = value[0];
    if (status?.err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(status.err)}`);
    if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') {
      return signature;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`transaction ${signature} not confirmed in ${timeoutMs / 1000} s`);
}

/** The chain's clock, unix seconds (the latest confirmed block's time). */
export async function chainTime(rpc: Rpc<SolanaRpcApi>): Promise<bigint> {
  const slot = await rpc.getSlot({ commitment: 'confirmed' }).send();
  const time = await rpc.getBlockTime(slot).send();
  return time === null ? BigInt(Math.floor(Date.now() / 1000)) : BigInt(time);
}
