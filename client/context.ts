/**
 * What every command gets: the parsed config (for validation before anything starts),
 * a connected Temporal client (lazily), output helpers for humans, machines and GitHub
 * Actions.
 */
import { appendFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { SlipwayConfig } from '../domain/config';
import { loadConfig } from '../domain/config-file';
import { DEFAULT_TASK_QUEUE } from '../contract';
import { Unreachable } from './errors';
import { executionUrl } from '../domain/temporal-ui';
import { temporalSettings, unreachableMessage, type TemporalSettings } from './temporal-env';

export interface GlobalFlags {
  config?: string;
  json: boolean;
  taskQueue?: string;
}

export class Context {
  private _settings?: TemporalSettings;
  private _config?: SlipwayConfig;
  private _client?: Client;
  readonly inActions = process.env.GITHUB_ACTIONS === 'true';

  constructor(
    readonly flags: GlobalFlags,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The connection, namespace and UI URL: TEMPORAL_* variables over the config's `temporal` section over the profile. */
  get settings(): TemporalSettings {
    if (!this._settings) {
      let section;
      try {
        section = this.config().temporal;
      } catch {
        section = undefined; // a command that needs the config reports its problem itself
      }
      this._settings = temporalSettings(this.env, section);
    }
    return this._settings;
  }

  get configPath(): string {
    return this.flags.config ?? this.env.SLIPWAY_CONFIG ?? 'slipway.yaml';
  }

  config(): SlipwayConfig {
    this._config ??= loadConfig(this.configPath);
    return this._config;
  }

  get taskQueue(): string {
    return this.flags.taskQueue ?? this.env.SLIPWAY_TASK_QUEUE ?? this.config().temporal?.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  async client(): Promise<Client> {
    if (this._client) return this._client;
    const s = this.settings;
    try {
      const connection = await Connection.connect({ address: s.address, tls: s.tls, apiKey: s.apiKey, metadata: s.metadata, connectTimeout: 10_000 });
      this._client = new Client({ connection, namespace: s.namespace });
      return this._client;
    } catch (err) {
      throw new Unreachable(unreachableMessage(s, err));
    }
  }

  link(workflowId: string, runId?: string): string {
    return executionUrl(this.settings, workflowId, runId);
  }

  /** A progress line for people (stderr, so stdout stays clean for --json). */
  info(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** The command's result: JSON on stdout with --json, else a human line. */
  result(human: string, data: unknown): void {
    if (this.flags.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else process.stdout.write(`${human}\n`);
  }

  /** In GitHub Actions: an annotation on the job. */
  annotateError(title: string, message: string): void {
    if (!this.inActions) return;
    const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
    process.stdout.write(`::error title=${esc(title)}::${esc(message)}\n`);
  }

  /** In GitHub Actions: Markdown appended to the job summary. */
  summary(markdown: string): void {
    const file = this.env.GITHUB_STEP_SUMMARY;
    if (!this.inActions || !file) return;
    appendFileSync(file, `${markdown}\n`);
  }

  async close(): Promise<void> {
    await this._client?.connection.close();
  }
}
