/**
 * Temporal connection settings from the environment, named as the Temporal CLI names them:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH,
 * TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS (1/true to
 * use TLS without a client certificate), TEMPORAL_TLS_SERVER_NAME. Also TEMPORAL_UI_URL for
 * links to executions.
 */
import { readFileSync } from 'node:fs';

export interface TemporalSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  uiUrl: string;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS || 'localhost:7233';
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (!!certPath !== !!keyPath) {
    throw new Error('set both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or neither');
  }
  const useTls = !!certPath || !!apiKey || /^(1|true)$/i.test(env.TEMPORAL_TLS ?? '');
  const tls = useTls
    ? {
        serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        serverRootCACertificate: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? readFileSync(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH) : undefined,
        clientCertPair: certPath && keyPath ? { crt: readFileSync(certPath), key: readFileSync(keyPath) } : undefined,
      }
    : undefined;
  const uiUrl = (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/$/, '');
  return { address, namespace, apiKey, tls, uiUrl };
}

/** What the CLI and the worker say when Temporal does not answer. */
export function unreachableMessage(s: Pick<TemporalSettings, 'address' | 'namespace'>, err: unknown): string {
  return `cannot reach Temporal at ${s.address} (namespace ${s.namespace}): ${connectProblem(err)}. Set TEMPORAL_ADDRESS (and TLS/API key settings) to your cluster.`;
}

/** The gist of a connection error: the worker's native connection reports a whole transport error chain. */
function connectProblem(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const os = /message: "([^"]+)"/.exec(text)?.[1];
  if (os) return os.toLowerCase();
  if (/dns error|failed to lookup address/i.test(text)) return `the address does not resolve`;
  if (/tcp connect error|transport error/i.test(text)) return 'the connection failed';
  return text.split('\n')[0].slice(0, 300);
}
