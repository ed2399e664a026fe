import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** A static file of the dashboard, read once at start. */
interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The page may load and call nothing but this server: no CDN, no font service, no analytics, no request
 * leaving the machine — and injected markup could not run script even if a rendering bug let some in.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The folder of the static files: `src/dashboard/public` under tsx, `dist/dashboard/public` once built. */
export const DASHBOARD_PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Serves the dashboard: `GET /` is the page, `GET /dashboard/*` its modules and styles. The files are plain
 * modern JavaScript and CSS, so there is no build step; they are read into memory once (a few tens of KiB)
 * and revalidated by ETag, so a new version is picked up on the next load after a restart.
 *
 * The routes take no credential: the page is public, and the API calls it makes carry the API key the user
 * signs in with (`Authorization: Bearer`, kept in sessionStorage).
 */
export function dashboardPlugin(app: FastifyInstance, options: { dir?: string } = {}): void {
  const assets = loadAssets(options.dir ?? DASHBOARD_PUBLIC_DIR);
  const index = assets.get('index.html');
  if (!index) throw new Error(`the dashboard's index.html is missing from ${options.dir ?? DASHBOARD_PUBLIC_DIR}; run npm run build`);

  const send = (reply: FastifyReply, asset: Asset, ifNoneMatch: string | undefined) => {
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      // Revalidate every time: a restart with new files must not leave an old module cached beside a new one.
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag);
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  app.get('/', { schema: { hide: true } }, async (request, reply) => send(reply, index, request.headers['if-none-match']));
  app.get<{ Params: { '*': string } }>('/dashboard/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    if (!asset) return reply.callNotFound();
    return send(reply, asset, request.headers['if-none-match']);
  });
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const type = TYPES[extname(entry.name)];
    if (!type) continue;
    const body = readFileSync(path);
    // URL paths use '/', whatever the platform's separator.
    const name = relative(dir, path).split(sep).join('/');
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}
