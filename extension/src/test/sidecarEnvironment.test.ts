import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtensionSettings, toSidecarOptions } from '../settings/sidecarOptions';
import { sidecarEnvironment } from '../sidecar/sidecarEnvironment';

const settings: ExtensionSettings = {
  endpoint: 'https://e.example:7450', modelFolder: '', keysFolder: '/k', localModelFolder: '', mode: 'split', wire: 'f16', exposureBudgetTokens: null,
  exposurePeriod: 'day', atLimit: 'block', debounceMs: null, enable: { '*': true }, sidecarPath: '', allowCleartextEndpoint: false, allowUnprotectedEndpoint: false,
};

test('the API key is never in initializationOptions (message tracing would record it)', () => {
  const o = toSidecarOptions(settings) as unknown as Record<string, unknown>;
  assert.equal('apiKey' in o, false);
  assert.doesNotMatch(JSON.stringify(o), /apiKey/);
});

test("the API key goes in the sidecar's environment, and an inherited one is not passed on", () => {
  const env = sidecarEnvironment({ PATH: '/bin', NOIR_API_KEY: 'from-the-shell' }, 'entered-for-this-endpoint');
  assert.equal(env.NOIR_API_KEY, 'entered-for-this-endpoint');
  assert.equal(env.PATH, '/bin');
  assert.equal(sidecarEnvironment({ NOIR_API_KEY: 'from-the-shell' }, undefined).NOIR_API_KEY, undefined, 'a key bound to no endpoint never reaches the sidecar');
});

test('the sidecar writes no crash dump (its memory holds code and keys)', () => {
  assert.equal(sidecarEnvironment({}, undefined).DOTNET_DbgEnableMiniDump, '0');
});
