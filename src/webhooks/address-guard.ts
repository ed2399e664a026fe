/**
 * The SSRF guard for webhook destinations.
 *
 * A webhook URL is chosen by whoever dispatches a job, and the server POSTs to it from inside its own
 * network. Without a guard, `http://169.254.169.254/…` or `http://10.0.0.5:6379/` turns the server into a
 * proxy into that network. This module decides which destinations are acceptable, and gives the webhook
 * sender (`webhook-sender.ts`) the connector it must connect through, so the decision and the connection
 * cannot drift apart:
 *
 * 1. {@link checkWebhookUrl} — synchronous checks on the WHATWG-parsed URL (scheme, userinfo, port,
 *    length, IP literals, `localhost`). Used at dispatch and again before every send.
 * 2. {@link resolveAndCheck} — resolves a name and refuses it if ANY answer is blocked. Used at dispatch.
 * 3. {@link createGuardedConnector} — an undici connector that resolves once per connection, validates
 *    every address and hands only those to the socket (connect-time pinning), so a DNS answer that changes
 *    between the check and the connection (rebinding) cannot reach a blocked address.
 *
 * With `allowPrivate` (the server's `--allow-private-webhooks`) every refusal is lifted except cloud
 * metadata endpoints, which hand out credentials and are never a legitimate webhook receiver.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildConnector } from 'undici';

// ─── Classifying one address ────────────────────────────────────────────────────────────────────────────

/** Why an address is not a public unicast destination. */
export type AddressBlockReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'multicast'
  | 'unspecified'
  | 'documentation'
  | 'reserved'
  | 'benchmarking'
  | 'broadcast'
  | 'unique_local'
  | 'metadata'
  | 'ipv4_mapped'
  | 'ipv4_compatible'
  | 'nat64'
  | '6to4'
  | 'teredo'
  | 'invalid';

type Range = readonly [ipaddr.IPv4 | ipaddr.IPv6, number];
type RangeTable = ReadonlyArray<readonly [Range, AddressBlockReason]>;

const ranges = (rows: ReadonlyArray<readonly [string, AddressBlockReason]>): RangeTable =>
  rows.map(([cidr, reason]) => [ipaddr.parseCIDR(cidr), reason] as const);

/**
 * IANA's IPv4 special-purpose registry, minus the few globally reachable entries (AS112, AMT).
 * First match wins, so the broadcast /32 comes before the 240/4 it sits in.
 */
const IPV4_BLOCKED = ranges([
  ['0.0.0.0/8', 'unspecified'], // "this network"; connecting to 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'], // carrier-grade NAT, RFC 6598
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

/**
 * IPv6 ranges named for a clearer reason. Anything outside 2000::/3 (global unicast) is refused as
 * `reserved` anyway, so this list only has to be complete inside 2000::/3.
 */
const IPV6_BLOCKED = ranges([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'nat64'], // local-use NAT64 (RFC 8215): translates into the operator's own network
  ['2001::/32', 'teredo'], // the embedded client address is obfuscated and Teredo is dead: refuse outright
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'reserved'], // IETF protocol assignments (ORCHID, …)
  ['3fff::/20', 'documentation'], // RFC 9637
  ['fc00::/7', 'unique_local'],
  ['fe80::/10', 'link_local'],
  ['fec0::/10', 'reserved'], // deprecated site-local
  ['ff00::/8', 'multicast'],
]);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * IPv6 forms that carry an IPv4 address. They are judged by that address: `::ffff:127.0.0.1` reaches
 * 127.0.0.1 on a dual-stack host, and a NAT64 gateway turns `64:ff9b::a9fe:a9fe` into 169.254.169.254.
 * Node's BlockList only unwraps the mapped form, which is why every form is spelled out here.
 */
const IPV6_EMBEDDING: ReadonlyArray<readonly [Range, AddressBlockReason, (parts: number[]) => number[]]> = [
  [ipaddr.parseCIDR('::ffff:0:0/96'), 'ipv4_mapped', (p) => wordsToOctets(p[6]!, p[7]!)],
  [ipaddr.parseCIDR('64:ff9b::/96'), 'nat64', (p) => wordsToOctets(p[6]!, p[7]!)],
  [ipaddr.parseCIDR('2002::/16'), '6to4', (p) => wordsToOctets(p[1]!, p[2]!)],
  // Deprecated IPv4-compatible `::a.b.c.d`; `::` and `::1` are matched before this is consulted.
  [ipaddr.parseCIDR('::/96'), 'ipv4_compatible', (p) => wordsToOctets(p[6]!, p[7]!)],
];

/**
 * Cloud instance-metadata endpoints: they hand out credentials, so they are refused even when private
 * destinations are allowed. AWS (IMDS v4/v6, ECS task credentials, EKS pod identity), GCP and Azure
 * (169.254.169.254), Alibaba (100.100.100.200), Oracle's legacy 192.0.0.192.
 */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(
  [
    '169.254.169.254',
    '169.254.170.2',
    '169.254.170.23',
    '100.100.100.200',
    '192.0.0.192',
    'fd00:ec2::254',
    'fd00:ec2::23',
  ].map((a) => ipaddr.parse(a).toNormalizedString()),
);

/** Reasons that `allowPrivate` does not lift. */
const ALWAYS_REFUSED: ReadonlySet<AddressBlockReason> = new Set(['metadata', 'invalid']);

/**
 * Says why an IP address must not receive webhooks, or `null` when it is public unicast.
 *
 * Accepts dotted IPv4 and IPv6 (brackets and zone ids allowed). IPv4-mapped, NAT64 (`64:ff9b::/96`),
 * 6to4 and IPv4-compatible addresses are judged by the IPv4 address they embed and reported as their
 * form (`ipv4_mapped`, …), or as `metadata` when they embed a metadata endpoint; local-use NAT64
 * (`64:ff9b:1::/48`) and Teredo (`2001::/32`) are refused outright. Anything that is not an IP address
 * is `invalid`, so a caller that forgets to resolve a name fails closed.
 */
export function classifyAddress(ip: string): AddressBlockReason | null {
  const bare = stripBrackets(ip);
  if (isIP(bare) === 0) return 'invalid';
  // A zone id (`%eth0`) only scopes the address to an interface; left on, it would make
  // `fd00:ec2::254%eth0` miss the metadata set.
  const address = ipaddr.parse(bare.split('%')[0]!);
  return address.kind() === 'ipv4' ? classifyIPv4(address as ipaddr.IPv4) : classifyIPv6(address as ipaddr.IPv6);
}

function classifyIPv4(address: ipaddr.IPv4): AddressBlockReason | null {
  if (METADATA_ADDRESSES.has(address.toNormalizedString())) return 'metadata';
  return firstMatch(address, IPV4_BLOCKED);
}

function classifyIPv6(address: ipaddr.IPv6): AddressBlockReason | null {
  if (METADATA_ADDRESSES.has(address.toNormalizedString())) return 'metadata';
  // ::/128 and ::1/128 sit inside ::/96; they must not be read as IPv4-compatible 0.0.0.0 / 0.0.0.1.
  const named = firstMatch(address, IPV6_BLOCKED);
  if (named === 'unspecified' || named === 'loopback') return named;
  for (const [range, form, extract] of IPV6_EMBEDDING) {
    if (address.match(range as [ipaddr.IPv6, number])) {
      const embedded = classifyIPv4(new ipaddr.IPv4(extract(address.parts)));
      return embedded === 'metadata' ? 'metadata' : embedded === null ? null : form;
    }
  }
  if (named !== null) return named;
  return address.match(GLOBAL_UNICAST_V6 as [ipaddr.IPv6, number]) ? null : 'reserved';
}

function firstMatch(address: ipaddr.IPv4 | ipaddr.IPv6, table: RangeTable): AddressBlockReason | null {
  for (const [range, reason] of table) {
    if (range[0].kind() === address.kind() && address.match(range as [typeof address, number])) return reason;
  }
  return null;
}

function wordsToOctets(high: number, low: number): number[] {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}

/** The reason to refuse `ip` under the given policy, or null to allow it. */
function refusalFor(ip: string, allowPrivate: boolean): AddressBlockReason | null {
  const reason = classifyAddress(ip);
  if (reason === null || (allowPrivate && !ALWAYS_REFUSED.has(reason))) return null;
  return reason;
}

// ─── Checking a URL ──────────────────────────────────────────────────────────────────────────────────────

/** Longest webhook URL accepted; longer ones are almost always abuse and bloat every delivery row. */
const MAX_URL_LENGTH = 2048;

/** Why a URL or host was refused: an address class, or something about the URL or its name. */
export type GuardRefusalReason =
  | AddressBlockReason
  | 'invalid_url'
  | 'too_long'
  | 'scheme'
  | 'credentials_in_url'
  | 'port'
  | 'localhost'
  | 'unresolved';

/** A refusal: a stable snake_case `reason` and a message that says what to change. */
export interface GuardRefusal {
  ok: false;
  reason: GuardRefusalReason;
  message: string;
}

/** Result of {@link checkWebhookUrl}: the parsed URL to use from here on, or why it is refused. */
export type UrlCheckResult = { ok: true; url: URL } | GuardRefusal;

/** The policy every check takes. */
export interface GuardPolicy {
  /** Lift every refusal except cloud metadata (the server's `--allow-private-webhooks`). */
  allowPrivate: boolean;
}

/**
 * Synchronous checks on a webhook URL: `http`/`https` only, no userinfo, port not 0, at most 2048
 * characters, and when the host is an IP literal, a public address; `localhost` and `*.localhost` are
 * refused too. Names are not resolved here (see {@link resolveAndCheck}).
 *
 * Exotic IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, fullwidth digits, a trailing dot)
 * are normalised by the WHATWG parser — the same one undici uses to connect — so classifying
 * `url.hostname` sees exactly the address the client would dial. Never classify the raw string.
 */
export function checkWebhookUrl(url: string, opts: GuardPolicy): UrlCheckResult {
  if (url.length > MAX_URL_LENGTH) return refuse('too_long', `webhook URL is longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('invalid_url', 'webhook URL is not a valid absolute URL (expected https://host/path)');
  }
  // Percent-encoding can make the normalised form longer than the input.
  if (parsed.href.length > MAX_URL_LENGTH) return refuse('too_long', `webhook URL is longer than ${MAX_URL_LENGTH} characters`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return refuse('scheme', `webhook URL scheme ${parsed.protocol} is not allowed; use https:// (or http://)`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return refuse('credentials_in_url', 'webhook URL must not contain user:password@; authenticate receivers with the signature');
  }
  if (parsed.port === '0') return refuse('port', 'webhook URL port 0 is not a valid destination port');
  const hostRefusal = checkHost(parsed.hostname, opts.allowPrivate);
  return hostRefusal ?? { ok: true, url: parsed };
}

/** Checks that need no DNS: an IP literal is classified, `localhost` names are refused. */
function checkHost(hostname: string, allowPrivate: boolean): GuardRefusal | null {
  const bare = stripBrackets(hostname);
  if (isIP(bare) !== 0) {
    const reason = refusalFor(bare, allowPrivate);
    return reason === null ? null : refuse(reason, describeRefusal(bare, reason));
  }
  if (!allowPrivate && isLocalhostName(bare)) {
    return refuse('localhost', `webhook host ${hostname} is the server itself; ${PRIVATE_HINT}`);
  }
  return null;
}

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** URL hostnames keep IPv6 brackets (`[::1]`), and `net.isIP('[::1]')` is 0: strip them before classifying. */
function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

const PRIVATE_HINT = 'webhooks are only sent to public addresses (run the server with --allow-private-webhooks for local receivers)';

const REASON_TEXT: Record<AddressBlockReason, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  link_local: 'a link-local address',
  shared: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  documentation: 'a documentation-only address',
  reserved: 'a reserved address',
  benchmarking: 'a benchmarking-only address',
  broadcast: 'the broadcast address',
  unique_local: 'a unique-local IPv6 address',
  metadata: 'a cloud metadata endpoint',
  ipv4_mapped: 'an IPv4-mapped IPv6 address of a non-public IPv4 address',
  ipv4_compatible: 'an IPv4-compatible IPv6 address of a non-public IPv4 address',
  nat64: 'a NAT64 address of a non-public IPv4 address',
  '6to4': 'a 6to4 address of a non-public IPv4 address',
  teredo: 'a Teredo address',
  invalid: 'not an IP address',
};

/** `webhook destination 10.0.0.1 is …`, or `webhook host hooks.example resolves to 10.0.0.1, …` for names. */
function describeRefusal(address: string, reason: AddressBlockReason, name?: string): string {
  const subject = name === undefined ? `webhook destination ${address} is` : `webhook host ${name} resolves to ${address},`;
  if (reason === 'metadata') return `${subject} a cloud metadata endpoint, which is never allowed`;
  return `${subject} ${REASON_TEXT[reason]}; ${PRIVATE_HINT}`;
}

function refuse(reason: GuardRefusalReason, message: string): GuardRefusal {
  return { ok: false, reason, message };
}

// ─── Resolving a name ────────────────────────────────────────────────────────────────────────────────────

/** One answer of a {@link Resolver}. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to ALL its addresses. Injectable so tests run offline and can play a rebinding
 * DNS server; rejects (any error) or returns `[]` when the name does not resolve.
 */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** Result of {@link resolveAndCheck}: every address the host resolved to, all of them allowed. */
export type AddressCheckResult = { ok: true; addresses: ResolvedAddress[] } | GuardRefusal;

/**
 * The system resolver, as the socket would use it: `getaddrinfo` with every answer, in the order the
 * system returns them (`verbatim`), so /etc/hosts entries are seen too.
 */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
};

/**
 * Resolves the URL's host and refuses it if ANY address is blocked: an attacker who controls the zone
 * can return one public and one private answer and let the client pick. IP literals are classified
 * without DNS. A name that does not resolve is refused with reason `unresolved`; at dispatch, callers
 * accept that case (DNS may be down for a moment) because every delivery checks again.
 *
 * Expects a URL that passed {@link checkWebhookUrl}. Its answer is advice for dispatch only: the sender
 * resolves again at connect time and trusts only that answer.
 */
export async function resolveAndCheck(url: URL, opts: GuardPolicy & { resolver?: Resolver }): Promise<AddressCheckResult> {
  return checkAndResolveHost(url.hostname, opts.allowPrivate, opts.resolver ?? systemResolver);
}

async function checkAndResolveHost(hostname: string, allowPrivate: boolean, resolver: Resolver): Promise<AddressCheckResult> {
  const hostRefusal = checkHost(hostname, allowPrivate);
  if (hostRefusal !== null) return hostRefusal;
  const bare = stripBrackets(hostname);
  const literalFamily = isIP(bare);
  if (literalFamily !== 0) return { ok: true, addresses: [{ address: bare, family: literalFamily === 6 ? 6 : 4 }] };

  let answers: ResolvedAddress[];
  try {
    answers = await resolver(bare);
  } catch (err) {
    return refuse('unresolved', `webhook host ${bare} does not resolve (${shortError(err)})`);
  }
  if (answers.length === 0) return refuse('unresolved', `webhook host ${bare} does not resolve (no addresses)`);
  for (const { address } of answers) {
    const reason = refusalFor(address, allowPrivate);
    if (reason !== null) return refuse(reason, describeRefusal(address, reason, bare));
  }
  // Re-derive the family from the address itself rather than trusting the resolver's label.
  return { ok: true, addresses: answers.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 })) };
}

// ─── Connect-time pinning ────────────────────────────────────────────────────────────────────────────────

/** The connection was refused by the guard before any byte reached the destination. */
export class BlockedDestinationError extends Error {
  readonly code = 'ERR_WEBHOOK_BLOCKED_DESTINATION';

  constructor(
    /** Why: an {@link AddressBlockReason} or `localhost`. */
    readonly reason: GuardRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'BlockedDestinationError';
  }
}

/** The host name did not resolve at connect time. */
export class UnresolvedHostError extends Error {
  readonly code = 'ERR_WEBHOOK_DNS';
  override name = 'UnresolvedHostError';
}

function refusalToError(refusal: GuardRefusal): Error {
  return refusal.reason === 'unresolved' ? new UnresolvedHostError(refusal.message) : new BlockedDestinationError(refusal.reason, refusal.message);
}

/**
 * A `lookup` for `net.connect`/`tls.connect` that resolves once, validates every answer and returns only
 * those: the socket can only dial an address this function approved, and no second lookup happens
 * between the check and the connection. Node 20 asks with `{all: true}` (Happy Eyeballs) and then needs
 * an array; older callers get the first address.
 */
function pinnedLookup(allowPrivate: boolean, resolver: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    checkAndResolveHost(hostname, allowPrivate, resolver).then(
      (result) => {
        if (!result.ok) return callback(refusalToError(result) as NodeJS.ErrnoException, '');
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = family === 0 ? result.addresses : result.addresses.filter((a) => a.family === family);
        if (usable.length === 0) return callback(new UnresolvedHostError(`webhook host ${hostname} has no IPv${family} address`), '');
        if (options.all) return callback(null, usable);
        callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, ''),
    );
  };
}

/** Options of {@link createGuardedConnector}. */
export interface GuardedConnectorOptions extends GuardPolicy {
  /** How long TCP + TLS setup may take. @default 10000 */
  connectTimeoutMs?: number;
  /** @default {@link systemResolver} */
  resolver?: Resolver;
}

/**
 * An undici connector that only ever connects to allowed addresses.
 *
 * Names go through a pinned `lookup` (resolve once, validate every answer, return only those). IP
 * literals never reach a `lookup` (Node dials them directly),
 * so they are classified here; and once connected, the socket's peer address is checked again, so even
 * a path around `lookup` would send no request bytes to a blocked address. TLS keeps the original host
 * name for SNI and certificate checks because the URL is never rewritten to an IP.
 */
export function createGuardedConnector(opts: GuardedConnectorOptions): buildConnector.connector {
  const base = buildConnector({
    lookup: pinnedLookup(opts.allowPrivate, opts.resolver ?? systemResolver),
    timeout: opts.connectTimeoutMs ?? 10_000,
  });
  return (options, callback) => {
    const literal = stripBrackets(options.hostname);
    const literalReason = isIP(literal) === 0 ? null : refusalFor(literal, opts.allowPrivate);
    if (literalReason !== null) {
      // Asynchronously, as undici's own connector does, so the client's state machine sees the usual order.
      queueMicrotask(() => callback(new BlockedDestinationError(literalReason, describeRefusal(literal, literalReason)), null));
      return;
    }
    base(options, (err, socket) => {
      if (err !== null) return callback(err, null);
      const peerRefusal = peerCheck(socket, opts.allowPrivate);
      if (peerRefusal === null) return callback(null, socket);
      socket.destroy();
      callback(peerRefusal, null);
    });
  };
}

function peerCheck(socket: Socket, allowPrivate: boolean): BlockedDestinationError | null {
  const peer = socket.remoteAddress;
  if (peer === undefined) return new BlockedDestinationError('invalid', 'connected socket has no peer address');
  const reason = refusalFor(peer, allowPrivate);
  return reason === null ? null : new BlockedDestinationError(reason, describeRefusal(peer, reason));
}

/** An error's code and message in one line of at most 300 characters, for the delivery log. */
export function shortError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 200);
  const code = (err as { code?: unknown }).code;
  const text = typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  return text.slice(0, 300);
}
