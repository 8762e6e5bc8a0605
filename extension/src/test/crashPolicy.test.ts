import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashPolicy } from '../sidecar/crashPolicy';

test('restarts up to the limit within the window, then gives up', () => {
  const p = new CrashPolicy(3, 60_000);
  assert.deepEqual([0, 1000, 2000, 3000].map(t => p.onCrash(t)), [true, true, true, false]);
});

test('crashes far apart never give up', () => {
  const p = new CrashPolicy(2, 60_000);
  for (let i = 0; i < 10; i++) assert.equal(p.onCrash(i * 61_000), true);
});

test('a manual restart starts the count again', () => {
  const p = new CrashPolicy(1, 60_000);
  p.onCrash(0);
  assert.equal(p.onCrash(1), false);
  p.reset();
  assert.equal(p.onCrash(2), true);
});
