// The endpoint API key is bound to the endpoint origin(s) it was entered for: changing noircode.endpoint must not
// carry the key to another host without the user saying so. Pure, unit-tested; the prompt is in extension.ts.

/** What is kept in secret storage: the key and the origins (scheme://host:port) it may be sent to. */
export interface StoredApiKey {
  key: string;
  origins: string[];
}

/** The origins of a (comma-separated) endpoint setting; entries that are not http(s) URLs are left out. */
export function endpointOrigins(endpoint: string): string[] {
  const origins: string[] = [];
  for (const part of endpoint.split(',').map(s => s.trim()).filter(s => s !== '')) {
    try {
      const u = new URL(part);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && !origins.includes(u.origin)) origins.push(u.origin);
    } catch { /* not a URL: the sidecar reports it */ }
  }
  return origins;
}

/** Reads what secret storage holds. A key stored by an older version (plain text) is bound to no origin, so it is asked about once. */
export function parseStoredKey(raw: string | undefined): StoredApiKey | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    const o = JSON.parse(raw) as Partial<StoredApiKey>;
    if (o && typeof o.key === 'string' && o.key !== '' && Array.isArray(o.origins)) {
      return { key: o.key, origins: o.origins.filter((x): x is string => typeof x === 'string') };
    }
  } catch { /* a plain key */ }
  return { key: raw.trim(), origins: [] };
}

export function serializeStoredKey(k: StoredApiKey): string {
  return JSON.stringify({ key: k.key, origins: k.origins });
}

export type KeyDecision =
  | { send: true; key: string }
  /** No key, or no endpoint of the user's (the embedded default needs none). */
  | { send: false; ask: false }
  /** The endpoint has origins the key was not entered for: ask before sending it there. */
  | { send: false; ask: true; newOrigins: string[] };

export function keyDecision(stored: StoredApiKey | undefined, endpoint: string): KeyDecision {
  const origins = endpointOrigins(endpoint);
  if (!stored || origins.length === 0) return { send: false, ask: false };
  const newOrigins = origins.filter(o => !stored.origins.includes(o));
  return newOrigins.length === 0 ? { send: true, key: stored.key } : { send: false, ask: true, newOrigins };
}

/** After the user agreed to send the key to the endpoint's new origins. */
export function allowOrigins(stored: StoredApiKey, origins: string[]): StoredApiKey {
  return { key: stored.key, origins: [...stored.origins, ...origins.filter(o => !stored.origins.includes(o))] };
}
