// The noir/privacyStatus notification from the sidecar (sidecar/NoirCode.Sidecar/Lsp/PrivacyStatus.cs).
// Metadata only: the sidecar never puts code in it.

export type Mode = 'split' | 'local' | 'offline' | 'blocked' | 'loading' | 'error';

export interface LastRequest {
  tokens: number;
  bytes: number;
  milliseconds: number;
  /** Where the suggestion came from: the model, the cache, type-through reuse, ... */
  source: string;
  /** Why there was no suggestion (the sidecar's reason), when there was none. */
  empty?: string;
}

export interface VolumePoint {
  tokens: number;
  contentRecovered: number;
}

export interface PrivacyStatus {
  mode: Mode;
  detail?: string;
  epsilon?: number;
  exposureUsed: number;
  exposureLimit?: number;
  /** Where the limit comes from: 'measured' (the privacy report's curve for this configuration), 'setting'
   * (noircode.exposureBudgetTokens) or 'none'. */
  exposureBasis?: 'measured' | 'setting' | 'none';
  /** 'key' (the key's whole life: what the measured curve counts), 'day', 'week' or 'month'. */
  exposurePeriod?: string;
  /** What crossing the measured budget means, from the curve. */
  exposureMeaning?: string;
  /** The measured curve: tokens seen under one key → share of content tokens the strongest attack read. */
  exposureCurve?: VolumePoint[];
  /** Tokens sent under the keys these keys replaced (a rotation's record). */
  previousKeyTokens?: number;
  /** "demo", a key set's label, or "none". */
  keyLabel: string;
  demo: boolean;
  keyAgeDays?: number;
  endpoint?: string;
  last?: LastRequest;
  /** The language just asked about, when the model does not know it: no suggestions there. */
  unsupportedLanguage?: string;
  /** The languages the model declares (absent: any). */
  modelLanguages?: string[];
}

export const startingStatus: PrivacyStatus = {
  mode: 'loading', detail: 'starting the sidecar', exposureUsed: 0, keyLabel: 'none', demo: false,
};
