import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPanel, renderPanelBody } from '../panel/panelHtml';
import { verdict } from '../panel/securityReport';
import { PrivacyStatus } from '../protocol';
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

test('a measured budget: the share, what crossing it means with the curve, and the bounds\' assumption', () => {
  const measured: PrivacyStatus = {
    ...status, exposureUsed: 1200, exposureLimit: 3906, exposureBasis: 'measured', exposurePeriod: 'key', previousKeyTokens: 5100,
    exposureMeaning: 'after 3,906 tokens sent under one key, the strongest measured attack reads 3 % of the content tokens (10 % at 15,977, 50 % at 177,538)',
    exposureCurve: [{ tokens: 1000, contentRecovered: 0.0163 }, { tokens: 3000, contentRecovered: 0.0211 }, { tokens: 10000, contentRecovered: 0.0617 }],
  };
  const html = renderPanel({ status: measured, paused: false, mode: 'split', history: [] }, 'n', 'c');
  assert.match(html, /1\.2k of 3\.9k tokens under this key \(31% of the measured budget/);
  assert.match(html, /What crossing it means<\/b>: after 3,906 tokens sent under one key, the strongest measured attack reads 3 % of the content tokens/);
  assert.match(html, /<td>1\.0k \(passed\)<\/td><td>1\.6 %<\/td>/);
  assert.match(html, /<td>10k<\/td><td>6\.2 %<\/td>/);
  assert.match(html, /Rotating the keys starts a new cipher/);
  assert.match(html, /assume a uniform prior over the vocabulary/);
  assert.match(html, /They are not a guarantee/);
  assert.match(html, /keys these replaced: 5\.1k tokens/);
  assert.ok(html.indexOf('What crossing it means') < html.indexOf('uniform prior'), 'the measured curve before the bounds');
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

test('the security report: verdict, scores per attack, reconstructions escaped and cut', () => {
  const attack = { crt: 0.012, contentCrt: 0.004, bleu: 1.3, rouge1: 0.02, cloudWins: false, sensitiveItems: 5, sensitiveRecovered: 0 };
  const html = renderPanel({
    status, paused: false, mode: 'split', history: [], security: {
      file: 'src/net.py', result: {
        tokens: 84, cloudWins: false, setting: 'keys k1, ε = 13',
        attacks: [{ ...attack, attack: 'nn-inversion', reconstruction: 'a'.repeat(2000) }, { ...attack, attack: 'code-reconstruction', crt: 0.05, reconstruction: '<script>x</script>' }],
      },
    },
  }, 'n', 'c');
  assert.match(html, /The cloud loses: the best attack recovers 5 % of the 84 prompt tokens/);
  assert.match(html, /<td>embedding inversion \(nearest neighbour\)<\/td><td>0\.012<\/td><td>0\.004<\/td><td>1\.3<\/td><td>0\.020<\/td><td>cloud loses<\/td><td>0 of 5<\/td>/);
  assert.match(html, /src\/net\.py: keys k1, ε = 13/);
  assert.doesNotMatch(html, /<script>x/);
  assert.match(html, /a{600}…<\/pre>/);
  assert.doesNotMatch(html, /a{601}/);
});

test('the security report says why there is none, and shows it is running', () => {
  assert.match(renderPanel({ status, paused: false, mode: 'split', history: [], security: { error: 'No report: this file is marked sensitive' } }, 'n', 'c'),
    /No report: this file is marked sensitive/);
  assert.match(renderPanel({ status, paused: false, mode: 'split', history: [], security: { running: true } }, 'n', 'c'), /data-action="securityReport" disabled>Attacking…/);
  assert.match(renderPanel({ status, paused: false, mode: 'split', history: [] }, 'n', 'c'), /Attack the prompt at the cursor/);
});

test('under the demo keys the verdict says the keys are public and the cloud wins', () => {
  const attack = { attack: 'nn-inversion', crt: 0.0, contentCrt: 0, bleu: 0, rouge1: 0, cloudWins: false, sensitiveItems: 5, sensitiveRecovered: 0, reconstruction: '' };
  const v = verdict({ tokens: 84, cloudWins: true, setting: 'demo keys', attacks: [attack], demoKeys: true });
  assert.match(v, /^The keys are public: the cloud wins/);
  assert.doesNotMatch(v, /cloud loses/);
});

test('updates are content only: the page is loaded once and swaps in what the extension posts', () => {
  const state = { status, paused: false, mode: 'split', history: [] };
  const body = renderPanelBody(state);
  assert.doesNotMatch(body, /<script|<html|<style/);
  assert.ok(renderPanel(state, 'n', 'c').includes(`<main id="content">${body}</main>`));
  // The CSP refuses inline style attributes, so the meter's width is data the page's script applies.
  assert.match(body, /class="fill warn" data-width="85\.0%"/);
  assert.doesNotMatch(body, /style="/);
});

test('addresses from the sidecar read as themselves, without the tooltip\'s Markdown escapes', () => {
  const html = renderPanelBody({ status: { ...status, endpoint: 'http://127.0.0.1:40809/', detail: 'split 1,4 <b>' }, paused: false, mode: 'split', history: [] });
  assert.match(html, /Endpoint: http:\/\/127\.0\.0\.1:40809\//);
  assert.match(html, /split 1,4 &lt;b&gt;/);
  assert.doesNotMatch(html, /\\/);
});
