// Builds the app when it is missing or older than its sources, so that `npm start` works as the first command on
// a fresh clone and never runs a stale build: dist/main.js (tsc) from src/, and dist/web/ (Vite, the map page at
// `/`) from web/. `--web` builds only the page (the browser tests run the app from its sources). Plain Node.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const webOnly = process.argv.includes('--web');

function newestSource(dir, accept) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path, accept));
    else if (accept(entry.name) && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const stale = (built, inputs) => !existsSync(built) || statSync(built).mtimeMs < inputs;

const app = join(root, 'dist', 'main.js');
const appInputs = Math.max(
  newestSource(join(root, 'src'), (name) => name.endsWith('.ts')),
  statSync(join(root, 'tsconfig.build.json')).mtimeMs,
);
if (!webOnly && stale(app, appInputs)) {
  process.stderr.write('[build] building dist/ (tsc -p tsconfig.build.json)\n');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}

const page = join(root, 'dist', 'web', 'index.html');
const pageInputs = Math.max(
  newestSource(join(root, 'web'), () => true),
  statSync(join(root, 'vite.config.ts')).mtimeMs,
);
if (stale(page, pageInputs)) {
  process.stderr.write('[build] building dist/web/ (vite build)\n');
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
}
