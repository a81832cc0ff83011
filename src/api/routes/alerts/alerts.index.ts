/**
 * Handlers of the alert endpoints.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Services } from '../../../services.js';
import { openLiveStream } from '../../live-streams.js';
import { readPage, setNextPage, timeRange } from '../../paging.js';
import { toAlertRulesBody } from '../../schemas/alerts.js';
import { getActiveAlerts, getAlertRules, getAlerts, streamAlertEvents } from './alerts.routes.js';

export function registerAlertRoutes(
  app: OpenAPIHono,
  services: Pick<Services, 'warehouse' | 'alerts' | 'alertRules' | 'broadcaster'>,
) {
  app.openapi(getAlerts, async (c) => {
    const query = c.req.valid('query');
    const page = await readPage(() =>
      services.warehouse.listAlerts({
        limit: query.limit,
        ...(query.device_id ? { deviceIds: query.device_id } : {}),
        ...(query.type ? { types: query.type } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...timeRange(query),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      }),
    );
    setNextPage(c, page.next, { limit: String(query.limit) });
    return c.json(page.rows, 200);
  });

  app.openapi(getActiveAlerts, (c) => {
    const { device_id, type } = c.req.valid('query');
    const filter = {
      ...(device_id ? { deviceIds: new Set(device_id) } : {}),
      ...(type ? { types: new Set<string>(type) } : {}),
    };
    return c.json(services.alerts.active(filter), 200);
  });

  app.openapi(streamAlertEvents, (c) =>
    openLiveStream(c, services.broadcaster, {
      channel: 'alert',
      devices: c.req.valid('query').device_id,
      types: c.req.valid('query').type,
      lastEventId: c.req.valid('header')['last-event-id'],
    }),
  );

  app.openapi(getAlertRules, (c) => c.json(toAlertRulesBody(services.alertRules), 200));
}
