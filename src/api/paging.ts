/**
 * What the paged warehouse routes share: the `from`/`to` range check, cursors that do not decode as 400 naming
 * `cursor`, and the next page's position in `X-Next-Cursor` and `Link: <…>; rel="next"` (the body stays a bare
 * array).
 */
import type { Context } from 'hono';
import { AppError } from '../errors.js';
import { InvalidCursorError } from '../warehouse-reader/warehouse-reader.js';
import { parseTimeParam } from './schemas/common.js';

/** `from`/`to` (already validated by the route schema) as epoch ms; 400 naming `from` unless `from` < `to`. */
export function timeRange(query: { from?: string | undefined; to?: string | undefined }): {
  from?: number;
  to?: number;
} {
  const from = query.from === undefined ? undefined : parseTimeParam(query.from);
  const to = query.to === undefined ? undefined : parseTimeParam(query.to);
  if (from !== undefined && to !== undefined && from >= to) throw invalidRange('`from` must be earlier than `to`');
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** The 400 for a `from`/`to` pair that does not make a usable range; it names `from`. */
export function invalidRange(message: string): AppError {
  return new AppError('BAD_REQUEST', 'invalid query parameter: from, to', { details: [{ field: 'from', message }] });
}

/** Runs a paged read; a cursor the reader refuses becomes 400 naming `cursor`. */
export async function readPage<P>(read: () => Promise<P>): Promise<P> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidCursorError) {
      throw new AppError('BAD_REQUEST', 'invalid query parameter: cursor', {
        details: [{ field: 'cursor', message: err.message }],
      });
    }
    throw err;
  }
}

/**
 * When there is a next page: `X-Next-Cursor`, and a `Link` to the request's own URL with `cursor` replaced and
 * `params` set (the defaults the request left out, so the link asks for the same rows).
 */
export function setNextPage(c: Context, next: string | undefined, params: Record<string, string> = {}): void {
  if (next === undefined) return;
  const url = new URL(c.req.url);
  url.searchParams.set('cursor', next);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  c.header('X-Next-Cursor', next);
  c.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
}
