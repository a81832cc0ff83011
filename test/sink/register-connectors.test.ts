import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerAllConnectors } from '../../scripts/register-connectors.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { startFakeConnect } from '../deployment/fake-rest.js';

describe('npm run connect:register', () => {
  it('waits for Connect and its plugin, creates both connectors, and only updates them on a second run', async () => {
    const connect = await startFakeConnect(2); // the JDBC plugin shows up on the third poll
    try {
      connect.failNext(1, 503, { message: 'starting' });
      const env = { CONNECT_URL: connect.url, CONNECT_WAIT_MS: '20000' };
      const first = await registerAllConnectors(env, createSilentLogger(), 20);
      const names = ['warehouse-device-winagg-status-per2s', 'warehouse-device-winagg-status-perdevice'];
      expect(first).toEqual({ created: names, updated: [] });
      const file = JSON.parse(
        readFileSync(join(import.meta.dirname, '..', '..', 'connect', 'device-winagg-status-per2s.json'), 'utf8'),
      ) as { name: string; config: Record<string, string> };
      // The body of PUT /connectors/<name>/config is the flat config; placeholders are sent unresolved.
      expect(connect.configs.get(file.name)).toEqual({ ...file.config, name: file.name });
      expect(await registerAllConnectors(env, createSilentLogger(), 20)).toEqual({ created: [], updated: names });
      expect(connect.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual(
        [...names, ...names].map((n) => `/connectors/${n}/config`),
      );
    } finally {
      await connect.close();
    }
  });
});
