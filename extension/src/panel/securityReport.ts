// The per-prompt security report (noir.promptSecurityReport; its payload is in protocol.ts). Pure.
import { PromptSecurityResult } from '../protocol';

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
