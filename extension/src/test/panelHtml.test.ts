import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPanel } from '../panel/panelHtml';
import { PrivacyStatus } from '../status/privacyStatus';
import { RequestHistory } from '../status/requestHistory';

const status: PrivacyStatus = { mode: 'split', epsilon: 13, exposureUsed: 8500, exposureLimit: 10_000, keyLabel: 'demo', demo: true, keyAgeDays: 2 };

test('shows status, exposure, ledger, requests, keys and the actions', () => {
  const h = new RequestHistory();
  h.add({ ...status, last: { tokens: 12, bytes: 3072, milliseconds: 40, source: 'model' } });
  const html = renderPanel({ status, paused: false, mode: 'split', history: h.list(), ledger: [{ day: '2026-11-23', key: 'none', tokens: 120, bytes: 30_720, requests: 4 }] }, 'N0NCE', 'vscode-resource:');
  assert.match(html, /85%/);
  assert.match(html, /class="fill warn"/);
  assert.match(html, /<td>2026-11-23<\/td><td>none<\/td><td>120<\/td><td>30\.0 KiB<\/td><td>4<\/td>/);
  assert.match(html, /<td>model<\/td><td>12<\/td><td>3\.0 KiB<\/td><td>40 ms<\/td>/);
  assert.match(html, /Demo keys/);
  for (const action of ['togglePause', 'switchMode', 'rotateKeys']) assert.match(html, new RegExp(`data-action="${action}"`));
  assert.match(html, /script-src 'nonce-N0NCE'/);
});

test('text from the sidecar is escaped', () => {
  const html = renderPanel({ status: { ...status, detail: '<img src=x onerror=alert(1)>' }, paused: false, mode: 'split', history: [], ledgerError: '<b>' }, 'n', 'c');
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x/);
});

test('without a budget or requests it says so', () => {
  const html = renderPanel({ status: { mode: 'offline', exposureUsed: 0, keyLabel: 'none', demo: false }, paused: true, mode: 'local', history: [], ledger: [] }, 'n', 'c');
  assert.match(html, /no budget set/);
  assert.match(html, /No requests yet/);
  assert.match(html, /Nothing has left this machine yet/);
  assert.match(html, /Resume completions/);
  assert.match(html, /Switch mode \(now local\)/, 'the configured mode, not the status');
});
