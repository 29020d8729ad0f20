/**
 * Temporal connection settings, read the way the `temporal` CLI reads them (the SDK's own
 * `@temporalio/envconfig`): the profile `TEMPORAL_PROFILE` (default `default`) of the
 * config file (`TEMPORAL_CONFIG_FILE`, else temporal.toml in the user's config directory),
 * overridden by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
 * TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH,
 * TEMPORAL_TLS_SERVER_NAME, TEMPORAL_GRPC_META_*.
 *
 * The namespace and the UI's URL (for links to executions) come from, in order:
 * TEMPORAL_NAMESPACE / TEMPORAL_UI_URL, the Slipway config's `temporal.namespace` /
 * `temporal.uiUrl`, the profile, the defaults (`default`, http://localhost:8233).
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';

export interface TemporalSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: ConnectionOptions['tls'];
  metadata?: Record<string, string>;
  uiUrl: string;
}

/** What the Slipway config says about Temporal (`temporal:`). */
export interface TemporalConfigSection {
  namespace?: string;
  uiUrl?: string;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env, config: TemporalConfigSection = {}): TemporalSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  let loaded;
  try {
    loaded = loadClientConnectConfig({ profile: vars.TEMPORAL_PROFILE, overrideEnvVars: vars });
  } catch (err) {
    throw new Error(`reading the Temporal connection settings (TEMPORAL_* variables, profile ${vars.TEMPORAL_PROFILE ?? 'default'}): ${(err as Error).message}`, { cause: err });
  }
  const c = loaded.connectionOptions;
  const uiUrl = (vars.TEMPORAL_UI_URL || config.uiUrl || 'http://localhost:8233').replace(/\/$/, '');
  return {
    address: c.address ?? 'localhost:7233',
    namespace: vars.TEMPORAL_NAMESPACE || config.namespace || loaded.namespace || 'default',
    apiKey: typeof c.apiKey === 'string' ? c.apiKey : undefined,
    tls: c.tls as ConnectionOptions['tls'],
    metadata: c.metadata as Record<string, string> | undefined,
    uiUrl,
  };
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
