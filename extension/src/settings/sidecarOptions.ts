// Maps the extension's settings to the sidecar's (sidecar/NoirCode.Sidecar/Lsp/SidecarSettings.cs). Pure.

/** The `noircode.*` settings as read from the workspace configuration. */
export interface ExtensionSettings {
  endpoint: string;
  modelFolder: string;
  keysFolder: string;
  localModelFolder: string;
  mode: string;
  wire: string;
  exposureBudgetTokens: number | null;
  exposurePeriod: string;
  atLimit: string;
  debounceMs: number | null;
  enable: Record<string, boolean>;
  sidecarPath: string;
  allowCleartextEndpoint: boolean;
  allowUnprotectedEndpoint: boolean;
  /** Speculative decoding (greedy): on unless turned off. */
  speculativeDecoding?: boolean;
}

/**
 * What the sidecar receives in initializationOptions and workspace/didChangeConfiguration. Never the API key: it
 * goes in the sidecar's environment (sidecarEnvironment.ts), so message tracing cannot record it.
 */
export interface SidecarOptions {
  modelFolder?: string;
  endpoint?: string;
  keysFolder?: string;
  localModelFolder?: string;
  mode: string;
  wire: string;
  exposureBudgetTokens?: number;
  exposurePeriod: string;
  atLimit: string;
  debounceMs?: number;
  allowCleartextEndpoint?: boolean;
  allowUnprotectedEndpoint?: boolean;
  speculativeDecoding?: boolean;
  /** Languages enabled by name in `noircode.enable` (not through `*`): completed even when the model does not declare them. */
  enabledLanguages?: string[];
}

const blank = (s: string | undefined | null) => (s ?? '').trim() === '';

export function toSidecarOptions(s: ExtensionSettings): SidecarOptions {
  const o: SidecarOptions = { mode: s.mode || 'split', wire: s.wire || 'f16', exposurePeriod: s.exposurePeriod || 'day', atLimit: s.atLimit || 'block' };
  if (!blank(s.modelFolder)) o.modelFolder = s.modelFolder.trim();
  if (!blank(s.endpoint)) o.endpoint = s.endpoint.trim();
  if (!blank(s.keysFolder)) o.keysFolder = s.keysFolder.trim();
  if (!blank(s.localModelFolder)) o.localModelFolder = s.localModelFolder.trim();
  if (typeof s.exposureBudgetTokens === 'number' && s.exposureBudgetTokens > 0) o.exposureBudgetTokens = Math.floor(s.exposureBudgetTokens);
  if (typeof s.debounceMs === 'number' && s.debounceMs >= 0) o.debounceMs = Math.floor(s.debounceMs);
  if (s.allowCleartextEndpoint === true) o.allowCleartextEndpoint = true;
  if (s.allowUnprotectedEndpoint === true) o.allowUnprotectedEndpoint = true;
  if (s.speculativeDecoding === false) o.speculativeDecoding = false;
  const named = explicitlyEnabled(s.enable);
  if (named.length) o.enabledLanguages = named;
  return o;
}

/**
 * The sidecar merges a settings change into what it has, so a setting that was set and is now cleared can only
 * be undone by starting it afresh with the new initializationOptions. A new endpoint also needs a fresh start:
 * the API key in the sidecar's environment was decided for the old one.
 */
export function needsRestart(before: SidecarOptions, after: SidecarOptions): boolean {
  return before.endpoint !== after.endpoint
    || (Object.keys(before) as (keyof SidecarOptions)[]).some(k => before[k] !== undefined && after[k] === undefined);
}

/** The languages `noircode.enable` turns on by name: the user's word that the model should try them. */
export function explicitlyEnabled(enable: Record<string, boolean> | undefined): string[] {
  return Object.entries(enable ?? {}).filter(([id, on]) => id !== '*' && on === true).map(([id]) => id).sort();
}

/** Per-language enable, as `{"*": true, "plaintext": false}`. */
export function languageEnabled(enable: Record<string, boolean> | undefined, languageId: string): boolean {
  if (enable && typeof enable[languageId] === 'boolean') return enable[languageId];
  if (enable && typeof enable['*'] === 'boolean') return enable['*'];
  return true;
}
