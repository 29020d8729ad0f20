/**
 * Slack sandbox: a local stand-in for one Slack incoming webhook. It records every payload
 * it accepts, checks payloads the way Slack does (minimally), and answers as Slack answers:
 * `200 ok`, or a status with an error code as plain text (`400 invalid_blocks`,
 * `404 no_service`, `429 rate_limited` with `retry-after`, …).
 *
 *   const slack = await startSlackReceiver();
 *   const acts = createNotifyActivities({ slack: { webhookUrl: slack.url, slackIds: {} } });
 *   slack.failNext(1, 500);
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackReceiverOptions {
  /** Webhook path. Default `/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX`. */
  path?: string;
  /** Default 0 (any free port). */
  port?: number;
}

/** One received request and how it was answered. */
export interface SlackRequest {
  method: string;
  path: string;
  status: number;
  /** The answer's body (`ok` or an error code). */
  answer: string;
  /** The raw request body. */
  body: string;
}

export interface SlackReceiver {
  /** The webhook URL to configure. */
  readonly url: string;
  readonly port: number;
  /** Accepted payloads (parsed JSON), in order. */
  readonly messages: any[];
  /** Every request, accepted or not, in order. */
  readonly requests: SlackRequest[];
  /**
   * The next `n` requests to the webhook are answered `status` (500, 429, or a 4xx to
   * stand for a refusal) without being recorded as messages; a 429 carries
   * `retry-after: retryAfterSeconds` (default 1).
   */
  failNext(n: number, status: number, retryAfterSeconds?: number): void;
  /** Forgets messages and requests, and pending faults. */
  reset(): void;
  close(): Promise<void>;
}

/** Slack's limits. */
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_HEADER_TEXT = 150;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_BODY_BYTES = 1_000_000;

/** The error code for a payload Slack would refuse, or undefined when it is acceptable. */
export function slackPayloadProblem(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return 'invalid_payload';
  const p = payload as Record<string, unknown>;
  const hasText = typeof p.text === 'string' && p.text.trim() !== '';
  if (p.blocks === undefined) return hasText ? undefined : 'no_text';
  if (!Array.isArray(p.blocks)) return 'invalid_blocks_format';
  if (p.blocks.length === 0 && !hasText) return 'no_text';
  if (p.blocks.length > MAX_BLOCKS) return 'invalid_blocks';
  for (const b of p.blocks) {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return 'invalid_blocks';
    const block = b as Record<string, unknown>;
    if (typeof block.type !== 'string' || !block.type) return 'invalid_blocks';
    if (block.type === 'section') {
      if (block.text !== undefined && !textObject(block.text, MAX_SECTION_TEXT)) return 'invalid_blocks';
      if (block.text === undefined && !Array.isArray(block.fields)) return 'invalid_blocks';
    }
    if (block.type === 'header' && !textObject(block.text, MAX_HEADER_TEXT, 'plain_text')) return 'invalid_blocks';
    if (block.type === 'context') {
      const els = block.elements;
      if (!Array.isArray(els) || els.length === 0 || els.length > MAX_CONTEXT_ELEMENTS) return 'invalid_blocks';
      for (const e of els) {
        if (!e || typeof e !== 'object' || typeof (e as Record<string, unknown>).type !== 'string') return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

/** Whether `t` is a text object (`{ type: 'mrkdwn' | 'plain_text', text }`) within `max` characters. */
function textObject(t: unknown, max: number, only?: string): boolean {
  if (!t || typeof t !== 'object') return false;
  const o = t as Record<string, unknown>;
  if (o.type !== 'mrkdwn' && o.type !== 'plain_text') return false;
  if (only && o.type !== only) return false;
  return typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= max;
}

/** The error code Slack answers with for a status (used by injected faults). */
function faultCode(status: number): string {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'internal_error';
  if (status === 404) return 'no_service';
  if (status === 403) return 'action_prohibited';
  if (status === 410) return 'channel_is_archived';
  return 'invalid_payload';
}

/** The payload of a JSON body, or of a form body's `payload` field. */
function parsePayload(raw: string, contentType: string): unknown {
  try {
    if (contentType.includes('application/x-www-form-urlencoded')) {
      const p = new URLSearchParams(raw).get('payload');
      return p === null ? undefined : JSON.parse(p);
    }
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Starts the receiver on 127.0.0.1 (a free port unless `port` is given). */
export async function startSlackReceiver(opts: SlackReceiverOptions = {}): Promise<SlackReceiver> {
  const path = opts.path ?? '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
  const messages: any[] = [];
  const requests: SlackRequest[] = [];
  const faults: { status: number; retryAfter: number }[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status, answer: text, body });
        res.writeHead(status, { 'content-type': 'text/html', ...headers });
        res.end(text);
      };
      const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      if (pathname !== path) return answer(404, 'no_service');
      if (req.method !== 'POST') return answer(400, 'invalid_payload');
      const fault = faults.shift();
      if (fault) {
        return answer(fault.status, faultCode(fault.status), fault.status === 429 ? { 'retry-after': String(fault.retryAfter) } : {});
      }
      if (size > MAX_BODY_BYTES) return answer(400, 'invalid_payload');
      const payload = parsePayload(body, String(req.headers['content-type'] ?? ''));
      if (payload === undefined) return answer(400, 'invalid_payload');
      const problem = slackPayloadProblem(payload);
      if (problem) return answer(400, problem);
      messages.push(payload);
      return answer(200, 'ok');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    messages,
    requests,
    failNext(n: number, status: number, retryAfterSeconds = 1) {
      for (let i = 0; i < n; i++) faults.push({ status, retryAfter: retryAfterSeconds });
    },
    reset() {
      messages.length = 0;
      requests.length = 0;
      faults.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
