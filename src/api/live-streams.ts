/**
 * What every live (SSE) route shares: the `Last-Event-ID` header and response declarations, and the handler body
 * that admits a client (per-address and per-instance caps), subscribes it to one broadcaster channel and answers
 * the event stream. The route groups (`routes/live/`, `routes/alerts/`) only name their channel and filters.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../errors.js';
import type { Broadcaster, SubscribeOptions } from '../live/broadcaster.js';
import { ErrorEnvelopeSchema } from './errors.js';
import { openSseStream, sseHeaders } from './sse.js';

export const lastEventIdHeader = z
  .string()
  .max(200)
  .optional()
  .openapi({
    param: { name: 'last-event-id', in: 'header' },
    description: 'Resume after this event id (sent automatically by EventSource on reconnection)',
  });

/** Seconds a refused live client is asked to wait before it reconnects. */
const RETRY_AFTER_S = 5;

export const tooManyResponse = {
  429: {
    description: 'Too many live connections from this address (SSE_MAX_CLIENTS_PER_ADDRESS); see Retry-After',
    content: { 'application/json': { schema: ErrorEnvelopeSchema } },
  },
} as const;

/**
 * The 200 response of a live route. `events` names the change events, `coalescedPer` what a slow client keeps
 * only the newest change of.
 */
export const sseResponse = (events: string, coalescedPer = 'device', example?: string) => ({
  description:
    `\`text/event-stream\`. First event \`snapshot\` (a JSON array), then ${events} events (one JSON object ` +
    'each), every one with an `id:`; `: heartbeat` comments keep the connection open. Reconnecting with ' +
    '`Last-Event-ID` resumes without gaps or duplicates while the position is still in the instance history; ' +
    `otherwise a fresh snapshot starts the stream. A slow client receives only the newest change per ${coalescedPer}.`,
  content: {
    'text/event-stream': {
      schema: z.string().openapi({
        example: example ?? 'id: 3f2a9c01-42\nevent: latest\ndata: {"device_id":"dev-1",...}\n\n',
      }),
    },
  },
});

/** The client's address as the socket sees it (behind a proxy: the proxy's, see SSE_MAX_CLIENTS_PER_ADDRESS). */
function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by @hono/node-server (in-process requests in tests)
  }
}

export interface LiveStreamRequest {
  channel: SubscribeOptions['channel'];
  /** Only these devices; every device when absent. */
  devices: readonly string[] | undefined;
  /** Alert channel: only these types; every type when absent. */
  types?: readonly string[] | undefined;
  /** The `Last-Event-ID` header. */
  lastEventId: string | undefined;
}

/**
 * Admits the client and answers its event stream, or throws 429 `TOO_MANY_REQUESTS` (per-address cap) or
 * 503 `UNAVAILABLE` (instance cap), both with `Retry-After`.
 */
export function openLiveStream(c: Context, broadcaster: Broadcaster, request: LiveStreamRequest): Response {
  const address = remoteAddress(c);
  const admission = broadcaster.admission(address);
  if (admission === 'max_per_address') {
    c.header('Retry-After', String(RETRY_AFTER_S));
    throw new AppError('TOO_MANY_REQUESTS', 'too many live connections from this address; close some first', {
      details: { limit: 'SSE_MAX_CLIENTS_PER_ADDRESS' },
    });
  }
  const body =
    admission === 'ok'
      ? openSseStream(broadcaster, {
          channel: request.channel,
          ...(request.devices ? { devices: new Set(request.devices) } : {}),
          ...(request.types ? { types: new Set(request.types) } : {}),
          lastEventId: request.lastEventId ?? null,
          ...(address === undefined ? {} : { address }),
        })
      : undefined;
  if (!body) {
    c.header('Retry-After', String(RETRY_AFTER_S));
    throw new AppError('UNAVAILABLE', 'too many live clients on this instance; retry later', {
      details: { limit: 'SSE_MAX_CLIENTS' },
    });
  }
  return new Response(body, { status: 200, headers: sseHeaders });
}
