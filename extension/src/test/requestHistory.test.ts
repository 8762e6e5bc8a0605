import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivacyStatus } from '../protocol';
import { RequestHistory } from '../status/requestHistory';

const base: PrivacyStatus = { mode: 'split', exposureUsed: 0, keyLabel: 'none', demo: false };
const req = (tokens: number, ms = 10) => ({ ...base, last: { tokens, bytes: tokens * 256, milliseconds: ms, source: 'model' } });

test('keeps requests newest first, and a repeated status adds nothing', () => {
  const h = new RequestHistory();
  assert.equal(h.add(base), false);
  assert.equal(h.add(req(5)), true);
  assert.equal(h.add(req(5)), false, 'the sidecar resends the last request with other status changes');
  assert.equal(h.add(req(7)), true);
  assert.deepEqual(h.list().map(r => r.tokens), [7, 5]);
});

test('is bounded', () => {
  const h = new RequestHistory(3);
  for (let i = 1; i <= 5; i++) h.add(req(i, i));
  assert.deepEqual(h.list().map(r => r.tokens), [5, 4, 3]);
});

test('records metadata only', () => {
  const h = new RequestHistory();
  h.add(req(3));
  assert.deepEqual(Object.keys(h.list()[0]).sort(), ['at', 'bytes', 'milliseconds', 'mode', 'source', 'tokens']);
});

test('requests cancelled before anything was sent are left out', () => {
  const h = new RequestHistory();
  h.add({ ...base, last: { tokens: 0, bytes: 0, milliseconds: 3, source: 'cancelled' } });
  h.add({ ...base, last: { tokens: 4, bytes: 1024, milliseconds: 30, source: 'cancelled' } });
  assert.deepEqual(h.list().map(r => r.tokens), [4]);
});
