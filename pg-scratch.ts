import { loadInfraSettings, postgresDown, postgresUp } from './scripts/infra.js';
import { createDatabase } from './src/sink/database.js';
const s = loadInfraSettings(process.env);
const sql = createDatabase({ url: 'postgres://telemetry@127.0.0.1:5433/telemetry', poolMax: 10, connectTimeoutMs: 2000 });
await Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(0.05)`));
await postgresDown(s);
for (let i = 0; i < 12; i++) {
  const t = Date.now();
  const r = await Promise.allSettled([sql`select 1`, sql`select 2`]);
  console.log(Date.now() - t, r.map((x) => x.status === 'rejected' ? (x.reason as any).code : 'ok').join(','));
  await new Promise((r) => setTimeout(r, 300));
}
await postgresUp(s);
await sql.end();
