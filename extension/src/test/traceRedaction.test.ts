import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactingTraceChannel, redactTrace } from '../sidecar/traceRedaction';

const secret = 'AWS_SECRET=hunter2';

test('a text trace keeps the message name and id, never the params or the result', () => {
  const didOpen = `Sending notification 'textDocument/didOpen'.\nParams: {"textDocument":{"uri":"file:///w/a.py","text":"${secret}"}}`;
  assert.equal(redactTrace(didOpen), "Sending notification 'textDocument/didOpen'.");
  const result = `Received response 'textDocument/inlineCompletion - (12)' in 5ms.\nResult: {"items":[{"insertText":"${secret}"}]}`;
  assert.equal(redactTrace(result), "Received response 'textDocument/inlineCompletion - (12)'.");
  const init = `Sending request 'initialize - (0)'.\nParams: {"initializationOptions":{"apiKey":"${secret}"}}`;
  assert.doesNotMatch(redactTrace(init), /hunter2|apiKey/);
});

test('a JSON trace keeps the kind, method and id only; anything else is not shown', () => {
  const json = JSON.stringify({ type: 'send-notification', message: { jsonrpc: '2.0', method: 'textDocument/didChange', params: { contentChanges: [{ text: secret }] } } });
  assert.equal(redactTrace(json), 'send-notification textDocument/didChange');
  assert.equal(redactTrace(`something else: ${secret}`), '(trace entry not shown)');
});

test('the trace channel redacts trace() and passes everything else through', () => {
  const lines: string[] = [];
  const channel = { trace: (m: string) => lines.push(`trace ${m}`), info: (m: string) => lines.push(`info ${m}`), name: 'NoirCode' };
  const wrapped = redactingTraceChannel(channel);
  wrapped.trace(`Sending notification 'textDocument/didOpen'.\nParams: ${secret}`);
  wrapped.info('started');
  assert.equal(wrapped.name, 'NoirCode');
  assert.deepEqual(lines, ["trace Sending notification 'textDocument/didOpen'.", 'info started']);
});
