/**
 * A small wire-level SSE reader for tests: parses `id:`/`event:`/`data:` blocks and `:` comments exactly as
 * they arrive on the socket.
 */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

export interface SseConnection {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  /** Resolves with the first message (after those already taken) matching `predicate`. */
  next(predicate?: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

export async function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const messages: SseMessage[] = [];
  let cursor = 0;
  let notify: (() => void) | undefined;
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message: SseMessage = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) message.comment = line.slice(1).trim();
              else {
                const colon = line.indexOf(':');
                const field = line.slice(0, colon);
                const value = line.slice(colon + 1).replace(/^ /, '');
                if (field === 'id') message.id = value;
                else if (field === 'event') message.event = value;
                else if (field === 'data')
                  message.data = message.data === undefined ? value : `${message.data}\n${value}`;
                else if (field === 'retry') message.retry = Number(value);
              }
            }
            messages.push(message);
            notify?.();
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    headers: res.headers,
    messages,
    async next(predicate = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < messages.length) {
          const m = messages[cursor++] as SseMessage;
          if (predicate(m)) return m;
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching SSE message within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-5))}`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, Math.min(left, 200));
        });
      }
    },
    close() {
      controller.abort();
    },
  };
}

export const isEvent = (name: string) => (m: SseMessage) => m.event === name;
