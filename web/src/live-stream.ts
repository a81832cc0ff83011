/**
 * One server-sent-events stream of the API, kept open: EventSource reconnects by itself after a dropped
 * connection (sending `Last-Event-ID`, so the server resumes without a gap, or sends a fresh `snapshot` when it
 * cannot, e.g. after a restart); when the browser gives up (a non-200 answer such as 503 while the app starts),
 * the page opens a new one after a backoff — without the id, so that one starts with a snapshot.
 */
import { type ConnectionState, initialState, nextState, reconnectDelay } from './connection.js';

export interface LiveStreamOptions {
  url: string;
  /** Handlers by event name (`snapshot`, `latest`, `window`, `alert`), given the parsed JSON data. */
  handlers: Record<string, (data: unknown) => void>;
  onState: (state: ConnectionState) => void;
}

export interface LiveStream {
  state(): ConnectionState;
  close(): void;
}

export function openLiveStream({ url, handlers, onState }: LiveStreamOptions): LiveStream {
  let state = initialState(Date.now());
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const update = (event: Parameters<typeof nextState>[1]) => {
    state = nextState(state, event);
    onState(state);
  };
  const connect = () => {
    if (closed) return;
    const es = new EventSource(url);
    source = es;
    es.onopen = () => update({ type: 'open', at: Date.now() });
    es.onerror = () => {
      update({ type: 'error', at: Date.now() });
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        timer = setTimeout(connect, reconnectDelay(state.failures));
      }
    };
    for (const [name, handle] of Object.entries(handlers)) {
      es.addEventListener(name, (event) => {
        const message = event as MessageEvent<string>;
        update({ type: 'message', at: Date.now(), id: message.lastEventId });
        handle(JSON.parse(message.data));
      });
    }
  };
  connect();
  return {
    state: () => state,
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
