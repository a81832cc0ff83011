/**
 * Shared OpenAPI schemas: the two row shapes (from the contract in `core/results.ts`) and query parameters.
 */
import { z } from '@hono/zod-openapi';
import { DEVICE_ID_PATTERN, DEVICE_ID_RULE } from '../../core/device-id.js';
import { DeviceLatestSchema, WindowAggregateSchema } from '../../core/results.js';

// Rebuilt from the contract's shapes with this module's `z`: the contract's schemas may be created before
// @hono/zod-openapi extends zod, so they cannot be relied on to carry `.openapi()` themselves.
export const WindowAggregateRow = z.object(WindowAggregateSchema.shape).openapi('WindowAggregate', {
  example: {
    id: 'dev-1_1772288702000_1772288704000',
    device_id: 'dev-1',
    window_start: 1772288702000,
    window_end: 1772288704000,
    latitude: 9.0012,
    longitude: 106.9987,
    distance: 0.18,
    event_ts: 1772288703500,
    event_count: 1,
    avg_temp: 24.7,
    avg_sound: 41.2,
    avg_alt: 1520.4,
  },
});
export const DeviceLatestRow = z.object(DeviceLatestSchema.shape).openapi('DeviceLatest', {
  example: {
    device_id: 'dev-1',
    latitude: 9.0012,
    longitude: 106.9987,
    distance: 0.18,
    event_ts: 1772288703500,
    temperature: 24.7,
    sound: 41.2,
    altitude: 1520.4,
  },
});

/** A 200 response whose body is a JSON array of `row`s. */
export const jsonArrayResponse = (row: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: z.array(row) } },
});

const deviceIdMessage = `expected a device id: ${DEVICE_ID_RULE}`;

export const DeviceIdSchema = z.string().regex(DEVICE_ID_PATTERN, deviceIdMessage);

export const deviceIdParam = DeviceIdSchema.default('dev-1').openapi({
  param: { name: 'device_id', in: 'query' },
  description: 'Device id',
  example: 'dev-1',
});

export const limitParam = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(10)
  .openapi({
    param: { name: 'limit', in: 'query' },
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    default: 10,
    description: 'Number of windows to return, newest first (1–1000)',
    example: 10,
  });

/**
 * A query parameter that may repeat (`?type=a&type=b`), as an array of `item`; absent means no filter. `items`
 * is the item's OpenAPI schema.
 */
export function repeatedQueryParam<T extends z.ZodType>(
  name: string,
  item: T,
  openapi: { items: Record<string, unknown>; description: string; example: unknown[]; max?: number },
) {
  return z
    .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).max(openapi.max ?? 1000))
    .optional()
    .openapi({
      param: { name, in: 'query', style: 'form', explode: true },
      type: 'array',
      items: openapi.items,
      description: openapi.description,
      example: openapi.example,
    });
}

/** Repeated `device_id` filter for live streams and alerts; absent means every device. */
export const deviceFilterParam = repeatedQueryParam('device_id', DeviceIdSchema, {
  items: { type: 'string', pattern: DEVICE_ID_PATTERN.source },
  description: 'Only these devices (repeat the parameter for several); every device when absent',
  example: ['dev-1', 'dev-2'],
});

/** Epoch milliseconds or an ISO 8601 timestamp; `undefined` when it is neither. */
export function parseTimeParam(value: string): number | undefined {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A `from` or `to` query parameter: epoch ms or ISO 8601 (parsed by `parseTimeParam`). */
export const timeParam = (name: 'from' | 'to', description: string) =>
  z
    .string()
    .refine((v) => parseTimeParam(v) !== undefined, 'expected epoch milliseconds or an ISO 8601 timestamp')
    .optional()
    .openapi({
      param: { name, in: 'query' },
      description,
      example: name === 'from' ? '2026-02-28T12:00:00Z' : '1772288704000',
    });

export const fromParam = timeParam('from', 'Only windows starting at or after this time (epoch ms or ISO 8601)');
export const toParam = timeParam('to', 'Only windows starting before this time (epoch ms or ISO 8601)');

export const cursorParam = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .openapi({
    param: { name: 'cursor', in: 'query' },
    description: 'Opaque position from the previous page (`X-Next-Cursor` header or the `Link` rel="next" URL)',
  });

/** The headers of a page that has a next one (`api/paging.ts` sets them). */
export const nextPageHeaders = z.object({
  'X-Next-Cursor': z.string().optional().openapi({ description: 'Pass as `cursor` to get the next (older) page' }),
  Link: z.string().optional().openapi({ description: 'RFC 8288 link to the next page, `rel="next"`' }),
});
