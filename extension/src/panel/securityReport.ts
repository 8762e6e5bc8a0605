// The per-prompt security report (noir.promptSecurityReport, sidecar/NoirCode.Sidecar/Lsp/PromptSecurity.cs). Pure.

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

/** What the panel shows: nothing yet, a report in progress, its result, or why there is none. */
export interface SecurityReportState {
  running?: boolean;
  file?: string;
  result?: PromptSecurityResult;
  error?: string;
}

/** At most this much of a reconstruction is shown. */
export const reconstructionChars = 600;

export function describeAttack(name: string): string {
  return ({ 'nn-inversion': 'embedding inversion (nearest neighbour)', 'code-reconstruction': 'code reconstruction (public decoder)' } as Record<string, string>)[name] ?? name;
}

/** One line a person can read: did the cloud win the paper's game on this prompt? */
export function verdict(r: PromptSecurityResult): string {
  const best = Math.max(...r.attacks.map(a => a.crt));
  if (r.demoKeys) return `The keys are public: the cloud wins. These are the shipped demo keys, which anyone can use to undo them (without them the attacks below recover ${Math.round(best * 100)} % of the ${r.tokens} prompt tokens).`;
  return r.cloudWins
    ? `The cloud wins: an attack recovers ${Math.round(best * 100)} % of the ${r.tokens} prompt tokens.`
    : `The cloud loses: the best attack recovers ${Math.round(best * 100)} % of the ${r.tokens} prompt tokens (it wins at BLEU ≥ 20 or ROUGE-1 ≥ 0.4).`;
}
