// Per-language enable (`noircode.enable`), checked before a completion request leaves the editor. Pure.

/** `{"*": true, "plaintext": false}`: the language, then `*`, then on. */
export function languageEnabled(enable: Record<string, boolean> | undefined, languageId: string): boolean {
  if (enable && typeof enable[languageId] === 'boolean') return enable[languageId];
  if (enable && typeof enable['*'] === 'boolean') return enable['*'];
  return true;
}
