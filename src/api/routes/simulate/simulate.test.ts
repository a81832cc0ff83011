import { OpenAPIHono } from '@hono/zod-openapi';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../clock.js';
import { loadConfig } from '../../../config.js';
import { createSilentLogger } from '../../../observability/logger.js';
import type { SimulationStatus } from '../../../simulators/simulation-status.js';
import { createSimulatorController, type SimulatorController } from '../../../simulators/simulator-controller.js';
import { createErrorHandler, validationHook } from '../../errors.js';
import { registerSimulateRoutes } from './simulate.routes.js';

type Body = SimulationStatus & {
  error: { code: string; message: string; details: { field: string }[] & Record<string, unknown> };
};
const read = async (res: Response): Promise<Body> => (await res.json()) as Body;

let controllers: SimulatorController[] = [];
afterEach(async () => {
  await Promise.all(controllers.map((c) => c.close()));
  controllers = [];
});

/** The routes on their own, over a controller whose producer is a no-op (the broker is tested in test/). */
function makeApi(env: Record<string, string> = {}) {
  const config = loadConfig({ SIMULATOR_MAX_DEVICES: '50', SIMULATOR_MAX_EVENTS_PER_SECOND: '1000', ...env });
  const simulator = createSimulatorController({
    kafka: { brokers: config.KAFKA_BROKERS, clientId: 'route-test' },
    limits: { maxDevices: config.SIMULATOR_MAX_DEVICES, maxEventsPerSecond: config.SIMULATOR_MAX_EVENTS_PER_SECOND },
    clock: createManualClock(0),
    createSender: () => ({ send: async () => undefined, close: async () => undefined }),
  });
  controllers.push(simulator);
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(createErrorHandler(createSilentLogger()));
  registerSimulateRoutes(app, { simulator, config });
  return app;
}

const post = (app: ReturnType<typeof makeApi>, body: unknown, headers: Record<string, string> = {}) =>
  app.request('/simulate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('POST /simulate', () => {
  it('starts the defaults from {} with 202, then GET reports the run and DELETE stops it', async () => {
    const app = makeApi();
    const res = await post(app, {});
    expect(res.status).toBe(202);
    const body = await read(res);
    expect(body).toMatchObject({ state: 'running', config: { devices: ['dev-1', 'dev-2', 'dev-3'] } });
    expect((await read(await app.request('/simulate'))).run_id).toBe(body.run_id);
    const stopped = await app.request('/simulate', { method: 'DELETE' });
    expect(stopped.status).toBe(200);
    expect((await read(stopped)).state).toBe('stopped');
  });

  it('starts with no body at all', async () => {
    const res = await makeApi().request('/simulate', { method: 'POST' });
    expect(res.status).toBe(202);
  });

  it.each([
    [{ sigma: -1 }, 'sigma'],
    [{ device_count: 'three' }, 'device_count'],
    [{ status_interval_ms: 0.5 }, 'status_interval_ms'],
    [{ devices: ['ok', 'bad id!'] }, 'devices.1'],
    [{ devices: ['a', 'a'] }, 'devices.1'],
    [{ devices: ['a'], device_count: 2 }, 'device_count'],
    [{ sensors: { sound: { anomaly_rate: 1.5 } } }, 'sensors.sound.anomaly_rate'],
    [{ sensors: { temperature: { min: 40 } } }, 'sensors.temperature.max'],
    [{ sensors: { humidity: {} } }, 'sensors.humidity'],
    [{ speed: 3 }, 'speed'],
    [{ silent_devices: 4 }, 'silent_devices'],
    [{ silent_devices: 2, wander_devices: 2 }, 'wander_devices'],
    [{ silent_devices: 1.5 }, 'silent_devices'],
    [{ silent_devices: 1, silent_after_ms: -1 }, 'silent_after_ms'],
    [{ silent_devices: 1, silent_for_ms: 0 }, 'silent_for_ms'],
    [{ silent_for_ms: 5000 }, 'silent_for_ms'],
    [{ wander_devices: 1, wander_after_ms: 5000, duration_ms: 5000 }, 'wander_after_ms'],
    [{ wander_devices: 1, wander_for_ms: 11_999 }, 'wander_for_ms'],
    [{ wander_devices: 1, wander_for_ms: 1e12 }, 'wander_for_ms'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const res = await post(makeApi(), body);
    expect(res.status).toBe(400);
    const { error } = await read(res);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain(field);
    expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('reports the resolved script in config and its timeline in scenario; nothing scripted by default', async () => {
    const app = makeApi();
    const plain = await read(await post(app, {}));
    expect(plain.config).toMatchObject({ silent_devices: 0, silent_after_ms: null, wander_devices: 0 });
    expect(plain.scenario).toEqual({ silent: null, wander: null });
    await app.request('/simulate', { method: 'DELETE' });

    const res = await post(app, { silent_devices: 1, silent_for_ms: 20_000, wander_devices: 1, wander_after_ms: 0 });
    expect(res.status).toBe(202);
    const body = await read(res);
    expect(body.config).toMatchObject({
      silent_devices: 1,
      silent_after_ms: 10_000,
      silent_for_ms: 20_000,
      wander_devices: 1,
      wander_after_ms: 0,
      wander_for_ms: null,
    });
    // The manual clock stands at 0: dev-1 is silent over 10–30 s, dev-2 walks out over 0–10 s and stays away.
    expect(body.scenario).toEqual({
      silent: {
        devices: ['dev-1'],
        from: '1970-01-01T00:00:10.000Z',
        until: '1970-01-01T00:00:30.000Z',
        state: 'pending',
      },
      wander: {
        devices: ['dev-2'],
        from: '1970-01-01T00:00:00.000Z',
        away_from: '1970-01-01T00:00:10.000Z',
        until: null,
        back_by: null,
        state: 'leaving',
      },
    });
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await makeApi().request('/simulate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sigma":',
    });
    expect(res.status).toBe(400);
    expect((await read(res)).error.code).toBe('BAD_REQUEST');
  });

  it('answers 422 naming the limit when devices or the event rate exceed it', async () => {
    const app = makeApi();
    const many = await post(app, { device_count: 51 });
    expect(many.status).toBe(422);
    expect((await read(many)).error).toMatchObject({
      code: 'UNPROCESSABLE',
      details: { field: 'devices', limit: 50 },
    });
    const fast = await post(app, { device_count: 10, status_interval_ms: 5 });
    expect(fast.status).toBe(422);
    expect((await read(fast)).error.message).toContain('SIMULATOR_MAX_EVENTS_PER_SECOND');
  });

  it('answers 409 while a run is active instead of replacing it', async () => {
    const app = makeApi();
    const first = await read(await post(app, { seed: 1 }));
    const second = await post(app, { seed: 2 });
    expect(second.status).toBe(409);
    expect((await read(second)).error).toMatchObject({ code: 'CONFLICT', details: { run_id: first.run_id } });
    expect((await read(await app.request('/simulate'))).config?.seed).toBe(1);
  });
});

describe('API key', () => {
  const key = 'k'.repeat(24);

  it('requires x-api-key on every /simulate verb when API_KEY is set', async () => {
    const app = makeApi({ API_KEY: key });
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await app.request('/simulate', { method, headers: { 'x-api-key': 'wrong' } });
      expect(res.status).toBe(401);
      expect((await read(res)).error.code).toBe('UNAUTHORIZED');
    }
    expect((await app.request('/simulate')).status).toBe(401);
    expect((await post(app, {}, { 'x-api-key': key })).status).toBe(202);
    expect((await app.request('/simulate', { headers: { 'x-api-key': key } })).status).toBe(200);
  });

  it('is not needed when API_KEY is unset', async () => {
    expect((await makeApi().request('/simulate')).status).toBe(200);
  });
});
