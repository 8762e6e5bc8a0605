import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtensionSettings, languageEnabled, needsRestart, redact, toSidecarOptions } from '../settings/sidecarOptions';

const defaults: ExtensionSettings = {
  endpoint: '', modelFolder: '', keysFolder: '', localModelFolder: '', mode: 'split', wire: 'f16', exposureBudgetTokens: null, exposurePeriod: 'day',
  atLimit: 'block', debounceMs: null, enable: { '*': true }, sidecarPath: '',
};

test('defaults send only what the sidecar needs, so it runs the embedded default', () => {
  assert.deepEqual(toSidecarOptions(defaults, undefined), { mode: 'split', wire: 'f16', exposurePeriod: 'day', atLimit: 'block' });
});

test('set values are passed on, trimmed; the API key comes from secret storage', () => {
  const o = toSidecarOptions({ ...defaults, endpoint: ' https://e:7450 ', keysFolder: '/k', localModelFolder: ' /models/whole ', exposureBudgetTokens: 5000.7, debounceMs: 120 }, 'secret');
  assert.equal(o.endpoint, 'https://e:7450');
  assert.equal(o.keysFolder, '/k');
  assert.equal(o.localModelFolder, '/models/whole');
  assert.equal(o.exposureBudgetTokens, 5000);
  assert.equal(o.debounceMs, 120);
  assert.equal(o.apiKey, 'secret');
  assert.equal(redact(o).apiKey, '(from secret storage)', 'never logged');
});

test('clearing a setting restarts the sidecar; changing one does not', () => {
  const a = toSidecarOptions({ ...defaults, endpoint: 'http://127.0.0.1:1' }, undefined);
  assert.equal(needsRestart(a, toSidecarOptions(defaults, undefined)), true);
  assert.equal(needsRestart(a, toSidecarOptions({ ...defaults, endpoint: 'http://127.0.0.1:2' }, undefined)), false);
  assert.equal(needsRestart(toSidecarOptions(defaults, undefined), a), false);
});

test('per-language enable: the language, then *, then on', () => {
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'plaintext'), false);
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'python'), true);
  assert.equal(languageEnabled({ '*': false, python: true }, 'go'), false);
  assert.equal(languageEnabled(undefined, 'go'), true);
});
