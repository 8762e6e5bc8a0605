import { PrivacyStatus } from '../protocol';

/** How the status bar item looks: pure, so it is unit-tested without VS Code. */
export interface StatusView {
  text: string;
  /** normal, warning (exposure at 80 % or more), error (blocked, offline, failed). */
  severity: 'normal' | 'warning' | 'error';
  /** Markdown lines for the tooltip. */
  tooltip: string[];
}

export const warningShare = 0.8;

/** The share of the exposure budget used, or undefined without a budget. */
export function exposureShare(s: PrivacyStatus): number | undefined {
  return s.exposureLimit && s.exposureLimit > 0 ? s.exposureUsed / s.exposureLimit : undefined;
}

export function formatPercent(share: number): string {
  const p = share * 100;
  if (p > 0 && p < 0.1) return '<0.1%';
  return (p < 10 ? p.toFixed(1) : Math.round(p).toString()) + '%';
}

export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return (n / 1000).toFixed(n < 10_000 ? 1 : 0) + 'k';
  return (n / 1_000_000).toFixed(1) + 'M';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** ε as shown: "ε13", "ε2.5"; without keys the hidden states are not randomised, so ε is unbounded. */
export function formatEpsilon(epsilon: number | undefined): string {
  if (epsilon === undefined || epsilon === null) return 'ε∞';
  return 'ε' + (Number.isInteger(epsilon) ? epsilon.toString() : epsilon.toFixed(1));
}

/** Whether an endpoint address is this machine (loopback): traffic to it never crosses a network. */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return true; // none: the embedded default, on loopback
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch { return false; }
}

/** Hidden states without keys (ε = ∞) to another machine: the public embedding's inversion reads them. */
export function isUnprotectedRemote(s: PrivacyStatus): boolean {
  return s.mode !== 'local' && s.keyLabel === 'none' && !isLoopbackEndpoint(s.endpoint);
}

/** Cleartext (http://) to another machine: only with noircode.allowCleartextEndpoint. */
export function isCleartextRemote(s: PrivacyStatus): boolean {
  return s.mode !== 'local' && (s.endpoint ?? '').toLowerCase().startsWith('http://') && !isLoopbackEndpoint(s.endpoint);
}

function isSensitiveDetail(s: PrivacyStatus): boolean {
  return (s.detail ?? '').startsWith('sensitive file');
}

export function formatStatus(s: PrivacyStatus, paused = false): StatusView {
  const share = exposureShare(s);
  const exposure = share !== undefined ? formatPercent(share) : `${formatCount(s.exposureUsed)} tok`;
  const keys = s.demo ? ' · demo keys' : '';
  let text: string;
  let severity: StatusView['severity'] = 'normal';
  switch (s.mode) {
    case 'loading': text = '$(loading~spin) NoirCode'; break;
    case 'error': text = '$(error) NoirCode'; severity = 'error'; break;
    case 'offline': text = `$(shield) offline · ${exposure}`; severity = 'error'; break;
    case 'blocked': text = `$(shield) blocked · ${exposure}`; severity = 'error'; break;
    case 'local': text = '$(shield) local'; break;
    default: text = `$(shield) ${formatEpsilon(s.epsilon)} · ${exposure}${keys}`;
  }
  // Protection that is not there must not look like protection: error colour, and said in words.
  if (s.mode !== 'loading' && s.mode !== 'error') {
    if (isUnprotectedRemote(s)) { text = text.replace('ε∞', 'ε∞ unprotected'); severity = 'error'; }
    if (isCleartextRemote(s)) { text += ' · $(unlock) cleartext'; severity = 'error'; }
  }
  if (severity === 'normal' && share !== undefined && share >= warningShare) severity = 'warning';
  if (isSensitiveDetail(s) && s.mode !== 'error') text += ' · $(lock) not sent';
  if (s.unsupportedLanguage && s.mode !== 'error') text += ` · $(circle-slash) ${unsupportedWords(s)}`;
  if (paused) text = `$(debug-pause) paused · ${text.replace(/^\$\([^)]*\) /, '')}`;
  return { text, severity, tooltip: tooltipLines(s, paused) };
}

const modeWords: Record<string, string> = {
  split: 'split: the middle blocks run on the endpoint; only hidden states leave this machine',
  local: 'local: the whole model runs here; nothing leaves this machine',
  offline: 'offline: the endpoint cannot be reached; it is tried again on the next request',
  blocked: 'blocked: the exposure budget is spent',
  loading: 'loading the model',
  error: 'error',
};

/**
 * Text from the sidecar or the endpoint (an error message, an address, a key label) shown as itself in the Markdown
 * tooltip: a crafted message must not become a link, an image fetched from a server, or a theme icon.
 */
export function plainText(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~$&:]/g, c => '\\' + c).replace(/\r?\n/g, ' ');
}

/** "no javascript (model: python)": why a language gets no suggestions, short enough for the status bar. */
export function unsupportedWords(s: PrivacyStatus): string {
  // Status bar text is not Markdown, but "$(...)" would draw an icon: keep ids to plain characters.
  const bare = (id: string) => id.replace(/[^\w.+#-]/g, '');
  const knows = s.modelLanguages?.length ? ` (model: ${s.modelLanguages.map(bare).join(', ')})` : '';
  return `no ${bare(s.unsupportedLanguage ?? '')}${knows}`;
}

/** The exposure in words: used of what budget, per what, and where that budget comes from. */
export function exposureLine(s: PrivacyStatus): string {
  const share = exposureShare(s);
  if (share === undefined) return `Exposure: ${formatCount(s.exposureUsed)} tokens (no budget set)`;
  const per = s.exposurePeriod === 'key' || s.exposurePeriod === undefined && s.exposureBasis === 'measured' ? 'under this key' : `this ${s.exposurePeriod ?? 'day'}`;
  const basis = s.exposureBasis === 'measured' ? 'the measured budget: where the strongest attack measured reads 3 % of content'
    : s.exposureBasis === 'setting' ? 'your budget setting' : 'the budget';
  return `Exposure: ${formatCount(s.exposureUsed)} of ${formatCount(s.exposureLimit!)} tokens ${per} (${formatPercent(share)} of ${basis})`;
}

export function tooltipLines(s: PrivacyStatus, paused = false): string[] {
  const lines = [`**NoirCode** — ${modeWords[s.mode] ?? s.mode}`];
  if (paused) lines.push('Completions are paused.');
  if (s.unsupportedLanguage) lines.push(`No suggestions in ${plainText(s.unsupportedLanguage)} files: the model declares ${plainText((s.modelLanguages ?? []).join(', '))} only. Enable the language by name in \`noircode.enable\` to try it anyway.`);
  if (s.detail) lines.push(`Detail: ${plainText(s.detail)}`);
  if (s.endpoint) lines.push(`Endpoint: ${plainText(s.endpoint)}`);
  const keyAge = s.keyAgeDays !== undefined && s.keyAgeDays !== null ? `, ${s.keyAgeDays} days old` : '';
  if (isUnprotectedRemote(s)) lines.push('Unprotected: no privacy keys and the endpoint is another machine; it can invert most tokens of what is sent.');
  if (isCleartextRemote(s)) lines.push('Cleartext: the endpoint is reached over http://, so the network path sees the hidden states (no API key is sent).');
  lines.push(s.keyLabel === 'none'
    ? 'Keys: none (ε = ∞: hidden states are not randomised)'
    : `Keys: ${s.demo ? 'demo keys (shared, not private)' : plainText(s.keyLabel)}, ${formatEpsilon(s.epsilon)}${keyAge}`);
  lines.push(exposureLine(s));
  if (s.last) {
    lines.push(`Last request: ${s.last.tokens} tokens, ${formatBytes(s.last.bytes)} sent, ${Math.round(s.last.milliseconds)} ms (${s.last.source})`);
  }
  lines.push('Click for the privacy panel.');
  return lines;
}
