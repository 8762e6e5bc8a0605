import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowOrigins, endpointOrigins, keyDecision, parseStoredKey, serializeStoredKey } from '../settings/apiKeyBinding';

test('the key is stored with the origins of the endpoint it was entered for', () => {
  assert.deepEqual(endpointOrigins(' https://a.example:7450/x , https://b.example:7450,https://a.example:7450 '), ['https://a.example:7450', 'https://b.example:7450']);
  const stored = parseStoredKey(serializeStoredKey({ key: 'k-123', origins: ['https://a.example:7450'] }));
  assert.deepEqual(stored, { key: 'k-123', origins: ['https://a.example:7450'] });
});

test('the key is sent to the origin it was entered for, and only there without asking', () => {
  const stored = { key: 'k-123', origins: ['https://a.example:7450'] };
  assert.deepEqual(keyDecision(stored, 'https://a.example:7450'), { send: true, key: 'k-123' });
  assert.deepEqual(keyDecision(stored, 'https://evil.example:7450'), { send: false, ask: true, newOrigins: ['https://evil.example:7450'] });
  assert.deepEqual(keyDecision(stored, 'http://a.example:7450'), { send: false, ask: true, newOrigins: ['http://a.example:7450'] }, 'another scheme is another origin');
  assert.deepEqual(keyDecision(stored, 'https://a.example:7450,https://evil.example:7450'), { send: false, ask: true, newOrigins: ['https://evil.example:7450'] });
  assert.deepEqual(keyDecision(stored, ''), { send: false, ask: false }, 'the embedded default needs no key');
  assert.deepEqual(keyDecision(undefined, 'https://a.example:7450'), { send: false, ask: false });
});

test('a key stored before keys were bound (plain text) is asked about before it is sent', () => {
  const legacy = parseStoredKey('old-plain-key');
  assert.deepEqual(legacy, { key: 'old-plain-key', origins: [] });
  assert.equal(keyDecision(legacy, 'https://a.example:7450').send, false);
  assert.deepEqual(keyDecision(allowOrigins(legacy!, ['https://a.example:7450']), 'https://a.example:7450'), { send: true, key: 'old-plain-key' });
});
