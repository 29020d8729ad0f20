/**
 * The `slipway` command line. Each command is a file under client/commands/; this file
 * parses flags, runs the command, and maps every failure to one documented exit code.
 */
import { parseArgs } from 'node:util';
import { reasonProblem } from '../domain/input';
import { Context } from './context';
import { deployCommand, usage as deployUsage } from './commands/deploy';
import { redeployCommand, usage as redeployUsage } from './commands/redeploy';
import { releaseCommand, usage as releaseUsage } from './commands/release';
import { rollbackCommand, usage as rollbackUsage } from './commands/rollback';
import { diffCommand, usage as diffUsage } from './commands/diff';
import { historyCommand, usage as historyUsage } from './commands/history';
import { pipelineCommand, usage as pipelineUsage } from './commands/pipeline';
import { statusCommand, usage as statusUsage } from './commands/status';
import { tagsCommand, usage as tagsUsage } from './commands/tags';
import { UsageError, Unreachable } from './errors';
import { EXIT, exitCodeFor } from './exit-codes';

const HELP = `slipway — deployments for ECS services, as Temporal workflows

Usage: slipway <command> [arguments] [options]

Commands:
  deploy <app> <env> <tag>   deploy an image tag and follow it to its outcome
  rollback <app> <env>       go back to --tag, or to the last validated release
  redeploy <app> <env>       deploy again what the environment reports (after a template change)
  release <app> <sha>        date-based release: tag, GitHub Release, image alias, production, changelog PR
  status [app]               what runs where: reported release, in flight, last validated, pipeline
  history <app> [env]        recent operations, newest first, with their outcomes
  tags <app>                 image tags present for every image of the app, release aliases
  diff <app> <env> <tag>     what deploying <tag> would change (= deploy --dry-run); changes nothing
  pipeline <sub> <app>       the promotion pipeline: merged, status, approve, reject, cancel, pause, resume

Run 'slipway <command> --help' for a command's options.

Global options:
  --config PATH      config file (default: $SLIPWAY_CONFIG, else ./slipway.yaml)
  --task-queue NAME  worker task queue (default: the config's, else "slipway")
  --json             machine-readable result on stdout
  -h, --help         this help

Temporal connection: as the temporal CLI reads it (TEMPORAL_PROFILE of temporal.toml,
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*); namespace and
TEMPORAL_UI_URL default to the config's temporal.namespace / temporal.uiUrl.

Exit codes: 0 success · 1 deployment failed · 2 refused (bad input) · 3 rolled back by ECS ·
4 timed out · 5 unauthorised · 6 cannot reach Temporal · 7 another operation holds the service`;

const USAGE: Record<string, string> = { deploy: deployUsage, rollback: rollbackUsage, redeploy: redeployUsage, release: releaseUsage, status: statusUsage, history: historyUsage, tags: tagsUsage, diff: diffUsage, pipeline: pipelineUsage };
const COMMANDS = Object.keys(USAGE);

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        'task-queue': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        actor: { type: 'string' },
        reason: { type: 'string' },
        budget: { type: 'string' },
        tag: { type: 'string' },
        wait: { type: 'boolean', default: true },
        'no-wait': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        limit: { type: 'string' },
        env: { type: 'string' },
        sha: { type: 'string' },
        title: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`slipway: ${(err as Error).message}\nRun 'slipway --help' for the options.\n`);
    return EXIT.badInput;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE[command] ?? HELP}\n`);
    return command || values.help ? EXIT.ok : EXIT.badInput;
  }
  const ctx = new Context({ config: values.config, json: values.json ?? false, taskQueue: values['task-queue'] });
  const opFlags = { actor: values.actor, reason: values.reason, budget: values.budget, wait: !values['no-wait'] };
  try {
    const reasonWrong = reasonProblem(values.reason);
    if (reasonWrong) throw new UsageError(`--reason: ${reasonWrong}`);
    if (values.tag !== undefined && command !== 'rollback' && command !== 'pipeline') {
      throw new UsageError(`--tag is an option of rollback and pipeline approve/reject only; ${command} takes the tag as an argument`);
    }
    if ((values.sha !== undefined || values.title !== undefined) && command !== 'pipeline') throw new UsageError('--sha and --title are options of pipeline only');
    if (values['dry-run'] && command !== 'deploy' && command !== 'diff') throw new UsageError(`--dry-run is an option of deploy only (or run 'slipway diff')`);
    if (values.limit !== undefined && command !== 'history' && command !== 'tags') throw new UsageError('--limit is an option of history and tags only');
    if (values.env !== undefined && command !== 'status' && command !== 'history') throw new UsageError(`--env is an option of status and history only; ${command} takes the environment as an argument`);
    switch (command) {
      case 'deploy':
        return values['dry-run'] ? await diffCommand(ctx, args) : await deployCommand(ctx, args, opFlags);
      case 'rollback':
        return await rollbackCommand(ctx, args, { ...opFlags, tag: values.tag });
      case 'redeploy':
        return await redeployCommand(ctx, args, opFlags);
      case 'release':
        return await releaseCommand(ctx, args, opFlags);
      case 'status':
        return await statusCommand(ctx, args, { env: values.env });
      case 'history':
        return await historyCommand(ctx, args, { env: values.env, limit: values.limit });
      case 'tags':
        return await tagsCommand(ctx, args, { limit: values.limit });
      case 'diff':
        return await diffCommand(ctx, args);
      case 'pipeline':
        return await pipelineCommand(ctx, args, { ...opFlags, tag: values.tag, sha: values.sha, title: values.title });
      default:
        throw new UsageError(`unknown command '${command}'; commands: ${COMMANDS.join(', ')}`);
    }
  } catch (err) {
    const e = err as Error & { problems?: string[] };
    const code = err instanceof Unreachable ? EXIT.unreachable : err instanceof UsageError ? EXIT.badInput : exitCodeFor(e.name);
    const known = code !== EXIT.failed || e.name === 'ClientRejected';
    const message = known ? e.message : (e.stack ?? e.message);
    process.stderr.write(`slipway: ${message}\n`);
    ctx.annotateError(`slipway ${command}`, e.message);
    if (ctx.flags.json) process.stdout.write(`${JSON.stringify({ ok: false, type: e.name, message: e.message, problems: e.problems })}\n`);
    return code;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
