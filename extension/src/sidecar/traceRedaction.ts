// vscode-languageclient's message tracing writes each message's params and results (every document's text) to
// the trace channel when its log level is Trace, whatever the trace.server setting says. The sidecar's trace
// channel keeps only what says which message went where: never code, completions or settings.

/** A trace entry reduced to its first line ("Sending request 'textDocument/inlineCompletion - (12)'."), or, for
 * the JSON trace format, to the message's kind, method and id. */
export function redactTrace(entry: string): string {
  const text = entry.trimStart();
  if (text.startsWith('{')) {
    try {
      const o = JSON.parse(text) as { type?: unknown; message?: { method?: unknown; id?: unknown } };
      const method = typeof o.message?.method === 'string' ? o.message.method : '';
      const id = typeof o.message?.id === 'number' || typeof o.message?.id === 'string' ? ` (${o.message.id})` : '';
      return `${typeof o.type === 'string' ? o.type : 'message'} ${method}${id}`.trim();
    } catch { return '(trace entry not shown)'; }
  }
  // The header names only the method and the id; anything after it (Params:, Result:, an error) is content.
  const header = text.match(/^(?:Sending|Received) (?:request|notification|response) '[^'\n]*'/);
  return header ? header[0] + '.' : '(trace entry not shown)';
}

/** The part of vscode.LogOutputChannel the trace needs. */
export interface TraceSink { trace(message: string, ...args: unknown[]): void }

/** The channel, with trace() redacted; everything else goes to it unchanged. */
export function redactingTraceChannel<T extends TraceSink>(channel: T): T {
  return new Proxy(channel, {
    get(target, prop) {
      if (prop === 'trace') return (message: string) => target.trace(redactTrace(String(message)));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
