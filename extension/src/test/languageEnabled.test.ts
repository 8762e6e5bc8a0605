import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageEnabled } from '../settings/languageEnabled';

test('per-language enable: the language, then *, then on', () => {
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'plaintext'), false);
  assert.equal(languageEnabled({ '*': true, plaintext: false }, 'python'), true);
  assert.equal(languageEnabled({ '*': false, python: true }, 'go'), false);
  assert.equal(languageEnabled(undefined, 'go'), true);
});
