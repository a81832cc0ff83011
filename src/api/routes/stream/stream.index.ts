/**
 * Handlers of the four documented endpoints.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Services } from '../../../services.js';
import { readPage, setNextPage, timeRange } from '../../paging.js';
import { getStreamLatest, getStreamRaw, getWarehouseLatest, getWarehouseRaw } from './stream.routes.js';

export function registerStreamRoutes(app: OpenAPIHono, services: Pick<Services, 'streamLayer' | 'warehouse'>) {
  app.openapi(getStreamRaw, async (c) => {
    const { device_id, limit } = c.req.valid('query');
    return c.json(await services.streamLayer.listWindows({ deviceId: device_id, limit }), 200);
  });

  app.openapi(getStreamLatest, async (c) => c.json(await services.streamLayer.listLatest(), 200));

  app.openapi(getWarehouseRaw, async (c) => {
    const query = c.req.valid('query');
    const page = await readPage(() =>
      services.warehouse.listWindows({
        deviceId: query.device_id,
        limit: query.limit,
        ...timeRange(query),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      }),
    );
    setNextPage(c, page.next, { device_id: query.device_id, limit: String(query.limit) });
    return c.json(page.rows, 200);
  });

  app.openapi(getWarehouseLatest, async (c) => c.json(await services.warehouse.listLatest(), 200));
}
