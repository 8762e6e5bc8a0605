import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivacyStatus } from '../protocol';
import { formatCount, formatEpsilon, formatPercent, formatStatus, plainText } from '../status/statusFormat';

const split: PrivacyStatus = { mode: 'split', epsilon: 13, exposureUsed: 1200, exposureLimit: 10_000, keyLabel: 'team', demo: false };

test('split mode shows the shield, ε and the share of the budget', () => {
  const v = formatStatus(split);
  assert.equal(v.text, '$(shield) ε13 · 12%');
  assert.equal(v.severity, 'normal');
});

test('the warning colour starts at 80 % of the budget', () => {
  assert.equal(formatStatus({ ...split, exposureUsed: 7999 }).severity, 'normal');
  assert.equal(formatStatus({ ...split, exposureUsed: 8000 }).severity, 'warning');
});

test('blocked, offline and error use the error colour', () => {
  for (const mode of ['blocked', 'offline', 'error'] as const) assert.equal(formatStatus({ ...split, mode }).severity, 'error', mode);
  assert.match(formatStatus({ ...split, mode: 'offline' }).text, /offline/);
  assert.match(formatStatus({ ...split, mode: 'blocked', exposureUsed: 10_000 }).text, /blocked · 100%/);
});

test('the tooltip says where the budget comes from and what it counts', () => {
  const measured = formatStatus({ ...split, exposureLimit: 8561, exposureBasis: 'measured', exposurePeriod: 'key' }).tooltip.join('\n');
  assert.match(measured, /1\.2k of 8\.6k tokens under this key \(14% of the measured budget: where the strongest attack measured reads 3 % of content\)/);
  const set = formatStatus({ ...split, exposureBasis: 'setting', exposurePeriod: 'week' }).tooltip.join('\n');
  assert.match(set, /1\.2k of 10k tokens this week \(12% of your budget setting\)/);
});

test('demo keys are marked', () => {
  assert.match(formatStatus({ ...split, keyLabel: 'demo', demo: true }).text, /demo keys$/);
  assert.match(formatStatus({ ...split, keyLabel: 'demo', demo: true }).tooltip.join('\n'), /demo keys \(shared, not private\)/);
});

test('without keys ε is unbounded and without a budget the tokens are counted', () => {
  const v = formatStatus({ mode: 'split', exposureUsed: 340, keyLabel: 'none', demo: false });
  assert.equal(v.text, '$(shield) ε∞ · 340 tok');
  assert.match(v.tooltip.join('\n'), /Keys: none \(ε = ∞/);
  assert.match(v.tooltip.join('\n'), /340 tokens \(no budget set\)/);
});

test('the tooltip has the last request\'s tokens, bytes and latency', () => {
  const v = formatStatus({ ...split, last: { tokens: 37, bytes: 9472, milliseconds: 84.6, source: 'model' } });
  assert.match(v.tooltip.join('\n'), /Last request: 37 tokens, 9\.3 KiB sent, 85 ms \(model\)/);
});

test('a sensitive file is shown as not sent; paused replaces the icon', () => {
  assert.match(formatStatus({ ...split, detail: 'sensitive file: nothing is sent for it' }).text, /\$\(lock\) not sent$/);
  assert.equal(formatStatus(split, true).text, '$(debug-pause) paused · ε13 · 12%');
});

test('local mode says nothing leaves; loading spins', () => {
  assert.equal(formatStatus({ ...split, mode: 'local' }).text, '$(shield) local');
  assert.match(formatStatus({ ...split, mode: 'loading' }).text, /loading~spin/);
});

test('numbers are short', () => {
  assert.equal(formatPercent(0.0004), '<0.1%');
  assert.equal(formatPercent(0), '0.0%');
  assert.equal(formatPercent(0.0567), '5.7%');
  assert.equal(formatPercent(0.5), '50%');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1500), '1.5k');
  assert.equal(formatCount(25_000), '25k');
  assert.equal(formatCount(2_500_000), '2.5M');
  assert.equal(formatEpsilon(2.5), 'ε2.5');
});

test('no keys with an endpoint on another machine is shown as unprotected, in the error colour', () => {
  const remote = { mode: 'split' as const, exposureUsed: 0, keyLabel: 'none', demo: false, endpoint: 'https://noir.example.com:7450/' };
  const v = formatStatus(remote);
  assert.match(v.text, /ε∞ unprotected/);
  assert.equal(v.severity, 'error');
  assert.match(v.tooltip.join('\n'), /Unprotected/);
  // On loopback (the embedded default, a local endpoint) nothing crosses a network.
  assert.equal(formatStatus({ ...remote, endpoint: 'http://127.0.0.1:7450/' }).severity, 'normal');
  assert.equal(formatStatus({ ...remote, endpoint: undefined }).severity, 'normal');
  assert.equal(formatStatus({ ...remote, keyLabel: 'team', epsilon: 13 }).severity, 'normal');
});

test('a cleartext endpoint on another machine is shown, in the error colour', () => {
  const v = formatStatus({ ...split, endpoint: 'http://10.0.0.5:7450/' });
  assert.match(v.text, /cleartext/);
  assert.equal(v.severity, 'error');
  assert.equal(formatStatus({ ...split, endpoint: 'http://localhost:7450/' }).severity, 'normal');
});

test('text from the sidecar or the endpoint is plain text in the Markdown tooltip', () => {
  const v = formatStatus({ ...split, mode: 'error', detail: 'denied ![x](https://evil.example/p.png) [click](command:workbench.action.terminal.new) $(alert)' });
  const detail = v.tooltip.find(l => l.startsWith('Detail:'))!;
  assert.doesNotMatch(detail, /(^|[^\\])!\[|(^|[^\\])\]\(|(^|[^\\])\$\(/, detail);
  assert.match(plainText('a_b*c'), /a\\_b\\\*c/);
});

test('a language the model does not know says so in the status bar and the tooltip', () => {
  const s: PrivacyStatus = { ...split, keyLabel: 'demo', demo: true, unsupportedLanguage: 'javascript', modelLanguages: ['python'] };
  const v = formatStatus(s);
  assert.match(v.text, /\$\(circle-slash\) no javascript \(model: python\)$/);
  assert.match(v.tooltip.join('\n'), /No suggestions in javascript files: the model declares python only/);
  assert.doesNotMatch(formatStatus(split).text, /circle-slash/, 'not shown when the language is supported');
  // A crafted id cannot draw icons in the status bar.
  assert.doesNotMatch(formatStatus({ ...s, unsupportedLanguage: '$(bug)x' }).text, /\$\(bug\)/);
});
