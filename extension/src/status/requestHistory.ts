import { LastRequest, PrivacyStatus } from '../protocol';

export interface RequestRecord extends LastRequest {
  at: Date;
  mode: string;
}

/**
 * The recent requests' metadata (tokens, bytes, time, source; never text), kept from the status notifications.
 * A status that repeats the previous request (the sidecar resends it on settings changes) adds nothing.
 */
export class RequestHistory {
  private readonly records: RequestRecord[] = [];
  private previous?: LastRequest;

  constructor(private readonly capacity = 20) {}

  /** Returns true when the status carried a new request. */
  add(status: PrivacyStatus, at = new Date()): boolean {
    const last = status.last;
    if (!last || sameRequest(last, this.previous)) return false;
    this.previous = last;
    // Typing cancels most requests before anything is sent; those are not worth a row.
    if (last.source === 'cancelled' && last.tokens === 0) return false;
    this.records.unshift({ ...last, at, mode: status.mode });
    if (this.records.length > this.capacity) this.records.length = this.capacity;
    return true;
  }

  /** Newest first. */
  list(): readonly RequestRecord[] { return this.records; }
}

function sameRequest(a: LastRequest, b: LastRequest | undefined): boolean {
  return !!b && a.tokens === b.tokens && a.bytes === b.bytes && a.milliseconds === b.milliseconds && a.source === b.source;
}
