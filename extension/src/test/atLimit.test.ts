import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atLimitMessage, atLimitOfferKey, localOnlyChange } from '../status/atLimit';
import { PrivacyStatus } from '../protocol';

const blocked: PrivacyStatus = {
  mode: 'blocked', epsilon: 13, exposureUsed: 3906, exposureLimit: 3906, exposureBasis: 'measured', exposurePeriod: 'key',
  exposureMeaning: 'after 3,906 tokens sent under one key, the strongest measured attack reads 3 % of the content tokens', keyLabel: 'demo', demo: true,
};

test('the at-limit offer comes when a budget blocks, once per key and limit', () => {
  assert.ok(atLimitOfferKey(blocked));
  assert.equal(atLimitOfferKey({ ...blocked, mode: 'split' }), undefined);
  assert.equal(atLimitOfferKey({ ...blocked, mode: 'offline' }), undefined, 'offline is not a spent budget');
  assert.equal(atLimitOfferKey({ ...blocked, exposureLimit: undefined }), undefined);
  assert.equal(atLimitOfferKey({ ...blocked, exposureUsed: 4000 }), atLimitOfferKey(blocked), 'the same key and limit: asked once');
  assert.notEqual(atLimitOfferKey({ ...blocked, keyLabel: 'private' }), atLimitOfferKey(blocked), 'new keys: asked again at their limit');
});

test('the offer says what was spent, what crossing means, and what rotation does', () => {
  const m = atLimitMessage(blocked);
  assert.match(m, /3\.9k of 3\.9k tokens under these keys/);
  assert.match(m, /Measured: after 3,906 tokens sent under one key, the strongest measured attack reads 3 % of the content tokens\./);
  assert.match(m, /re-tunes .* fresh endpoint adapter/);
  assert.match(atLimitMessage({ ...blocked, keyLabel: 'none', exposureBasis: 'setting', exposurePeriod: 'day', exposureMeaning: undefined }), /this day.*no privacy keys to rotate/);
});

test('local only: the budget\'s action with a whole local model, the mode with the bundled one, else nothing to switch to', () => {
  assert.deepEqual(localOnlyChange({ localModelFolder: '/m/whole', modelFolder: '/m/client' }), { setting: 'atLimit', value: 'local-only' });
  assert.deepEqual(localOnlyChange({ localModelFolder: '', modelFolder: '' }), { setting: 'mode', value: 'local' });
  assert.equal(localOnlyChange({ localModelFolder: '', modelFolder: '/m/client' }), undefined);
});
