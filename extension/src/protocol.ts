// Every custom message between the extension and the sidecar (sidecar/NoirCode.Sidecar/Lsp), with its payloads.
// The sidecar's side: PrivacyStatus.cs, LspTypes.cs, PrivacyCommands.cs, PromptSecurity.cs, SidecarSettings.cs.
// tests/fixtures/protocol holds one example of each, checked by both sides' tests: a renamed field fails one.
// Payloads carry metadata only, never code, except where the user asked for it (a generated body, the
// reconstruction the security report shows).

/** LSP positions: zero-based, characters in UTF-16 code units. */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

// ---- noir/privacyStatus (sidecar → extension notification): what the status bar and panel show.

export const privacyStatusNotification = 'noir/privacyStatus';

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

// ---- noir/completionStats (request to the sidecar; tests and benchmarks send it, the extension does not).

export const completionStatsRequest = 'noir/completionStats';

export interface CompletionStats {
  requests: number;
  suggestions: number;
  /** Suggestions the deadline (showBy) cut before their line ended. */
  cutMidLine: number;
  /** Empty answers per reason. */
  empty: Record<string, number>;
  /** Tokens the requests sent to an endpoint: what they cost the exposure budget. */
  tokensSent: number;
}

// ---- workspace/executeCommand: each command takes one argument object.

/** The cursor (position) or the selection (range) at a signature; an instruction becomes a comment in the prompt. */
export interface GenerateFunctionArguments {
  uri: string;
  position?: Position;
  range?: Range;
  instruction?: string;
}

/** The body and where it goes. */
export interface GeneratedFunction {
  text: string;
  range: Range;
}

export interface ExposureLedgerArguments {
  /** Days back from today, 1 to 366 (default 14). */
  days?: number;
}

export interface LedgerRow {
  day: string;
  key: string;
  tokens: number;
  bytes: number;
  requests: number;
}

export interface ExposureLedgerResult {
  rows: LedgerRow[];
}

export interface RotateKeysArguments {
  /** The keys to rotate (default: those in use). */
  keysFolder?: string;
  /** STuning steps on this workspace's code after re-keying a tuned shard (0: none). */
  retuneSteps?: number;
}

export interface RotateKeysResult {
  keysFolder: string;
  keyId: string;
  epsilon: number;
  previousKeyId: string;
  /** The re-keyed tuned shard, when the model was tuned (noircode.modelFolder goes to it). */
  clientFolder?: string | null;
  adapterId: string;
  retunedSteps: number;
  retuneTokensSent: number;
  retuneNote?: string | null;
}

export interface PromptSecurityArguments {
  uri: string;
  position: Position;
}

/** One attack's outcome on the prompt at the cursor. */
export interface PromptAttackRow {
  attack: string;
  crt: number;
  contentCrt: number;
  bleu: number;
  rouge1: number;
  cloudWins: boolean;
  sensitiveItems: number;
  sensitiveRecovered: number;
  /** What the attack reconstructed: the user's own code at best; shown here only, never stored. */
  reconstruction: string;
}

export interface PromptSecurityResult {
  tokens: number;
  cloudWins: boolean;
  setting: string;
  attacks: PromptAttackRow[];
  /** The shipped demo keys: public, so the cloud wins whatever the attacks say. */
  demoKeys?: boolean;
}

/** The sidecar's commands: argument and result of each. */
export interface SidecarCommands {
  'noir.generateFunction': { arguments: GenerateFunctionArguments; result: GeneratedFunction | null };
  'noir.exposureLedger': { arguments: ExposureLedgerArguments; result: ExposureLedgerResult };
  'noir.rotateKeys': { arguments: RotateKeysArguments; result: RotateKeysResult };
  'noir.promptSecurityReport': { arguments: PromptSecurityArguments; result: PromptSecurityResult };
}
export type SidecarCommand = keyof SidecarCommands;

export const commands = {
  generateFunction: 'noir.generateFunction',
  exposureLedger: 'noir.exposureLedger',
  rotateKeys: 'noir.rotateKeys',
  promptSecurityReport: 'noir.promptSecurityReport',
} as const satisfies Record<string, SidecarCommand>;

// ---- Settings: the `noircode` configuration section (extension/package.json), forwarded as it is in
// initializationOptions and in each workspace/didChangeConfiguration, which replaces the sidecar's settings.
// Never the API key: it goes in the sidecar's environment (sidecar/sidecarEnvironment.ts).

export const settingsSection = 'noircode';

export interface NoirCodeSettings {
  endpoint: string;
  modelFolder: string;
  keysFolder: string;
  localModelFolder: string;
  mode: 'split' | 'local';
  wire: 'f16' | 'f32' | 'bf16' | 'int8';
  exposureBudgetTokens: number | null;
  exposurePeriod: 'day' | 'week' | 'month' | 'key';
  atLimit: 'auto' | 'block' | 'local-only';
  /** Per language id; `*` for the others. */
  enable: Record<string, boolean>;
  debounceMs: number | null;
  speculativeDecoding: boolean;
  /** The extension's own (which program runs): the sidecar ignores it. */
  sidecarPath: string;
  /** The extension's own (its message log): the sidecar ignores it. */
  trace: { server: 'off' | 'messages' };
  allowCleartextEndpoint: boolean;
  allowUnprotectedEndpoint: boolean;
}

/** The settings' names in package.json, without the `noircode.` prefix (a dot nests: trace.server). */
export const settingNames = [
  'endpoint', 'modelFolder', 'keysFolder', 'localModelFolder', 'mode', 'wire', 'exposureBudgetTokens', 'exposurePeriod',
  'atLimit', 'enable', 'debounceMs', 'speculativeDecoding', 'sidecarPath', 'trace.server', 'allowCleartextEndpoint',
  'allowUnprotectedEndpoint',
] as const;

export type InitializationOptions = NoirCodeSettings;

export interface DidChangeConfigurationParams {
  settings: { [settingsSection]: NoirCodeSettings };
}
