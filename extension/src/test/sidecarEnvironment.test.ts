import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sidecarEnvironment } from '../sidecar/sidecarEnvironment';

test("the API key goes in the sidecar's environment, and an inherited one is not passed on", () => {
  const env = sidecarEnvironment({ PATH: '/bin', NOIR_API_KEY: 'from-the-shell' }, 'entered-for-this-endpoint');
  assert.equal(env.NOIR_API_KEY, 'entered-for-this-endpoint');
  assert.equal(env.PATH, '/bin');
  assert.equal(sidecarEnvironment({ NOIR_API_KEY: 'from-the-shell' }, undefined).NOIR_API_KEY, undefined, 'a key bound to no endpoint never reaches the sidecar');
});

test('the sidecar writes no crash dump (its memory holds code and keys)', () => {
  assert.equal(sidecarEnvironment({}, undefined).DOTNET_DbgEnableMiniDump, '0');
});
