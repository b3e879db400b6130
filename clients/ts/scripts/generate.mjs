// Regenerates src/generated/<program>/ from the committed IDLs (clients/idl) with
// Codama, for @solana/kit. `npm run generate`; `scripts/check-ts-client` fails when
// the committed output is stale.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';
import { visit } from '@codama/visitors-core';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const idlDir = join(packageDir, '..', 'idl');

// One folder per program, named as the TypeScript side names it.
const PROGRAMS = {
  device_registry: 'deviceRegistry',
  reward_pool: 'rewardPool',
  service_payments: 'servicePayments',
};

for (const [idlName, folder] of Object.entries(PROGRAMS)) {
  const idl = JSON.parse(readFileSync(join(idlDir, `${idlName}.json`), 'utf8'));
  await visit(
    rootNodeFromAnchor(idl),
    renderVisitor(join(packageDir, 'src', 'generated', folder)),
  );
  console.log(`${idlName}.json -> src/generated/${folder}`);
}
