// Preloaded with `node --import` (worker threads inherit it): any attempt to load tsx, the dev-only TypeScript
// loader, fails loudly. Used to prove the production build runs without it, output thread included.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (/(^|[\\\\/])tsx([\\\\/]|$)/.test(specifier) || specifier.includes('/node_modules/tsx/')) {
    throw new Error('tsx loaded in a production run: ' + specifier);
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
