import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeServerLaunch } from '../../editor/codeServerLaunch.mjs';

const base = { entry: '/cs/entry.js', port: 8123, profileArgs: ['--user-data-dir', '/p'], workspace: '/w' };

test('npm start: code-server behind a fresh random password, with workspace trust on', () => {
  const a = codeServerLaunch({ ...base, secure: true });
  const b = codeServerLaunch({ ...base, secure: true });
  assert.deepEqual(a.args.slice(a.args.indexOf('--auth'), a.args.indexOf('--auth') + 2), ['--auth', 'password']);
  assert.ok(!a.args.includes('--disable-workspace-trust'));
  assert.equal(a.settings['security.workspace.trust.enabled'], true);
  assert.ok(a.password && a.password.length >= 20 && a.password !== b.password);
  assert.equal(a.env.PASSWORD, a.password, 'through the environment');
  assert.ok(!a.args.some(x => x.includes(a.password!)), 'never on the command line');
  assert.ok(a.args.includes('127.0.0.1:8123'));
});

test('the end-to-end tests keep their quiet throwaway setup', () => {
  const e = codeServerLaunch({ ...base, secure: false });
  assert.ok(e.args.includes('--disable-workspace-trust'));
  assert.equal(e.password, undefined);
});
