// When a settings change restarts the sidecar. Pure, unit-tested.

/** What the running sidecar was started with that it cannot change while running. */
export interface StartedWith {
  /** noircode.endpoint */
  endpoint: string | undefined;
  /** The stored API key (with its origins), as secret storage holds it. */
  storedKey: string | undefined;
}

/**
 * The sidecar replaces its settings with each section it is sent (a cleared setting is back at its default), so
 * no setting needs a restart but the endpoint: the API key travels in the sidecar's environment, fixed at start, and
 * was decided (asked about, apiKeyBinding.ts) for the endpoint it started with. A new key needs one for the same reason.
 */
export function needsRestart(running: StartedWith, next: StartedWith): boolean {
  return (running.endpoint ?? '').trim() !== (next.endpoint ?? '').trim() || running.storedKey !== next.storedKey;
}
