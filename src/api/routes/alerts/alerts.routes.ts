/**
 * The alert endpoints: the history of alert episodes from the warehouse (`device_alerts`), the active alerts and
 * their changes from the instance's live state (the alert feed), and the rules in force. Lists are JSON arrays.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../errors.js';
import { lastEventIdHeader, sseResponse, tooManyResponse } from '../../live-streams.js';
import { AlertRow, AlertRulesBody, alertStatusParam, alertTypeFilterParam } from '../../schemas/alerts.js';
import {
  cursorParam,
  deviceFilterParam,
  jsonArrayResponse,
  limitParam,
  nextPageHeaders,
  timeParam,
} from '../../schemas/common.js';

/** The live filters: `/alerts/active` and `/alerts/events` take the same ones. */
const liveFilter = z.object({ device_id: deviceFilterParam, type: alertTypeFilterParam });

const alertsResponse = (description: string) => jsonArrayResponse(AlertRow, description);

export const getAlerts = createRoute({
  method: 'get',
  path: '/alerts',
  operationId: 'getAlerts',
  summary: 'Alert episodes from the warehouse, newest opening first, with paging',
  description:
    'Reads table `device_alerts` (one row per alert, its newest revision), ordered by `opened_at` then ' +
    '`alert_id`, both descending. When older alerts remain, the response carries the position of the next page ' +
    'in `X-Next-Cursor` and in a `Link: <…>; rel="next"` header; the body stays a bare array. A cursor is valid ' +
    'only with the same `device_id`, `type` and `status`.',
  tags: ['alerts'],
  request: {
    query: z.object({
      device_id: deviceFilterParam,
      type: alertTypeFilterParam,
      status: alertStatusParam,
      from: timeParam('from', 'Only alerts opened at or after this time (epoch ms or ISO 8601)'),
      to: timeParam('to', 'Only alerts opened before this time (epoch ms or ISO 8601)'),
      limit: limitParam.openapi({ description: 'Number of alerts to return, newest first (1–1000)' }),
      cursor: cursorParam,
    }),
  },
  responses: {
    200: { ...alertsResponse('Alerts, newest opening first'), headers: nextPageHeaders },
    ...errorResponses,
  },
});

export const getActiveAlerts = createRoute({
  method: 'get',
  path: '/alerts/active',
  operationId: 'getActiveAlerts',
  summary: 'The active alerts of every device, from live state',
  description:
    'The newest revision of every alert whose status is `active`, as this instance follows the `device_alerts` ' +
    'topic; newest opening first (then `alert_id` descending).',
  tags: ['alerts'],
  request: { query: liveFilter },
  responses: { 200: alertsResponse('Active alerts, newest opening first'), ...errorResponses },
});

export const streamAlertEvents = createRoute({
  method: 'get',
  path: '/alerts/events',
  operationId: 'streamAlertEvents',
  summary: 'Live alert changes (server-sent events)',
  description:
    'The snapshot holds the active alerts (newest opening first); then every change of an alert (opened, ' +
    'updated, cleared), each an `alert` event holding the alert’s new revision.',
  tags: ['alerts', 'live'],
  request: {
    query: liveFilter,
    headers: z.object({ 'last-event-id': lastEventIdHeader }),
  },
  responses: {
    200: sseResponse(
      '`alert` (an `Alert`)',
      'alert',
      'id: 3f2a9c01-42\nevent: alert\ndata: {"alert_id":"dev-1/sensor_anomaly/sound/1772288702000",...}\n\n',
    ),
    ...tooManyResponse,
    ...errorResponses,
  },
});

export const getAlertRules = createRoute({
  method: 'get',
  path: '/alerts/rules',
  operationId: 'getAlertRules',
  summary: 'The rules the alerts are judged by (ALERT_* settings)',
  tags: ['alerts'],
  responses: {
    200: { description: 'The rules in force', content: { 'application/json': { schema: AlertRulesBody } } },
    ...errorResponses,
  },
});
