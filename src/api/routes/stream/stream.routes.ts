/**
 * The four documented endpoints (specification, "Access by API"): window aggregates and latest state, from the
 * stream layer and from the warehouse. Responses are always JSON arrays with the same lower-case fields in both
 * variants.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../errors.js';
import {
  cursorParam,
  DeviceLatestRow,
  deviceIdParam,
  fromParam,
  jsonArrayResponse,
  limitParam,
  nextPageHeaders,
  toParam,
  WindowAggregateRow,
} from '../../schemas/common.js';

const windowsResponse = (description: string) => jsonArrayResponse(WindowAggregateRow, description);
const latestResponse = (description: string) => jsonArrayResponse(DeviceLatestRow, description);

export const getStreamRaw = createRoute({
  method: 'get',
  path: '/stream/raw',
  operationId: 'getStreamRaw',
  summary: '2-second window aggregates of one device from the stream layer, newest first',
  description:
    'Reads DEVICE_WINAGG_STATUS_PER2S from the engine (materialized output topic, or a ksqlDB pull query). ' +
    'An unknown device gives `[]`.',
  tags: ['stream'],
  request: { query: z.object({ device_id: deviceIdParam, limit: limitParam }) },
  responses: { 200: windowsResponse('Windows, newest first'), ...errorResponses },
});

export const getStreamLatest = createRoute({
  method: 'get',
  path: '/stream/latest',
  operationId: 'getStreamLatest',
  summary: 'Latest state of every device from the stream layer',
  description: 'Reads DEVICE_WINAGG_STATUS_PERDEVICE from the engine; one row per device, ordered by device id.',
  tags: ['stream'],
  responses: { 200: latestResponse('One row per device'), ...errorResponses },
});

export const getWarehouseRaw = createRoute({
  method: 'get',
  path: '/stream/postgresql/raw',
  operationId: 'getWarehouseRaw',
  summary: '2-second window aggregates of one device from the warehouse, newest first, with paging',
  description:
    'Reads table `device_winagg_status_per2s`. When older rows remain, the response carries the position of ' +
    'the next page in `X-Next-Cursor` and in a `Link: <…>; rel="next"` header; the body stays a bare array.',
  tags: ['warehouse'],
  request: {
    query: z.object({
      device_id: deviceIdParam,
      limit: limitParam,
      from: fromParam,
      to: toParam,
      cursor: cursorParam,
    }),
  },
  responses: {
    200: {
      ...windowsResponse('Windows, newest first'),
      headers: nextPageHeaders,
    },
    ...errorResponses,
  },
});

export const getWarehouseLatest = createRoute({
  method: 'get',
  path: '/stream/postgresql/latest',
  operationId: 'getWarehouseLatest',
  summary: 'Latest stored state of every device from the warehouse',
  description: 'Reads table `device_winagg_status_perdevice`; one row per device, ordered by device id.',
  tags: ['warehouse'],
  responses: { 200: latestResponse('One row per device'), ...errorResponses },
});
