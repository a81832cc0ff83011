import { describe, expect, it } from 'vitest';
import { pingDatabase } from '../../src/sink/database.js';
import { createTestDatabase } from '../helpers/db.js';

describe('the local PostgreSQL', () => {
  it('writes and reads rows in a schema of this test file', async () => {
    const { sql, schema } = await createTestDatabase();
    await pingDatabase(sql);
    await sql`create table probe (id text primary key, ts bigint not null, value double precision)`;
    await sql`insert into probe ${sql([
      { id: 'a', ts: 1_732_000_000_000, value: 1.5 },
      { id: 'b', ts: 2, value: null },
    ])}`;
    const rows = await sql`select id, ts, value from probe order by id`;
    expect(rows).toEqual([
      { id: 'a', ts: 1_732_000_000_000, value: 1.5 },
      { id: 'b', ts: 2, value: null },
    ]);
    const [where] = await sql`select current_schema() as schema`;
    expect(where?.['schema']).toBe(schema);
  });

  it('reports an unreachable server as an UnavailableError naming postgresql', async () => {
    const { createDatabase } = await import('../../src/sink/database.js');
    const sql = createDatabase({ url: 'postgres://nobody@127.0.0.1:1/none', poolMax: 1 });
    await expect(pingDatabase(sql)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      dependency: 'postgresql',
    });
    await sql.end({ timeout: 1 });
  });
});
