import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtensionSettings, languageEnabled, needsRestart, toSidecarOptions } from '../settings/sidecarOptions';

const defaults: ExtensionSettings = {
  endpoint: '', modelFolder: '', keysFolder: '', localModelFolder: '', mode: 'split', wire: 'f16', exposureBudgetTokens: null, exposurePeriod: 'day',
  atLimit: 'block', debounceMs: null, enable: { '*': true }, sidecarPath: '',
  allowCleartextEndpoint: false, allowUnprotectedEndpoint: false,
};

test('defaults send only what the sidecar needs, so it runs the embedded default', () => {
  assert.deepEqual(toSidecarOptions(defaults), { mode: 'split', wire: 'f16', exposurePeriod: 'day', atLimit: 'block' });
});

test('set values are passed on, trimmed', () => {
  const o = toSidecarOptions({ ...defaults, endpoint: ' https://e:7450 ', keysFolder: '/k', localModelFolder: ' /models/whole ', exposureBudgetTokens: 5000.7, debounceMs: 120 });
  assert.equal(o.endpoint, 'https://e:7450');
  assert.equal(o.keysFolder, '/k');
  assert.equal(o.localModelFolder, '/models/whole');
  assert.equal(o.exposureBudgetTokens, 5000);
  assert.equal(o.debounceMs, 120);
});

test('the explicit opt-ins are passed on only when set', () => {
  assert.equal(toSidecarOptions(defaults).allowCleartextEndpoint, undefined);
  const o = toSidecarOptions({ ...defaults, allowCleartextEndpoint: true, allowUnprotectedEndpoint: true });
  assert.equal(o.allowCleartextEndpoint, true);
  assert.equal(o.allowUnprotectedEndpoint, true);
});

test('clearing a setting restarts the sidecar; changing one does not, except the endpoint', () => {
  const a = toSidecarOptions({ ...defaults, endpoint: 'http://127.0.0.1:1', debounceMs: 10 });
  assert.equal(needsRestart(a, toSidecarOptions(defaults)), true);
  assert.equal(needsRestart(a, { ...a, debounceMs: 20 }), false);
  // The API key in the sidecar's environment was decided for the old endpoint.
  assert.equal(needsRestart(a, toSidecarOptions({ ...defaults, endpoint: 'http://127.0.0.1:2', debounceMs: 10 })), true);
  assert.equal(needsRestart(toSidecarOptions(defaults), a), true);
});

test('per-language enable: the language, then *, then on', () => {
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'plaintext'), false);
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'python'), true);
  assert.equal(languageEnabled({ '*': false, python: true }, 'go'), false);
  assert.equal(languageEnabled(undefined, 'go'), true);
});

test('speculative decoding is on by default and sent only when turned off', () => {
  assert.equal(toSidecarOptions({ ...defaults, speculativeDecoding: true }).speculativeDecoding, undefined);
  assert.equal(toSidecarOptions({ ...defaults, speculativeDecoding: false }).speculativeDecoding, false);
});

test('languages enabled by name reach the sidecar (not through *), so it completes them even if the model does not declare them', () => {
  assert.equal(toSidecarOptions(defaults).enabledLanguages, undefined);
  assert.equal(toSidecarOptions({ ...defaults, enable: { '*': true, plaintext: false, markdown: false } }).enabledLanguages, undefined);
  assert.deepEqual(toSidecarOptions({ ...defaults, enable: { '*': true, typescript: true, javascript: true, markdown: false } }).enabledLanguages, ['javascript', 'typescript']);
});
