import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsRestart } from '../sidecar/restartPolicy';

const running = { endpoint: 'https://a.example:7450', storedKey: '{"key":"k","origins":["https://a.example:7450"]}' };

test('setting or clearing a setting needs no restart: the sidecar replaces its settings', () => {
  // Clearing noircode.exposureBudgetTokens, or any other setting, leaves what the sidecar was started with as it was.
  assert.equal(needsRestart(running, { ...running }), false);
  assert.equal(needsRestart(running, { ...running, endpoint: ' https://a.example:7450 ' }), false);
});

test('a new endpoint or a new key restarts it: the key in its environment was decided for the old endpoint', () => {
  assert.equal(needsRestart(running, { ...running, endpoint: 'https://b.example:7450' }), true);
  assert.equal(needsRestart(running, { ...running, endpoint: '' }), true);
  assert.equal(needsRestart(running, { ...running, storedKey: undefined }), true);
});
