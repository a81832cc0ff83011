import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, registerWebRoutes } from './web.routes.js';

function builtPage(): string {
  const root = mkdtempSync(join(tmpdir(), 'web-root-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>map</title>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  return root;
}

const app = (config: Parameters<typeof registerWebRoutes>[1]['config'], root = builtPage()) => {
  const api = new OpenAPIHono();
  registerWebRoutes(api, { config, root });
  return api;
};

describe('the web routes', () => {
  it('serve the page and its hashed assets with content types, caching and the policy', async () => {
    const api = app({});
    const page = await api.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy({}));
    const script = await api.request('/assets/index-abc123.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(await script.text()).toBe('console.log(1)');
    expect((await api.request('/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
    expect((await api.request('/assets/missing.js')).status).toBe(404);
    expect((await api.request('/assets/..%2Findex.html')).status).toBe(404);
  });

  it('name the tile origin in img-src only when MAP_TILE_URL is set, and pass the settings to the page', async () => {
    expect(contentSecurityPolicy({})).toContain("img-src 'self';");
    expect(contentSecurityPolicy({})).toContain("default-src 'self'");
    const tiles = 'https://tiles.example.org/{z}/{x}/{y}.png';
    expect(contentSecurityPolicy({ MAP_TILE_URL: tiles })).toContain("img-src 'self' https://tiles.example.org;");
    const config = await app({
      MAP_TILE_URL: tiles,
      MAP_TILE_ATTRIBUTION: '© Example',
      API_KEY: 'k'.repeat(16),
    }).request('/web/config.json');
    expect(await config.json()).toEqual({ tile_url: tiles, tile_attribution: '© Example', api_key_required: true });
  });

  it('say how to build the page when it is not built', async () => {
    const res = await app({}, join(tmpdir(), 'no-such-web-root')).request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
  });
});
