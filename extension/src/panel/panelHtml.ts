import { LedgerRow, PrivacyStatus } from '../protocol';
import { describeAttack, reconstructionChars, SecurityReportState, verdict } from './securityReport';
import { RequestRecord } from '../status/requestHistory';
import { exposureLine, exposureShare, formatBytes, formatCount, formatEpsilon, formatPercent, tooltipLines } from '../status/statusFormat';

/** One row of the exposure ledger (noir.exposureLedger): what left this machine per day and key. */
export interface PanelState {
  status: PrivacyStatus;
  paused: boolean;
  /** The configured mode (split or local); the status's mode may be offline or blocked meanwhile. */
  mode: string;
  history: readonly RequestRecord[];
  ledger?: readonly LedgerRow[];
  ledgerError?: string;
  security?: SecurityReportState;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** The status bar's Markdown lines as HTML: bold, code, and plainText's backslash escapes taken off again. */
const md = (s: string) => escapeHtml(s).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`(.+?)`/g, '<code>$1</code>')
  .replace(/\\(&lt;|&gt;|&amp;|[\\`*_{}[\]()#+\-.!|~$:])/g, '$1');

/**
 * The privacy panel's content: status, ledger, recent requests' metadata (never their text), keys and actions.
 * Sent to the open page on every update (renderPanel's script swaps it in), so the page never reloads.
 */
export function renderPanelBody(state: PanelState): string {
  const s = state.status;
  const bar = exposureSection(s);
  const ledger = state.ledgerError
    ? `<p class="muted">${escapeHtml(state.ledgerError)}</p>`
    : !state.ledger || state.ledger.length === 0 ? '<p class="muted">Nothing has left this machine yet.</p>'
    : table(['day', 'key', 'tokens', 'bytes', 'requests'], state.ledger.map(r => [r.day, r.key, formatCount(r.tokens), formatBytes(r.bytes), String(r.requests)]));
  const history = state.history.length === 0 ? '<p class="muted">No requests yet.</p>'
    : table(['time', 'source', 'tokens sent', 'bytes sent', 'latency'], state.history.map(r =>
      [r.at.toLocaleTimeString(), r.source, String(r.tokens), formatBytes(r.bytes), `${Math.round(r.milliseconds)} ms`]));
  const keys = s.keyLabel === 'none'
    ? '<p>No privacy keys: hidden states are not randomised (ε = ∞). Create keys with <code>noir keygen</code> and set <code>noircode.keysFolder</code>.</p>'
    : `<p>${s.demo ? '<b>Demo keys</b>: shared with everyone who has this model, so they protect nothing. Use your own keys for real code.' : `Keys <b>${escapeHtml(s.keyLabel)}</b>`}</p>
       <p>${formatEpsilon(s.epsilon)}${s.keyAgeDays !== undefined && s.keyAgeDays !== null ? `, ${s.keyAgeDays} days old` : ''}</p>
       <p class="muted">The bounds ε gives (per token, and the paper's prompt-level Eq. 4) assume a uniform prior over the vocabulary and one look at each token. Code is neither: the cloud knows which tokens are likely, and under one key each token arrives as the same row every time. They are not a guarantee; the measured curve under Exposure is what holds (<code>noir privacy status</code> has both).</p>`;
  const security = securitySection(state.security);
  return `<h1>NoirCode privacy</h1>
<section id="status">${tooltipLines(s, state.paused).slice(0, -1).map(l => `<p>${md(l)}</p>`).join('\n')}</section>
<h2>Exposure</h2>
<section id="exposure">${bar}</section>
<h2>Ledger (what left this machine, per day and key)</h2>
<section id="ledger">${ledger}</section>
<h2>Recent requests (metadata only, never code)</h2>
<section id="history">${history}</section>
<h2>Keys</h2>
<section id="keys">${keys}</section>
<h2>Security report for the prompt at the cursor</h2>
<section id="security">${security}</section>
<h2>Actions</h2>
<section id="actions">
<button data-action="togglePause">${state.paused ? 'Resume completions' : 'Pause completions'}</button>
<button data-action="switchMode">Switch mode (now ${escapeHtml(state.mode)})</button>
<button data-action="rotateKeys">Rotate keys (and re-tune)</button>
<button data-action="refresh">Refresh</button>
</section>`;
}

/** The page itself, loaded once per panel: the CSP, the styles and the script that swaps in each update. */
export function renderPanel(state: PanelState, nonce: string, cspSource: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<title>NoirCode privacy</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; }
th { color: var(--vscode-descriptionForeground); font-weight: normal; }
.muted { color: var(--vscode-descriptionForeground); }
.meter { width: 320px; height: 8px; background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-widget-border, #8884); }
pre { white-space: pre-wrap; max-width: 720px; background: var(--vscode-textCodeBlock-background); padding: 6px; }
.win { color: var(--vscode-errorForeground); } .lose { color: var(--vscode-charts-green, #3a3); }
.fill { height: 100%; background: var(--vscode-charts-green, #3a3); } .fill.warn { background: var(--vscode-charts-orange, #d80); }
button { margin-right: 8px; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 10px; cursor: pointer; }
</style></head>
<body>
<main id="content">${renderPanelBody(state)}</main>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const content = document.getElementById('content');
// Inline style attributes are refused by the CSP: the meter's width goes through the CSSOM.
const size = () => { for (const f of content.querySelectorAll('.fill[data-width]')) f.style.width = f.dataset.width; };
// One listener for all buttons: the content is replaced on every update.
document.addEventListener('click', e => {
  const b = e.target instanceof Element ? e.target.closest('button[data-action]') : null;
  if (b && !b.disabled) vscode.postMessage({ action: b.dataset.action });
});
window.addEventListener('message', e => {
  if (typeof e.data?.body === 'string') { content.innerHTML = e.data.body; size(); }
});
size();
// Updates posted while the page was loading are lost: ask for the current content.
vscode.postMessage({ action: 'ready' });
</script>
</body></html>`;
}

/**
 * The exposure against its budget, and, for a measured budget, what crossing it means: the curve it comes from
 * (what the strongest attack measured reads as a function of the tokens a cloud has seen under one key) first.
 */
export function exposureSection(s: PrivacyStatus): string {
  const share = exposureShare(s);
  const meter = share === undefined ? '' : `<div class="meter"><div class="fill ${share >= 0.8 ? 'warn' : ''}" data-width="${Math.min(100, share * 100).toFixed(1)}%"></div></div>`;
  const parts = [meter, `<p>${escapeHtml(exposureLine(s).replace(/^Exposure: /, ''))}</p>`];
  if (s.exposureMeaning) parts.push(`<p><b>What crossing it means</b>: ${escapeHtml(s.exposureMeaning)}.</p>`);
  if (s.exposureCurve && s.exposureCurve.length > 0) {
    const rows = s.exposureCurve.map(p => [`${formatCount(p.tokens)}${p.tokens <= s.exposureUsed ? ' (passed)' : ''}`, `${(p.contentRecovered * 100).toFixed(1)} %`]);
    parts.push('<p>The measured curve (bundled model; the privacy report):</p>'
      + table(['tokens the cloud has seen under one key', 'content tokens its strongest attack reads'], rows));
  }
  if (s.exposureBasis === 'measured' || s.exposurePeriod === 'key') {
    parts.push('<p class="muted">At the budget, completions stop, or run on this machine only (<code>noircode.atLimit</code>; under the public demo keys they do by default). Rotating the keys starts a new cipher, '
      + 'so the count starts again for the new keys, and re-tunes your client and a fresh endpoint adapter on your code (charged to the new keys). '
      + 'What the cloud read under the old keys stays read, and code sent again under the new keys can be lined up with what it read before.</p>');
  } else if (share === undefined) {
    parts.push('<p class="muted">No budget: there is no measured curve for these keys and <code>noircode.exposureBudgetTokens</code> is not set.</p>');
  }
  if (s.previousKeyTokens !== undefined && s.previousKeyTokens !== null) {
    parts.push(`<p>Sent under the keys these replaced: ${formatCount(s.previousKeyTokens)} tokens (their cipher is retired; the ledger below keeps their record).</p>`);
  }
  return parts.filter(p => p).join('\n');
}

/** The attacks an honest-but-curious cloud could run on what a completion at the cursor sends, run here. */
function securitySection(r: SecurityReportState | undefined): string {
  const intro = '<p class="muted">Runs, on this machine, the attacks a cloud holding the public model could run on the hidden states '
    + 'a completion at the cursor sends (the last text editor\'s cursor). Nothing is sent or stored.</p>';
  const button = `<button data-action="securityReport"${r?.running ? ' disabled' : ''}>${r?.running ? 'Attacking…' : 'Attack the prompt at the cursor'}</button>`;
  if (!r || r.running) return intro + button;
  if (r.error !== undefined) return `${intro}${button}<p class="muted">${escapeHtml(r.error)}</p>`;
  const res = r.result!;
  const rows = res.attacks.map(a => [describeAttack(a.attack), a.crt.toFixed(3), a.contentCrt.toFixed(3), a.bleu.toFixed(1), a.rouge1.toFixed(3),
    a.cloudWins ? 'cloud wins' : 'cloud loses', `${a.sensitiveRecovered} of ${a.sensitiveItems}`]);
  const reconstructions = res.attacks.map(a => `<p>${escapeHtml(describeAttack(a.attack))} reconstructed:</p><pre>${escapeHtml(
    a.reconstruction.length > reconstructionChars ? a.reconstruction.slice(0, reconstructionChars) + '…' : a.reconstruction)}</pre>`).join('\n');
  return `${intro}${button}
<p class="${res.cloudWins ? 'win' : 'lose'}"><b>${escapeHtml(verdict(res))}</b></p>
<p>${escapeHtml(r.file ?? '')}: ${escapeHtml(res.setting)}</p>
${table(['attack', 'CRT', 'CRT (content)', 'BLEU-1', 'ROUGE-1', 'game', 'identifiers recovered'], rows)}
${reconstructions}`;
}

function table(head: string[], rows: string[][]): string {
  return `<table><tr>${head.map(h => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.map(r => `<tr>${r.map(c => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}
