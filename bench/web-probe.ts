/**
 * Measurement for `bench/web.ts`, kept out of the page's code.
 *
 * `PROBE_SCRIPT` runs in the page before its own scripts (`page.addInitScript`) and replaces `EventSource` with a
 * subclass whose `addEventListener` wraps each message listener: it notes when the listener was called
 * (`dispatched`) and when it returned (`handled`: the page's state is updated), then stamps `drawn` in the
 * second animation frame after it. The page draws on the frame after a change (its `render` sets the scene, the
 * map paints on the next frame), so the second frame's callback, requested after the page's own, runs once the
 * map has painted that message. A plain string, not a function: the bench runs under tsx, whose helpers would be
 * missing in the page.
 *
 * `followReceipts` is a plain SSE client in the bench process on the same stream: the broadcaster numbers every
 * change once (`<epoch>-<seq>`) for all clients, so its receipt time of an id is when the browser's socket got the
 * same bytes, before any wait for the page's busy main thread.
 */
import { get } from 'node:http';

export const PROBE_SCRIPT = `(() => {
  const Native = window.EventSource;
  let out = [];
  let open = null;
  let longTaskMs = 0;
  let frames = 0;
  const finish = (batch) => {
    const drawn = performance.now();
    for (const s of batch) { s.push(drawn); out.push(s); }
  };
  const add = (sample) => {
    if (open === null) {
      const batch = (open = []);
      requestAnimationFrame(() => {
        frames++;
        if (open === batch) open = null;
        requestAnimationFrame(() => finish(batch));
      });
    }
    open.push(sample);
  };
  class ProbedEventSource extends Native {
    addEventListener(type, listener, options) {
      if (typeof listener !== 'function' || type === 'open' || type === 'error') {
        return super.addEventListener(type, listener, options);
      }
      const stream = new URL(this.url).pathname;
      return super.addEventListener(type, function (event) {
        const dispatched = performance.now();
        const result = listener.call(this, event);
        const handled = performance.now();
        let eventTs = -1;
        if (type === 'latest') {
          const m = /"event_ts":(\\d+)/.exec(event.data);
          if (m) eventTs = Number(m[1]);
        }
        add([stream + ' ' + type, event.lastEventId, eventTs, dispatched, handled]);
        return result;
      }, options);
    }
  }
  window.EventSource = ProbedEventSource;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTaskMs += e.duration;
    }).observe({ type: 'longtask' });
  } catch {}
  window.__webBench = {
    origin: performance.timeOrigin,
    take() {
      const samples = out;
      out = [];
      const r = { samples, longTaskMs, frames };
      longTaskMs = 0;
      frames = 0;
      return r;
    },
  };
})();`;

/** One message as the page took it: [stream and event, id, event_ts or −1, dispatched, handled, drawn]. */
export type ProbeSample = [string, string, number, number, number, number];

export interface ProbeTake {
  samples: ProbeSample[];
  /** Main-thread time in long tasks (> 50 ms) since the last take. */
  longTaskMs: number;
  /** Frames in which the page had a message to draw, since the last take. */
  frames: number;
}

export interface ReceiptLog {
  /** Epoch ms at which this id arrived, removed once looked up. */
  take(id: string): number | undefined;
  received(): number;
  close(): void;
}

/** Follows `url` (an SSE stream) and notes the receipt time of every `latest` event id, for at most `keepMs`. */
export function followReceipts(url: string, keepMs = 60_000): Promise<ReceiptLog> {
  const receipts = new Map<string, number>();
  let received = 0;
  const now = () => performance.timeOrigin + performance.now();
  const prune = setInterval(() => {
    const oldest = now() - keepMs;
    for (const [id, at] of receipts) {
      if (at >= oldest) break;
      receipts.delete(id);
    }
  }, 5000);
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      if (res.statusCode !== 200) {
        clearInterval(prune);
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = now();
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: latest')) {
            const id = /^id: (.*)$/m.exec(block)?.[1];
            if (id) {
              receipts.set(id, at);
              received++;
            }
          }
          end = buffer.indexOf('\n\n');
        }
      });
      resolve({
        take(id) {
          const at = receipts.get(id);
          receipts.delete(id);
          return at;
        },
        received: () => received,
        close() {
          clearInterval(prune);
          req.destroy();
        },
      });
    });
    req.on('error', (error) => {
      clearInterval(prune);
      reject(error);
    });
  });
}
