import { PrivacyStatus } from '../protocol';
import { formatCount } from './statusFormat';

/** The choices offered when the key's exposure budget is spent: one flow, rotation with re-tuning, or local only. */
export const rotateAndRetune = 'Rotate keys and re-tune';
export const localOnly = 'Complete on this machine only';
export const details = 'Details';

/** Steps the re-tune asks for; the sidecar holds it to half of what the new key's budget has left. */
export const retuneSteps = 200;

/**
 * Whether the at-limit offer applies: completions are blocked by a budget (not offline or failing). Asked once per
 * key and limit, so that a blocked editor does not nag on every keystroke.
 */
export function atLimitOfferKey(s: PrivacyStatus): string | undefined {
  if (s.mode !== 'blocked' || s.exposureLimit === undefined) return undefined;
  return `${s.keyLabel}|${s.epsilon ?? 'none'}|${s.exposureLimit}|${s.exposureBasis ?? ''}`;
}

/** What the offer says: what was spent, what crossing it means (the measured curve), and what each choice does. */
export function atLimitMessage(s: PrivacyStatus): string {
  const spent = `NoirCode: the exposure budget is spent (${formatCount(s.exposureUsed)} of ${formatCount(s.exposureLimit ?? 0)} tokens`
    + (s.exposurePeriod === 'key' ? ' under these keys)' : ` this ${s.exposurePeriod ?? 'day'})`) + '; completions are blocked.';
  const meaning = s.exposureMeaning ? ` Measured: ${s.exposureMeaning}.` : '';
  const keys = s.keyLabel === 'none'
    ? ' There are no privacy keys to rotate: complete on this machine only, or raise the budget.'
    : ' Rotating makes new keys (a new cipher: the cloud starts again from nothing on it) and re-tunes your client and a fresh endpoint adapter on your code, charged to the new keys; or complete on this machine only.';
  return spent + meaning + keys;
}

/**
 * What "complete on this machine only" changes: with a whole model for that (localModelFolder), the budget's action
 * (atLimit: local-only, and split completions stay within the budget); with the bundled model (no modelFolder), the
 * mode; with a client shard and no whole model, nothing can run here, so the user is told what to set.
 */
export function localOnlyChange(settings: { localModelFolder: string; modelFolder: string }): { setting: 'atLimit' | 'mode'; value: string } | undefined {
  if (settings.localModelFolder) return { setting: 'atLimit', value: 'local-only' };
  if (!settings.modelFolder) return { setting: 'mode', value: 'local' };
  return undefined;
}
