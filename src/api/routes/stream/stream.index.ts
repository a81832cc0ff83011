/**
 * Handlers of the four documented endpoints.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { InvalidCursorError } from '../../../warehouse-reader/warehouse-reader.js';
import { parseTimeParam } from '../../schemas/common.js';
import { getStreamLatest, getStreamRaw, getWarehouseLatest, getWarehouseRaw } from './stream.routes.js';

export function registerStreamRoutes(app: OpenAPIHono, services: Pick<Services, 'streamLayer' | 'warehouse'>) {
  app.openapi(getStreamRaw, async (c) => {
    const { device_id, limit } = c.req.valid('query');
    return c.json(await services.streamLayer.listWindows({ deviceId: device_id, limit }), 200);
  });

  app.openapi(getStreamLatest, async (c) => c.json(await services.streamLayer.listLatest(), 200));

  app.openapi(getWarehouseRaw, async (c) => {
    const query = c.req.valid('query');
    const from = query.from === undefined ? undefined : parseTimeParam(query.from);
    const to = query.to === undefined ? undefined : parseTimeParam(query.to);
    if (from !== undefined && to !== undefined && from >= to) {
      throw new AppError('BAD_REQUEST', 'invalid query parameter: from, to', {
        details: [{ field: 'from', message: '`from` must be earlier than `to`' }],
      });
    }
    let page: Awaited<ReturnType<typeof services.warehouse.listWindows>>;
    try {
      page = await services.warehouse.listWindows({
        deviceId: query.device_id,
        limit: query.limit,
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new AppError('BAD_REQUEST', 'invalid query parameter: cursor', {
          details: [{ field: 'cursor', message: err.message }],
        });
      }
      throw err;
    }
    if (page.next) {
      const url = new URL(c.req.url);
      url.searchParams.set('cursor', page.next);
      url.searchParams.set('device_id', query.device_id);
      url.searchParams.set('limit', String(query.limit));
      c.header('X-Next-Cursor', page.next);
      c.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
    }
    return c.json(page.rows, 200);
  });

  app.openapi(getWarehouseLatest, async (c) => c.json(await services.warehouse.listLatest(), 200));
}
