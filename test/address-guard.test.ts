import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '@agentjobs/sdk/webhooks';
import {
  BlockedDestinationError,
  checkWebhookUrl,
  classifyAddress,
  createGuardedConnector,
  resolveAndCheck,
  type ResolvedAddress,
  type Resolver,
} from '../src/webhooks/address-guard.js';
import { createWebhookSender, type WebhookSender } from '../src/webhooks/webhook-sender.js';
import { generateWebhookSecret } from '../src/domain/secrets.js';
import { webhookHeaders } from '../src/webhooks/signing.js';

const deny = { allowPrivate: false };
const allow = { allowPrivate: true };

// ─── Helpers: real listeners that count TCP connections, and a scripted DNS ────────────────────────────

interface Listener {
  server: Server;
  port: number;
  connections: () => number;
  sockets: Socket[];
}

const listeners: Server[] = [];
const senders: WebhookSender[] = [];

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  for (const server of listeners.splice(0)) {
    server.closeAllConnections?.();
    server.close();
  }
});

async function listen(server: Server): Promise<Listener> {
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    socket.on('error', () => {}); // our client resets connections it gives up on; that is expected here
  });
  // TLS servers report the raw TCP connection here too, before any handshake.
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  listeners.push(server);
  return { server, port: (server.address() as AddressInfo).port, connections: () => sockets.length, sockets };
}

function httpListener(handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok')): Promise<Listener> {
  return listen(createServer(handler));
}

/** A receiver that reads the request, then never answers. */
const hang = (req: IncomingMessage) => req.resume();

/** Answers each call with the next scripted answer (the last one repeats), recording the names asked. */
function scriptedResolver(...script: Array<string[] | Error>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    const answer = script[Math.min(calls.length, script.length - 1)]!;
    calls.push(hostname);
    if (answer instanceof Error) throw answer;
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

function sender(opts: Parameters<typeof createWebhookSender>[0]): WebhookSender {
  const created = createWebhookSender(opts);
  senders.push(created);
  return created;
}

function post(url: string, body = '{"type":"job.completed"}') {
  return { url, body, headers: { 'content-type': 'application/json' } };
}

/** Resolves when the server side of a connection has closed (a reset counts: `once` would reject on it). */
function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });

// ─── checkWebhookUrl ─────────────────────────────────────────────────────────────────────────────────────

describe('checkWebhookUrl refuses destinations inside the network', () => {
  const refused: Array<[url: string, reason: string]> = [
    // Loopback in every spelling the WHATWG parser folds into 127.0.0.1.
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://017700000001/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://①②⑦.⓪.⓪.①/', 'loopback'],
    ['http://127.0.0.1:80\\@evil.test/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
    // IPv6 forms that embed an IPv4 address are judged by it.
    ['http://[::ffff:127.0.0.1]/', 'ipv4_mapped'],
    ['http://[::ffff:7f00:1]/', 'ipv4_mapped'],
    ['http://[0:0:0:0:0:ffff:a00:1]/', 'ipv4_mapped'],
    ['http://[64:ff9b::7f00:1]/', 'nat64'],
    ['http://[64:ff9b:1::a00:1]/', 'nat64'],
    ['http://[::127.0.0.1]/', 'ipv4_compatible'],
    ['http://[2002:7f00:1::]/', '6to4'],
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'teredo'],
    // Unspecified addresses reach the local host on Linux.
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    // Cloud metadata, directly and through every wrapper.
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://169.254.169.254./latest/meta-data/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://100.100.100.200/', 'metadata'],
    ['http://169.254.170.2/v2/credentials', 'metadata'],
    ['http://[::ffff:a9fe:a9fe]/', 'metadata'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'metadata'],
    ['http://[2002:a9fe:a9fe::]/', 'metadata'],
    // Private, shared, link-local, unique-local.
    ['http://100.64.0.1/', 'shared'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://169.254.1.1/', 'link_local'],
    ['http://[fe80::1]/', 'link_local'],
    ['http://[fc00::1]/', 'unique_local'],
    ['http://[fd12:3456::1]/', 'unique_local'],
    // Multicast, broadcast, reserved, documentation, benchmarking.
    ['http://224.0.0.1/', 'multicast'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://240.0.0.1/', 'reserved'],
    ['http://[100::1]/', 'reserved'],
    ['http://192.0.2.1/', 'documentation'],
    ['http://198.51.100.1/', 'documentation'],
    ['http://203.0.113.1/', 'documentation'],
    ['http://[2001:db8::1]/', 'documentation'],
    ['http://198.18.0.1/', 'benchmarking'],
    // Names that are loopback by definition (RFC 6761).
    ['http://localhost/', 'localhost'],
    ['http://LOCALHOST./', 'localhost'],
    ['http://foo.localhost:3000/', 'localhost'],
    // Shape of the URL itself.
    ['http://evil.test@127.0.0.1/', 'credentials_in_url'],
    ['https://user:pass@hooks.example.com/', 'credentials_in_url'],
    ['http://127.0.0.1%2f@evil.test/', 'credentials_in_url'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://evil.test:70/_GET', 'scheme'],
    ['ftp://evil.test/', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['dict://127.0.0.1:6379/info', 'scheme'],
    ['https://hooks.example.com:0/', 'port'],
    [`https://hooks.example.com/${'a'.repeat(2048)}`, 'too_long'],
    ['http://[fe80::1%25eth0]/', 'invalid_url'],
    ['not a url', 'invalid_url'],
  ];

  it.each(refused)('%s → %s', (url, reason) => {
    const result = checkWebhookUrl(url, deny);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).toMatch(/webhook/);
  });

  it('covers at least 35 distinct destination forms', () => {
    expect(refused.length).toBeGreaterThanOrEqual(35);
  });

  it('accepts public destinations and hands back the parsed URL', () => {
    for (const url of ['http://93.184.216.34/hook', 'https://[2606:4700::1111]/hook', 'https://hooks.example.com/agentjobs?x=1', 'https://example.com:8443/']) {
      const result = checkWebhookUrl(url, deny);
      expect(result.ok, url).toBe(true);
      if (result.ok) expect(result.url.href).toBe(new URL(url).href);
    }
  });

  it('lets --allow-private-webhooks reach local receivers, but never cloud metadata', () => {
    for (const url of ['http://127.0.0.1:3000/', 'http://localhost:3000/', 'http://[::1]/', 'http://10.0.0.1/', 'http://[fd12:3456::1]/']) {
      expect(checkWebhookUrl(url, allow).ok, url).toBe(true);
    }
    for (const url of ['http://169.254.169.254/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://[::ffff:a9fe:a9fe]/']) {
      expect(checkWebhookUrl(url, allow), url).toMatchObject({ ok: false, reason: 'metadata' });
    }
    expect(checkWebhookUrl('file:///etc/passwd', allow)).toMatchObject({ ok: false, reason: 'scheme' });
  });
});

describe('classifyAddress', () => {
  it('judges IPv4-embedding IPv6 forms by the address they carry', () => {
    expect(classifyAddress('::ffff:93.184.216.34')).toBeNull();
    expect(classifyAddress('64:ff9b::5db8:d822')).toBeNull();
    expect(classifyAddress('2002:5db8:d822::1')).toBeNull();
    expect(classifyAddress('::ffff:10.1.2.3')).toBe('ipv4_mapped');
    expect(classifyAddress('2002:c0a8:101::')).toBe('6to4');
  });

  it('treats public unicast as public and everything outside 2000::/3 as reserved', () => {
    expect(classifyAddress('8.8.8.8')).toBeNull();
    expect(classifyAddress('[2606:4700::1111]')).toBeNull();
    expect(classifyAddress('5f00::1')).toBe('reserved');
    expect(classifyAddress('fe80::1%eth0')).toBe('link_local');
    expect(classifyAddress('fd00:ec2::254%eth0')).toBe('metadata');
  });

  it('fails closed on anything that is not an IP address', () => {
    expect(classifyAddress('example.com')).toBe('invalid');
    expect(classifyAddress('127.1')).toBe('invalid');
    expect(classifyAddress('')).toBe('invalid');
  });
});

// ─── resolveAndCheck ─────────────────────────────────────────────────────────────────────────────────────

describe('resolveAndCheck', () => {
  const url = (s: string) => new URL(s);

  it('refuses a name that resolves to loopback', async () => {
    const resolver = scriptedResolver(['127.0.0.1']);
    expect(await resolveAndCheck(url('http://127.0.0.1.nip.io/'), { ...deny, resolver })).toMatchObject({ ok: false, reason: 'loopback' });
    expect(resolver.calls).toEqual(['127.0.0.1.nip.io']);
  });

  it('refuses a name that resolves to the metadata endpoint', async () => {
    const resolver = scriptedResolver(['169.254.169.254']);
    expect(await resolveAndCheck(url('http://metadata.google.internal/'), { ...allow, resolver })).toMatchObject({ ok: false, reason: 'metadata' });
  });

  it('refuses when ANY answer is blocked, whatever its position', async () => {
    for (const answers of [['93.184.216.34', '10.0.0.5'], ['10.0.0.5', '93.184.216.34'], ['2606:4700::1111', '::1']]) {
      const result = await resolveAndCheck(url('https://mixed.example/'), { ...deny, resolver: scriptedResolver(answers) });
      expect(result.ok, answers.join()).toBe(false);
    }
  });

  it('returns every address of a public name', async () => {
    const resolver = scriptedResolver(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']);
    expect(await resolveAndCheck(url('https://example.com/'), { ...deny, resolver })).toEqual({
      ok: true,
      addresses: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
    });
  });

  it('reports a name that does not resolve as unresolved, so dispatch can accept it', async () => {
    expect(await resolveAndCheck(url('https://nx.example/'), { ...deny, resolver: scriptedResolver(notFound) })).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
    expect(await resolveAndCheck(url('https://empty.example/'), { ...deny, resolver: scriptedResolver([]) })).toMatchObject({
      ok: false,
      reason: 'unresolved',
    });
  });

  it('classifies IP literals without asking DNS', async () => {
    const resolver = scriptedResolver(['93.184.216.34']);
    expect(await resolveAndCheck(url('http://[::1]/'), { ...deny, resolver })).toMatchObject({ ok: false, reason: 'loopback' });
    expect(await resolveAndCheck(url('http://[2606:4700::1111]/'), { ...deny, resolver })).toEqual({
      ok: true,
      addresses: [{ address: '2606:4700::1111', family: 6 }],
    });
    expect(resolver.calls).toEqual([]);
  });
});

// ─── Delivery through the guarded sender ─────────────────────────────────────────────────────────────────

describe('the webhook sender', () => {
  it('refuses a blocked IP literal without opening a connection', async () => {
    const target = await httpListener();
    const resolver = scriptedResolver(['93.184.216.34']);
    const s = sender({ ...deny, timeoutMs: 2000, resolver });
    for (const host of ['127.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '0.0.0.0']) {
      const result = await s.send(post(`http://${host}:${target.port}/`));
      expect(result, host).toMatchObject({ outcome: 'blocked_destination', statusCode: null });
      expect(result.error).toMatch(/webhook destination/);
    }
    expect(target.connections()).toBe(0);
    expect(resolver.calls).toEqual([]);
  });

  it('refuses a name that resolves to loopback, resolving once and opening no connection', async () => {
    const target = await httpListener();
    const resolver = scriptedResolver(['127.0.0.1']);
    const result = await sender({ ...deny, timeoutMs: 2000, resolver }).send(post(`http://loop.example:${target.port}/`));
    expect(result).toMatchObject({ outcome: 'blocked_destination', statusCode: null });
    expect(target.connections()).toBe(0);
    expect(resolver.calls).toEqual(['loop.example']);
  });

  it('is not fooled by DNS rebinding: public at dispatch, loopback at delivery → blocked, 0 connections', async () => {
    const target = await httpListener();
    const resolver = scriptedResolver(['93.184.216.34'], ['127.0.0.1']);
    const hook = `http://rebind.example:${target.port}/`;
    expect(await resolveAndCheck(new URL(hook), { ...deny, resolver })).toMatchObject({ ok: true });

    const result = await sender({ ...deny, timeoutMs: 2000, resolver }).send(post(hook));
    expect(result.outcome).toBe('blocked_destination');
    expect(target.connections()).toBe(0);
    expect(resolver.calls).toHaveLength(2); // one at dispatch, exactly one for the delivery's connection
  });

  it('refuses mixed answers at delivery without connecting to either address', async () => {
    const target = await httpListener();
    const resolver = scriptedResolver(['93.184.216.34', '127.0.0.1']);
    const result = await sender({ ...deny, timeoutMs: 2000, resolver }).send(post(`http://mixed.example:${target.port}/`));
    expect(result.outcome).toBe('blocked_destination');
    expect(target.connections()).toBe(0);
  });

  it('checks IP literals in the connector itself, even when nothing checked them before', async () => {
    const target = await httpListener();
    const connect = createGuardedConnector({ ...deny, resolver: scriptedResolver(['93.184.216.34']) });
    const err = await new Promise<Error | null>((resolve) =>
      connect({ hostname: '127.0.0.1', host: `127.0.0.1:${target.port}`, protocol: 'http:', port: String(target.port) }, (e, socket) => {
        socket?.destroy();
        resolve(e);
      }),
    );
    expect(err).toBeInstanceOf(BlockedDestinationError);
    expect((err as BlockedDestinationError).reason).toBe('loopback');
    expect(target.connections()).toBe(0);
  });

  it('connects only to the address it validated and keeps the host name in the request', async () => {
    let host: string | undefined;
    const target = await httpListener((req, res) => {
      host = req.headers.host;
      res.end('ok');
    });
    const resolver = scriptedResolver(['127.0.0.1']);
    const s = sender({ ...allow, timeoutMs: 2000, resolver });
    expect((await s.send(post(`http://hooks.test:${target.port}/`))).outcome).toBe('ok');
    await new Promise((r) => setTimeout(r, 20)); // undici returns the socket to the pool just after the body ends
    expect((await s.send(post(`http://hooks.test:${target.port}/`))).outcome).toBe('ok');
    expect(host).toBe(`hooks.test:${target.port}`);
    // Keep-alive reuses the validated connection: one socket, one resolution for two deliveries.
    expect(target.connections()).toBe(1);
    expect(resolver.calls).toEqual(['hooks.test']);
  });

  it('delivers signed bytes unchanged to a loopback receiver when private destinations are allowed', async () => {
    const secret = generateWebhookSecret();
    const received: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];
    const target = await httpListener(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
    const body = JSON.stringify({
      type: 'job.completed',
      timestamp: '2026-03-19T12:04:33.000Z',
      data: { job: { id: 'job_01hx', note: 'Zürich \u2028 🚀' }, observer_job_id: 'job_01hx', sequence: 2 },
    });
    const headers = webhookHeaders({ secrets: [secret], msgId: 'msg_01hx', timestamp: Math.floor(Date.now() / 1000), body });

    const result = await sender({ ...allow, timeoutMs: 2000 }).send({ url: `http://127.0.0.1:${target.port}/hook`, headers, body });

    expect(result).toMatchObject({ outcome: 'ok', statusCode: 204, error: null });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['user-agent']).toBe('agentjobs-webhooks/1');
    expect(verifyWebhook(secret, received[0]!.headers, received[0]!.body).data.job.note).toBe('Zürich \u2028 🚀');
  });

  it('never follows a redirect, not even to an allowed address', async () => {
    const internal = await httpListener();
    for (const status of [301, 302, 307, 308]) {
      const redirecting = await httpListener((_req, res) => {
        res.writeHead(status, { location: `http://127.0.0.1:${internal.port}/latest/meta-data/` }).end('moved');
      });
      const result = await sender({ ...allow, timeoutMs: 2000 }).send(post(`http://127.0.0.1:${redirecting.port}/`));
      expect(result).toMatchObject({ outcome: 'redirect_not_followed', statusCode: status });
      expect(result.error).toContain(`http://127.0.0.1:${internal.port}/latest/meta-data/`);
      expect(result.error).not.toContain('moved'); // no response body for redirects
    }
    expect(internal.connections()).toBe(0);
  });

  it('gives up at the timeout when the receiver never answers, and closes the socket', async () => {
    const target = await httpListener(hang);
    const started = Date.now();
    const result = await sender({ ...allow, timeoutMs: 300 }).send(post(`http://127.0.0.1:${target.port}/`));
    expect(result).toMatchObject({ outcome: 'timeout', statusCode: null });
    expect(Date.now() - started).toBeLessThan(300 + 2200);
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    await closed(target.sockets[0]!);
  });

  it('counts a hanging DNS answer against the same timeout', async () => {
    const neverResolves: Resolver = () => new Promise(() => {});
    const result = await sender({ ...deny, timeoutMs: 300, resolver: neverResolves }).send(post('https://slow-dns.example/'));
    expect(result.outcome).toBe('timeout');
    expect(result.latencyMs).toBeLessThan(2500);
  });

  it('reports error statuses with a short excerpt, and 410 as a status the caller acts on', async () => {
    const target = await httpListener((req, res) => {
      res.writeHead(req.url === '/gone' ? 410 : 500, { 'content-type': 'text/plain' }).end(`boom ${'x'.repeat(5000)}`);
    });
    const s = sender({ ...allow, timeoutMs: 2000 });
    const failed = await s.send(post(`http://127.0.0.1:${target.port}/`));
    expect(failed).toMatchObject({ outcome: 'http_status', statusCode: 500 });
    expect(failed.error).toMatch(/^HTTP 500: boom x+$/);
    expect(Buffer.byteLength(failed.error!)).toBeLessThanOrEqual(1024 + 'HTTP 500: '.length);
    expect(await s.send(post(`http://127.0.0.1:${target.port}/gone`))).toMatchObject({ outcome: 'http_status', statusCode: 410 });
  });

  it('stops reading a huge response at the bound, and a 2xx still counts as delivered', async () => {
    let bytesWritten = 0;
    const stream = (status: number) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      // An endless body: without the bound the send would run into its timeout.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) bytesWritten += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const endless = await httpListener(stream(200));
    const s = sender({ ...allow, timeoutMs: 5000, maxResponseBytes: 64 * 1024 });
    const ok = await s.send(post(`http://127.0.0.1:${endless.port}/`));
    expect(ok).toMatchObject({ outcome: 'ok', statusCode: 200, error: null });
    expect(ok.latencyMs).toBeLessThan(2000);
    await closed(endless.sockets[0]!);
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024); // the server gave up long before a gigabyte

    const endlessError = await httpListener(stream(503));
    const failed = await s.send(post(`http://127.0.0.1:${endlessError.port}/`));
    expect(failed).toMatchObject({ outcome: 'http_status', statusCode: 503 });
    expect(Buffer.byteLength(failed.error!)).toBeLessThanOrEqual(1024 + 'HTTP 503: '.length);
  });

  it('reports oversized response headers as response_too_large', async () => {
    const target = await httpListener((_req, res) => res.writeHead(200, { 'x-padding': 'a'.repeat(100_000) }).end());
    const result = await sender({ ...allow, timeoutMs: 2000 }).send(post(`http://127.0.0.1:${target.port}/`));
    expect(result.outcome).toBe('response_too_large');
  });

  it('does not let a hanging endpoint delay a healthy one', async () => {
    const hanging = await httpListener(hang);
    const healthy = await httpListener();
    const s = sender({ ...allow, timeoutMs: 3000, connectionsPerOrigin: 2 });
    const stuck = Array.from({ length: 6 }, () => s.send(post(`http://127.0.0.1:${hanging.port}/`)));
    await new Promise((r) => setTimeout(r, 100)); // let the hanging requests take their sockets

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 3 }, () => s.send(post(`http://127.0.0.1:${healthy.port}/`))));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(results.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
    // A slow endpoint holds at most its own pool, not every socket.
    expect(hanging.connections()).toBe(2);
    expect((await Promise.all(stuck)).every((r) => r.outcome === 'timeout')).toBe(true);
  });

  it('reports a name that does not resolve at delivery as dns_error', async () => {
    const result = await sender({ ...deny, timeoutMs: 2000, resolver: scriptedResolver(notFound) }).send(post('https://nx.example/'));
    expect(result).toMatchObject({ outcome: 'dns_error', statusCode: null });
    expect(result.error).toContain('nx.example');
  });

  it('reports a refused connection as connection_error', async () => {
    const closed = await httpListener();
    const port = closed.port;
    closed.server.close();
    await once(closed.server, 'close');
    const result = await sender({ ...allow, timeoutMs: 2000 }).send(post(`http://127.0.0.1:${port}/`));
    expect(result).toMatchObject({ outcome: 'connection_error', statusCode: null });
    expect(result.error).toContain('ECONNREFUSED');
  });

  it('ignores ambient HTTP(S)_PROXY variables', async () => {
    const proxy = await httpListener((_req, res) => res.writeHead(502).end());
    const target = await httpListener();
    const saved = { ...process.env };
    try {
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) process.env[name] = `http://127.0.0.1:${proxy.port}`;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      const result = await sender({ ...allow, timeoutMs: 2000 }).send(post(`http://127.0.0.1:${target.port}/`));
      expect(result.outcome).toBe('ok');
    } finally {
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    expect(proxy.connections()).toBe(0);
    expect(target.connections()).toBe(1);
  });

  it('keeps the host name for TLS (SNI) while pinning the address, and verifies the certificate', async () => {
    const servernames: string[] = [];
    const server = createHttpsServer({
      key: TEST_KEY,
      cert: TEST_CERT,
      SNICallback: (name, cb) => {
        servernames.push(name);
        cb(null, createSecureContext({ key: TEST_KEY, cert: TEST_CERT }));
      },
    });
    server.on('tlsClientError', () => {}); // the client rejects our self-signed certificate
    const target = await listen(server);
    const resolver = scriptedResolver(['127.0.0.1']);
    const result = await sender({ ...allow, timeoutMs: 2000, resolver }).send(post(`https://hooks.test:${target.port}/`));
    expect(result).toMatchObject({ outcome: 'tls_error', statusCode: null });
    expect(servernames).toEqual(['hooks.test']);
    expect(resolver.calls).toEqual(['hooks.test']);
  });
});

// A self-signed certificate for hooks.test (P-256, valid until 2126): nothing trusts it, which is the point.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKuajq8xOxTvMffDL
X8aKyXrKoUrJEdjS+KX+Fmq/hMihRANCAASVw3gnszHZ3/yultOtbF/YXMqEik74
b9YYU7Bwk0Cw1Afq0e8lBTS8J6srSQGl65pbUAzeXtNTdjKfMwaNvW50
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmTCCAT6gAwIBAgIULZ3s42x4A7RuiDAZwAqewUGnH5kwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKaG9va3MudGVzdDAgFw0yNjExMjkxNjMzNTJaGA8yMTI2MTEw
NTE2MzM1MlowFTETMBEGA1UEAwwKaG9va3MudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABJXDeCezMdnf/K6W061sX9hcyoSKTvhv1hhTsHCTQLDUB+rR7yUF
NLwnqytJAaXrmltQDN5e01N2Mp8zBo29bnSjajBoMB0GA1UdDgQWBBQVDAPt4lLy
0LfHgLrNYkJvkG/QRDAfBgNVHSMEGDAWgBQVDAPt4lLy0LfHgLrNYkJvkG/QRDAP
BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCmhvb2tzLnRlc3QwCgYIKoZIzj0E
AwIDSQAwRgIhAKOc90osToZxYTabNfYPwWCEikDfFs1wduqQbsVaPp2MAiEA9nSA
nobTDW1xp/ePpg+wuTfEjgpUm+IYdDPXetX1bjg=
-----END CERTIFICATE-----
`;
