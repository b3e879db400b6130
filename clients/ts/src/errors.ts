/**
 * The program error a failed send or simulation carries. @solana/kit wraps it
 * in a chain of `SolanaError`s (the transaction, the instruction, then the
 * custom code); compare the code with a generated constant such as
 * `deviceRegistry.DEVICE_REGISTRY_ERROR__DEVICE_ALREADY_ONBOARDED`.
 */
import { isSolanaError } from '@solana/kit';

/** The custom program error code anywhere in `error`'s cause chain, if any. */
export function customErrorCode(error: unknown): number | undefined {
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 16; depth++) {
    if (isSolanaError(cause)) {
      const code = (cause.context as { code?: unknown }).code;
      if (typeof code === 'number') return code;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
