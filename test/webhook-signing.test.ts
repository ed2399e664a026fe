import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, verifyWebhookAsync, WebhookVerificationError, type WebhookVerificationErrorCode } from '@agentjobs/sdk/webhooks';
import { generateWebhookSecret } from '../src/domain/secrets.js';
import { signWebhook, webhookHeaders } from '../src/webhooks/signing.js';

// The known-answer vector from the Standard Webhooks reference library's own tests.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

function payload(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'job.completed',
    timestamp: '2026-03-19T12:04:33.000Z',
    data: { job: { id: 'job_01hx', status: 'completed' }, observer_job_id: 'job_01hx', sequence: 3 },
    ...overrides,
  });
}

function expectRefusal(fn: () => unknown, code: WebhookVerificationErrorCode): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    expect((err as WebhookVerificationError).code).toBe(code);
    return;
  }
  expect.fail(`expected a WebhookVerificationError with code ${code}`);
}

describe('signing', () => {
  it('reproduces the Standard Webhooks known-answer vector byte for byte', () => {
    expect(signWebhook({ secrets: [VECTOR.secret], msgId: VECTOR.msgId, timestamp: VECTOR.timestamp, body: VECTOR.body })).toBe(
      VECTOR.signature,
    );
  });

  it('generates whsec_ secrets holding 32 random bytes, never the same twice', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('produces headers that the official standardwebhooks library verifies', () => {
    const secret = generateWebhookSecret();
    const body = payload();
    const headers = webhookHeaders({ secrets: [secret], msgId: 'msg_01hxa', timestamp: nowSeconds(), body });
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toBe('agentjobs-webhooks/1');
    expect(headers['webhook-id']).toBe('msg_01hxa');
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every secret during a rotation, and each signature verifies on its own', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const body = payload();
    const headers = webhookHeaders({ secrets: [newSecret, oldSecret], msgId: 'msg_01hxb', timestamp: nowSeconds(), body });
    const [first, second] = headers['webhook-signature'].split(' ');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const [secret, signature] of [
      [newSecret, first],
      [oldSecret, second],
    ] as const) {
      expect(new Webhook(secret).verify(body, { ...headers, 'webhook-signature': signature! })).toBeTruthy();
      expect(verifyWebhook(secret, { ...headers, 'webhook-signature': signature! }, body).type).toBe('job.completed');
      // The full two-entry header verifies under either secret: receivers need not know a rotation happened.
      expect(verifyWebhook(secret, headers, body).data.sequence).toBe(3);
    }
  });

  it('refuses secrets that are not base64 instead of silently signing with a different key', () => {
    expect(() => signWebhook({ secrets: ['whsec_not base64!'], msgId: 'msg_1', timestamp: 1, body: '{}' })).toThrow(TypeError);
    expect(() => signWebhook({ secrets: [], msgId: 'msg_1', timestamp: 1, body: '{}' })).toThrow(TypeError);
    expect(() => signWebhook({ secrets: [VECTOR.secret], msgId: 'msg.1', timestamp: 1, body: '{}' })).toThrow(TypeError);
  });
});

describe('verifyWebhook', () => {
  const secret = generateWebhookSecret();

  function signed(body: string, timestamp = nowSeconds()) {
    return webhookHeaders({ secrets: [secret], msgId: 'msg_01hxc', timestamp, body });
  }

  it('accepts a signed request and returns its parsed payload', () => {
    const body = payload();
    const event = verifyWebhook(secret, signed(body), body);
    expect(event).toEqual(JSON.parse(body));
  });

  it('accepts what the official library signs (the same scheme both ways)', () => {
    const body = payload();
    const at = new Date();
    const signature = new Webhook(secret).sign('msg_01hxd', at, body);
    const headers = { 'webhook-id': 'msg_01hxd', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
    expect(verifyWebhook(secret, headers, Buffer.from(body)).type).toBe('job.completed');
  });

  it('reads headers from a Fetch Headers object and from mixed-case plain objects', () => {
    const body = payload();
    const headers = signed(body);
    expect(verifyWebhook(secret, new Headers(headers), body).data.observer_job_id).toBe('job_01hx');
    const shouting = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(secret, shouting, body).type).toBe('job.completed');
  });

  it('refuses a body changed after signing', () => {
    const body = payload();
    expectRefusal(() => verifyWebhook(secret, signed(body), body.replace('completed', 'cancelled')), 'invalid_signature');
  });

  it('refuses a signature made with another secret', () => {
    const body = payload();
    expectRefusal(() => verifyWebhook(generateWebhookSecret(), signed(body), body), 'invalid_signature');
  });

  it('refuses signatures of another scheme or garbage in the list', () => {
    const body = payload();
    const headers = { ...signed(body), 'webhook-signature': 'v1a,AAAA v1,### v2,abc nonsense' };
    expectRefusal(() => verifyWebhook(secret, headers, body), 'invalid_signature');
  });

  it('refuses timestamps older or newer than the tolerance, and accepts them inside it', () => {
    const body = payload();
    const now = () => 1_700_000_000_000;
    const at = 1_700_000_000;
    expectRefusal(() => verifyWebhook(secret, signed(body, at - 301), body, { now }), 'timestamp_out_of_range');
    expectRefusal(() => verifyWebhook(secret, signed(body, at + 301), body, { now }), 'timestamp_out_of_range');
    expect(verifyWebhook(secret, signed(body, at - 299), body, { now }).type).toBe('job.completed');
    expect(verifyWebhook(secret, signed(body, at + 299), body, { now }).type).toBe('job.completed');
    expectRefusal(() => verifyWebhook(secret, signed(body, at - 61), body, { now, toleranceSeconds: 60 }), 'timestamp_out_of_range');
  });

  it('refuses a timestamp that is not Unix seconds', () => {
    const body = payload();
    expectRefusal(() => verifyWebhook(secret, { ...signed(body), 'webhook-timestamp': '2026-03-19T12:00:00Z' }, body), 'timestamp_out_of_range');
  });

  it('refuses a request missing any of the three headers', () => {
    const body = payload();
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers: Record<string, string | undefined> = { ...signed(body) };
      delete headers[name];
      expectRefusal(() => verifyWebhook(secret, headers, body), 'missing_headers');
    }
    expectRefusal(() => verifyWebhook(secret, {}, body), 'missing_headers');
  });

  it('refuses a correctly signed body that is not a webhook payload', () => {
    expectRefusal(() => verifyWebhook(secret, signed('not json'), 'not json'), 'invalid_body');
    expectRefusal(() => verifyWebhook(secret, signed('[1,2]'), '[1,2]'), 'invalid_body');
  });

  it('verifies the exact bytes of bodies with Unicode, U+2028, emoji and integers beyond 2^53', () => {
    // Written by hand, not through JSON.stringify: these are bytes a re-serialiser would change
    // (escaped U+2028, precision lost on the big integer, spacing).
    const body =
      '{"type": "job.completed", "timestamp": "2026-03-19T12:04:33.000Z", "data": {"job": {"id": "job_01hx", ' +
      '"title": "Zürich – 東京 \u2028 line separator \u2029 👩‍🔬🚀", "tokens": 123456789012345678901234567890}, ' +
      '"observer_job_id": "job_01hx", "sequence": 9007199254740993}}';
    const headers = signed(body);
    expect(verifyWebhook(secret, headers, body).data.job.title).toContain('👩‍🔬');
    expect(verifyWebhook(secret, headers, Buffer.from(body, 'utf8')).type).toBe('job.completed');
    expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
    // A body re-serialised after parsing no longer matches: receivers must verify the raw bytes.
    expectRefusal(() => verifyWebhook(secret, headers, JSON.stringify(JSON.parse(body))), 'invalid_signature');
  });
});

describe('verifyWebhookAsync, on Web Crypto', () => {
  const secret = generateWebhookSecret();
  const body = payload();
  const headers = webhookHeaders({ secrets: [secret], msgId: 'msg_01hxe', timestamp: nowSeconds(), body });

  /** The outcome of a verifier: the payload's type, or the refusal's code. */
  async function outcome(verify: () => unknown): Promise<string> {
    try {
      return ((await verify()) as { type: string }).type;
    } catch (error) {
      return error instanceof WebhookVerificationError ? error.code : `thrown: ${(error as Error).name}`;
    }
  }

  it('verifies the Standard Webhooks known-answer vector, as verifyWebhook does', async () => {
    const vectorHeaders = { 'webhook-id': VECTOR.msgId, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
    const now = () => VECTOR.timestamp * 1000;
    // The vector's body is no webhook payload: both verifiers get past the signature, then refuse the body.
    expect(await outcome(() => verifyWebhookAsync(VECTOR.secret, vectorHeaders, VECTOR.body, { now }))).toBe('invalid_body');
    expect(await outcome(() => verifyWebhook(VECTOR.secret, vectorHeaders, VECTOR.body, { now }))).toBe('invalid_body');
    const forged = { ...vectorHeaders, 'webhook-signature': 'v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(await outcome(() => verifyWebhookAsync(VECTOR.secret, forged, VECTOR.body, { now }))).toBe('invalid_signature');
  });

  it('gives the same answer as verifyWebhook for each kind of request', async () => {
    const cases: Array<[string, () => Parameters<typeof verifyWebhook>]> = [
      ['signed', () => [secret, headers, body]],
      ['signed bytes', () => [secret, new Headers(headers), new TextEncoder().encode(body)]],
      ['changed body', () => [secret, headers, body.replace('completed', 'cancelled')]],
      ['another secret', () => [generateWebhookSecret(), headers, body]],
      ['garbage signatures', () => [secret, { ...headers, 'webhook-signature': 'v1a,AAAA v1,### nonsense' }, body]],
      ['old timestamp', () => [secret, { ...headers, 'webhook-timestamp': String(nowSeconds() - 301) }, body]],
      ['no id', () => [secret, { ...headers, 'webhook-id': undefined }, body]],
      ['secret not base64', () => ['whsec_!!!', headers, body]],
    ];
    for (const [name, args] of cases) {
      const sync = await outcome(() => verifyWebhook(...args()));
      expect({ name, outcome: await outcome(() => verifyWebhookAsync(...args())) }).toEqual({ name, outcome: sync });
    }
  });
});
