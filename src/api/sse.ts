/**
 * Server-sent events over a pull-based `ReadableStream`: a frame is produced only when the HTTP layer asks for
 * the next chunk, which @hono/node-server does only after the socket drained the previous one. A slow client
 * therefore holds at most one chunk in flight plus its broadcaster queue (latest-wins per device); it never
 * blocks the broadcaster or other clients.
 *
 * Wire format: `retry:` first, then `id:`/`event:`/`data:` blocks (`snapshot`, `latest`, `window` or `alert`
 * events), and `: heartbeat` comments. Cancelling the stream (client gone) closes the subscription.
 */
import type { Component } from '../lifecycle.js';
import type { Broadcaster, Frame, SubscribeOptions, Subscriber } from '../live/broadcaster.js';

const encoder = new TextEncoder();

/** The browser's reconnection delay hint, in ms. */
const RETRY_MS = 2000;

export function serializeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'heartbeat':
      return ': heartbeat\n\n';
    case 'snapshot':
      return `id: ${frame.id}\nevent: snapshot\ndata: ${JSON.stringify(frame.rows)}\n\n`;
    case 'event':
      return `id: ${frame.event.id}\nevent: ${frame.event.channel}\ndata: ${JSON.stringify(frame.event.data)}\n\n`;
    default: {
      const exhaustive: never = frame;
      return exhaustive;
    }
  }
}

const retryBytes = encoder.encode(`retry: ${RETRY_MS}\n\n`);
const heartbeatBytes = encoder.encode(': heartbeat\n\n');
// One serialization per change, shared by every client that receives it (10,000 clients = 1 JSON.stringify).
const encodedEvents = new WeakMap<object, Uint8Array>();

function encodeFrame(frame: Frame): Uint8Array {
  if (frame.type === 'heartbeat') return heartbeatBytes;
  if (frame.type === 'snapshot') return encoder.encode(serializeFrame(frame));
  let bytes = encodedEvents.get(frame.event);
  if (!bytes) {
    bytes = encoder.encode(serializeFrame(frame));
    encodedEvents.set(frame.event, bytes);
  }
  return bytes;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  // Tells @hono/node-server to send headers at once instead of buffering to compute a content length.
  'transfer-encoding': 'chunked',
} as const;

/**
 * Subscribes and returns the SSE body, or `undefined` when the broadcaster refuses (too many clients).
 * `onClose` runs once when the client disconnects or the stream ends.
 */
export function openSseStream(
  broadcaster: Broadcaster,
  options: Omit<SubscribeOptions, 'onReadable'>,
  onClose?: () => void,
): ReadableStream<Uint8Array> | undefined {
  let wake: (() => void) | undefined;
  let closed = false;
  const subscriber: Subscriber | undefined = broadcaster.subscribe({
    ...options,
    onReadable: () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    },
  });
  if (!subscriber) return undefined;
  let first = true;

  const close = () => {
    if (closed) return;
    closed = true;
    subscriber.close();
    const resolve = wake;
    wake = undefined;
    resolve?.();
    onClose?.();
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let frames = subscriber.take();
        while (frames.length === 0 && !closed) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          frames = subscriber.take();
        }
        if (closed) return;
        const chunks = frames.map(encodeFrame);
        if (first) {
          chunks.unshift(retryBytes);
          first = false;
        }
        controller.enqueue(chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks));
      },
      cancel() {
        close();
      },
    },
    // Nothing is produced ahead of the socket: memory per slow client stays bounded.
    { highWaterMark: 0 },
  );
}

/** One heartbeat timer per instance (not per client), as a component so it stops with the application. */
export function createSseHeartbeat(options: { broadcaster: Broadcaster; intervalMs: number }): Component {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'sse-heartbeat',
    async start() {
      timer = setInterval(() => options.broadcaster.heartbeat(), options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
