import { PrivacyStatus } from '../protocol';

/** What the status shows before the sidecar's first noir/privacyStatus (protocol.ts). */
export const startingStatus: PrivacyStatus = {
  mode: 'loading', detail: 'starting the sidecar', exposureUsed: 0, keyLabel: 'none', demo: false,
};
