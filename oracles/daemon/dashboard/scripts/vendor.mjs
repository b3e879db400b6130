// Copies the map libraries the dashboard uses from node_modules (pinned by
// package-lock.json) into assets/vendor, which the oracle embeds and serves
// itself: no CDN, works offline. `npm run vendor -- --check` fails when the
// committed copies differ from the locked packages.
import { copyFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = {
  'maplibre-gl.js': 'maplibre-gl/dist/maplibre-gl.js',
  'maplibre-gl.css': 'maplibre-gl/dist/maplibre-gl.css',
  'maplibre-gl.LICENSE.txt': 'maplibre-gl/LICENSE.txt',
  'h3-js.umd.js': 'h3-js/dist/h3-js.umd.js',
  'h3-js.LICENSE': 'h3-js/LICENSE',
};
const check = process.argv.includes('--check');
let stale = 0;
for (const [name, from] of Object.entries(FILES)) {
  const source = join(root, 'node_modules', from);
  const target = join(root, 'assets', 'vendor', name);
  if (check) {
    if (!existsSync(target) || !readFileSync(source).equals(readFileSync(target))) {
      console.error(`assets/vendor/${name} differs from node_modules/${from}`);
      stale++;
    }
  } else {
    copyFileSync(source, target);
    console.log(`assets/vendor/${name}`);
  }
}
if (stale) {
  console.error('run `npm run vendor` in oracles/daemon/dashboard and commit assets/vendor');
  process.exit(1);
}
