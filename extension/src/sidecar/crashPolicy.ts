/**
 * Restart a crashed sidecar, but give up after `maxCrashes` crashes within `windowMs` (a sidecar that keeps
 * crashing would otherwise loop, each time loading the model again). Pure, so it is unit-tested.
 */
export class CrashPolicy {
  private crashes: number[] = [];

  constructor(readonly maxCrashes = 3, readonly windowMs = 3 * 60_000) {}

  /** Records a crash at `now`; true if the sidecar should be restarted. */
  onCrash(now: number): boolean {
    this.crashes = this.crashes.filter(t => now - t < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.maxCrashes;
  }

  get recentCrashes(): number { return this.crashes.length; }

  /** After a manual restart the count starts again. */
  reset(): void { this.crashes = []; }
}
