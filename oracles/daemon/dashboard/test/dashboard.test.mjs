// The dashboard in a real browser: a demo run (`depin demo --keep-running`, the
// binary cargo built), the system's Chromium driven by playwright-core. The map
// draws the wireless network's devices as H3 cells, the epochs show what their
// rules refused, and a device page shows its refused reports with their rule.
// Screenshots go to test-output/ (DASHBOARD_SCREENSHOTS names another folder).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..', '..');
const depin =
  process.env.DEPIN_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'depin');
const shots = process.env.DASHBOARD_SCREENSHOTS ?? join(here, '..', 'test-output');

let demo;
let browser;
let oracle;

/** Starts a small demo and resolves with the wireless network's first oracle URL. */
function startDemo() {
  return new Promise((resolve, reject) => {
    demo = spawn(depin, ['demo', '--devices', '24', '--epochs', '2', '--keep-running'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the demo did not come up:\n${out}`)), 300_000);
    demo.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/oracle of wireless \(\w+\): (http:\/\/[\d.:]+)/);
      if (found && out.includes('Ctrl-C stops them.')) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    demo.stderr.on('data', () => {});
    demo.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}):\n${out}`));
    });
  });
}

const json = async (path) => {
  const response = await fetch(`${oracle}${path}`);
  assert.equal(response.status, 200, path);
  return response.json();
};

before(async () => {
  mkdirSync(shots, { recursive: true });
  oracle = await startDemo();
  const executablePath = execSync('command -v chromium').toString().trim();
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  // The demo and everything it started (its process group).
  if (demo?.pid) {
    try {
      process.kill(-demo.pid, 'SIGINT');
    } catch {}
  }
});

test('the map draws every located device as its H3 cell, and the epochs their refusals', async () => {
  const { devices, category } = await json('/v1/devices');
  assert.equal(category, 'wireless');
  const located = devices.filter((d) => d.cell).length;
  assert.ok(located > 0, 'the demo places its hotspots');

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  await page.goto(`${oracle}/`);
  await page.waitForSelector(`body[data-map-cells="${located}"]`, { timeout: 60_000 });
  // Cells on screen, as the map rendered them (not only as data).
  const rendered = await page.evaluate(
    () => new Set(map.queryRenderedFeatures({ layers: ['cells'] }).map((f) => f.properties.mint)).size,
  );
  assert.equal(rendered, located);
  // Every device's row, and the epochs with what their rules refused.
  assert.equal(await page.locator('#devices tbody tr').count(), devices.length);
  const { epochs } = await json('/v1/epochs?limit=24');
  assert.equal(await page.locator('#epochs tbody tr').count(), epochs.length);
  const refusing = epochs.find((e) => Object.keys(e.refused).length > 0);
  assert.ok(refusing, 'the demo has cheaters whose reports are refused');
  const [rule, count] = Object.entries(refusing.refused)[0];
  const row = page.locator(`#epochs tr[data-epoch="${refusing.epoch}"]`);
  assert.match(await row.innerText(), new RegExp(`${rule} ${count}`));
  const bars = await page.locator('#rewards-chart svg').getAttribute('data-bars');
  assert.equal(Number(bars), epochs.filter((e) => e.rewards_paid !== undefined).length);
  assert.deepEqual(failed, [], 'every asset is served by the oracle');
  // What the routes refuse, by code.
  for (const [path, status, code] of [
    ['/v1/epochs?limit=0', 400, 'invalid_limit'],
    ['/v1/devices/11111111111111111111111111111111/history', 404, 'unknown_device'],
    ['/v1/devices/not-a-mint/history', 400, 'invalid_mint'],
    ['/dashboard/vendor/app.js', 404, 'unknown_asset'],
  ]) {
    const response = await fetch(`${oracle}${path}`);
    const body = await response.json().catch(() => ({}));
    assert.deepEqual([response.status, body.error], [status, code], path);
  }
  // The viewport only: a full-page capture resizes the page, and the map with it.
  await page.screenshot({ path: join(shots, 'overview.png') });
  await page.close();
});

test("a device page shows the device's refused reports and why", async () => {
  const { devices } = await json('/v1/devices');
  let refused;
  for (const d of devices) {
    const history = await json(`/v1/devices/${d.mint}/history?limit=24`);
    const epoch = history.epochs.find((e) => e.refused > 0);
    if (epoch) {
      refused = { mint: d.mint, epoch: epoch.epoch };
      break;
    }
  }
  assert.ok(refused, 'some device had a report refused');
  const { reports } = await json(`/v1/devices/${refused.mint}/reports?epoch=${refused.epoch}`);
  const expected = reports.filter((r) => r.status === 'refused');

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${oracle}/#/devices/${refused.mint}`);
  await page.waitForSelector('body[data-view="device"]', { timeout: 30_000 });
  assert.match(await page.locator('#device-title').innerText(), new RegExp(refused.mint));
  assert.match(await page.locator('#reports-title').innerText(), new RegExp(`epoch ${refused.epoch}`));
  // Its location history: the cell it is asserted at now, first.
  const history = await json(`/v1/devices/${refused.mint}/history`);
  assert.ok(history.locations.length >= 1, 'the oracle recorded where the device is');
  assert.equal(history.locations[0].cell, history.cell);
  assert.match(await page.locator('#device-locations tbody tr').first().innerText(), new RegExp(history.cell));
  const rows = page.locator('#device-reports tbody tr.refused');
  assert.equal(await rows.count(), expected.length);
  const first = await rows.first().innerText();
  assert.match(first, new RegExp(expected[0].rule));
  await page.screenshot({ path: join(shots, 'device.png'), fullPage: true });

  // Back to the map by its link, and an unknown device says so.
  await page.click('text=the network');
  await page.waitForSelector('body[data-view="overview"]');
  await page.goto(`${oracle}/#/devices/11111111111111111111111111111111`);
  await page.waitForFunction(() => document.getElementById('health').textContent.includes('404'));
  await page.close();
});
