// An order from TypeScript on a localnet: payments set up for a network, a
// customer escrows tokens in an order for any device, reads it back, and
// cancels it before any device accepted it, getting every token back. What the
// program refuses is refused here too, and moves nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Address, type KeyPairSigner } from '@solana/kit';
import { TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda } from '@solana-program/token';
import * as depinkit from '../src';
import { Localnet } from '../test-support/localnet';
import { type TestNetwork, createNetwork, events, fund, tokenBalance } from '../test-support/network';

const { deviceRegistry, servicePayments } = depinkit;
const PAYMENTS = servicePayments.SERVICE_PAYMENTS_PROGRAM_ADDRESS;
/** Anchor's own error when an account's `has_one` field names another key. */
const ANCHOR_CONSTRAINT_HAS_ONE = 2001;

let localnet: Localnet;
let net: TestNetwork;
let config: Address;
let customer: KeyPairSigner;
let customerTokens: Address;

before(async () => {
  localnet = await Localnet.start();
  net = await createNetwork(localnet, 'ts-compute', deviceRegistry.Category.Compute);
  [config] = await depinkit.findPaymentsPda(net.network);
  await localnet.send(net.authority, [
    await servicePayments.getInitPaymentsInstructionAsync({
      authority: net.authority,
      network: net.network,
      burnMint: net.mint,
      burnTokenProgram: TOKEN_PROGRAM_ADDRESS,
      ...(await events(PAYMENTS)),
      creditsDecimals: 0,
      creditUsdMicros: 10n,
      maxPriceAgeSecs: 3_600n,
      orderFeeBps: 250,
      poolShareBps: 0,
      withdrawalNoticeSecs: 0n,
    }),
  ]);
  customer = await localnet.funded();
  customerTokens = await fund(localnet, net, customer.address, 5_000_000n);
});

after(() => localnet?.stop());

/** `open_order` for `customer`'s order `orderId`, with `overrides` of its terms. */
async function openOrder(
  orderId: bigint,
  overrides: Partial<{ maxAmount: bigint; acceptDeadline: bigint }> = {},
) {
  const now = await localnet.now();
  const [order] = await depinkit.findOrderPda(net.network, customer.address, orderId);
  const [escrow] = await findAssociatedTokenPda({
    owner: order,
    mint: net.mint,
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
  });
  const instruction = await servicePayments.getOpenOrderInstructionAsync({
    customer,
    network: net.network,
    config,
    order,
    paymentMint: net.mint,
    customerPaymentAccount: customerTokens,
    paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
    ...(await events(PAYMENTS)),
    orderId,
    provider: servicePayments.provider('AnyDevice'),
    maxAmount: overrides.maxAmount ?? 1_000_000n,
    acceptDeadline: overrides.acceptDeadline ?? now + 600n,
    serviceDeadline: now + 3_600n,
    specHash: new Uint8Array(32).fill(7),
  });
  return { instruction, order, escrow };
}

/** `cancel_order` of `orderId` sent as `signer` claims to be the customer. */
async function cancelOrder(signer: KeyPairSigner, order: Address, escrow: Address, refundTo: Address) {
  return servicePayments.getCancelOrderInstruction({
    customer: signer,
    order,
    escrow,
    paymentMint: net.mint,
    customerPaymentAccount: refundTo,
    paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
    ...(await events(PAYMENTS)),
  });
}

const refusedWith = (code: number) => (error: unknown) => {
  assert.equal(depinkit.customErrorCode(error), code, String(error));
  return true;
};

test('an order is opened with its escrow, read back, and cancelled for a full refund', async () => {
  const before = await tokenBalance(localnet, customerTokens);
  const { instruction, order, escrow } = await openOrder(1n);
  await localnet.send(customer, [instruction]);

  const opened = await servicePayments.fetchOrder(localnet.rpc, order);
  assert.equal(opened.data.customer, customer.address);
  assert.equal(opened.data.network, net.network);
  assert.equal(opened.data.maxAmount, 1_000_000n);
  assert.equal(opened.data.status, servicePayments.OrderStatus.Open);
  assert.equal(opened.data.escrow, escrow);
  assert.equal(opened.data.feeBps, 250);
  assert.equal(await tokenBalance(localnet, escrow), 1_000_000n);
  assert.equal(await tokenBalance(localnet, customerTokens), before - 1_000_000n);

  // Someone else may not cancel it, even refunding to themselves.
  const thief = await localnet.funded();
  const thiefTokens = await fund(localnet, net, thief.address, 0n);
  await assert.rejects(
    localnet.send(thief, [await cancelOrder(thief, order, escrow, thiefTokens)]),
    refusedWith(ANCHOR_CONSTRAINT_HAS_ONE),
  );
  assert.equal(await tokenBalance(localnet, escrow), 1_000_000n);

  await localnet.send(customer, [await cancelOrder(customer, order, escrow, customerTokens)]);
  assert.equal((await servicePayments.fetchMaybeOrder(localnet.rpc, order)).exists, false);
  assert.equal(await tokenBalance(localnet, customerTokens), before);
  assert.equal(await tokenBalance(localnet, thiefTokens), 0n);
});

test('an order of nothing, or already past its acceptance deadline, is refused', async () => {
  const before = await tokenBalance(localnet, customerTokens);
  const empty = await openOrder(2n, { maxAmount: 0n });
  await assert.rejects(
    localnet.send(customer, [empty.instruction]),
    refusedWith(servicePayments.SERVICE_PAYMENTS_ERROR__ZERO_AMOUNT),
  );
  const late = await openOrder(3n, { acceptDeadline: (await localnet.now()) - 1n });
  await assert.rejects(
    localnet.send(customer, [late.instruction]),
    refusedWith(servicePayments.SERVICE_PAYMENTS_ERROR__INVALID_DEADLINE),
  );
  for (const { order } of [empty, late]) {
    assert.equal((await servicePayments.fetchMaybeOrder(localnet.rpc, order)).exists, false);
  }
  assert.equal(await tokenBalance(localnet, customerTokens), before);
});
