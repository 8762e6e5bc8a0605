import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSidecar } from '../sidecar/sidecarCommand';

const yes = () => true;

test('a .dll runs with dotnet, anything else runs itself, with the lsp verb', () => {
  assert.deepEqual(resolveSidecar('/x/noir.dll', {}, '/repo/extension', yes), { command: 'dotnet', args: ['/x/noir.dll', 'lsp'], from: 'the noircode.sidecarPath setting' });
  assert.deepEqual(resolveSidecar('/x/noir', {}, '/repo/extension', yes), { command: '/x/noir', args: ['lsp'], from: 'the noircode.sidecarPath setting' });
});

test('the setting wins over NOIRCODE_SIDECAR, which wins over the repository build', () => {
  assert.equal((resolveSidecar('', { NOIRCODE_SIDECAR: '/env/noir.dll' }, '/repo/extension', yes) as { args: string[] }).args[0], '/env/noir.dll');
  assert.equal((resolveSidecar('', {}, '/repo/extension', yes) as { args: string[] }).args[0], '/repo/artifacts/noir/noir.dll');
});

test('a missing sidecar is a clear error naming the path', () => {
  const r = resolveSidecar('/nowhere/noir.dll', {}, '/repo/extension', () => false);
  assert.ok('error' in r);
  assert.match(r.error, /not found at \/nowhere\/noir\.dll \(the noircode\.sidecarPath setting\)/);
});
