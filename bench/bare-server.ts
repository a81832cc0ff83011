/**
 * The reference for `bench/api.ts`: a bare node:http server returning, for each path, the exact bytes and
 * content type the API returned for it (read from the JSON file named by argv[2]).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const bodies = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Record<
  string,
  { type: string; body: string }
>;
const prepared = new Map(
  Object.entries(bodies).map(([path, b]) => [path, { type: b.type, body: Buffer.from(b.body, 'utf8') }]),
);
const server = createServer((req, res) => {
  const hit = prepared.get(req.url ?? '');
  if (!hit) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': hit.type, 'content-length': hit.body.length });
  res.end(hit.body);
});
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') server.close(() => process.exit(0));
});
