/**
 * The `slipway` command line. Each command is a file under client/commands/, loaded only
 * when that command runs (so `slipway --help` loads neither Temporal nor the config); this
 * file declares the commands and their options (commander), runs one, and maps every
 * failure to one documented exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Context } from './context';
import { UsageError, Unreachable } from './errors';
import { EXIT, exitCodeFor } from './exit-codes';

const EXIT_CODES = `Exit codes: 0 success · 1 deployment failed · 2 refused (bad input) · 3 rolled back by ECS ·
4 timed out · 5 unauthorised · 6 cannot reach Temporal (or its namespace lacks Slipway's search attributes) ·
7 another operation holds the service ·
8 rolled back by ECS on an alarm`;

const GLOBAL_HELP = `
Global options (every command): --config PATH (default: $SLIPWAY_CONFIG, else ./slipway.yaml),
--task-queue NAME (default: the config's, else "slipway"), --json (machine-readable result
and errors on stdout).

Temporal connection: as the temporal CLI reads it (TEMPORAL_PROFILE of temporal.toml,
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*); namespace and
TEMPORAL_UI_URL default to the config's temporal.namespace / temporal.uiUrl.

${EXIT_CODES}`;

/** The package's version (package.json beside client/, or two levels up from dist/client/). */
function version(): string {
  for (const up of ['..', join('..', '..')]) {
    const p = join(__dirname, up, 'package.json');
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

interface Opts {
  config?: string;
  taskQueue?: string;
  json?: boolean;
  actor?: string;
  reason?: string;
  budget?: string;
  wait: boolean;
  tag?: string;
  rerender?: boolean;
  dryRun?: boolean;
  waitUntil?: string;
  limit?: string;
  env?: string;
  sha?: string;
  title?: string;
}

type Run = (ctx: Context, args: string[], o: Opts) => Promise<number>;

const opt = {
  actor: () => new Option('--actor <login>', 'GitHub login responsible (default: $GITHUB_ACTOR)'),
  reason: () => new Option('--reason <text>', 'why (shown in the Temporal UI and notifications)'),
  budget: () => new Option('--budget <minutes>', "how long ECS may take (default: the config's, 15)"),
  noWait: () => new Option('--no-wait', 'start, print the workflow ID and return'),
  limit: (n: number) => new Option('--limit <n>', `how many (default ${n})`),
};
/** --actor, --reason, --budget, --no-wait: the options of the commands that start an operation. */
const operationOptions = (cmd: Command, reason = true): Command => {
  cmd.addOption(opt.actor());
  if (reason) cmd.addOption(opt.reason());
  return cmd.addOption(opt.budget()).addOption(opt.noWait());
};
const operation = (o: Opts) => ({ actor: o.actor, reason: o.reason, budget: o.budget, wait: o.wait });

/** Options every command takes (also accepted before the command). */
function withGlobals(cmd: Command): Command {
  return cmd
    .option('--config <path>', 'config file (default: $SLIPWAY_CONFIG, else ./slipway.yaml)')
    .option('--task-queue <name>', 'worker task queue (default: the config\'s, else "slipway")')
    .option('--json', 'print the result (or the error) as JSON on stdout');
}

function build(run: (command: string, args: string[], o: Opts, go: Run) => Promise<void>): Command {
  const program = withGlobals(new Command('slipway'))
    .usage('<command> [arguments] [options]')
    .description('slipway — deployments for ECS services, as Temporal workflows')
    .version(version(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: slipway help <command>)')
    .addHelpText('after', GLOBAL_HELP)
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => undefined }) // main() words the errors
    .exitOverride();

  const command = (name: string, args: string, summary: string, description: string) =>
    withGlobals(program.command(`${name} ${args}`.trim()))
      .summary(summary)
      .description(description)
      .addHelpText('after', `\n${EXIT_CODES}`);
  const action = (name: string, go: Run) =>
    function (this: Command, ...positionals: unknown[]) {
      const o = this.optsWithGlobals<Opts>();
      const args = positionals
        .slice(0, -2)
        .flat()
        .filter((a): a is string => typeof a === 'string');
      return run(name, args, o, go);
    };

  operationOptions(
    command(
      'deploy',
      '<app> <env> <tag>',
      'deploy an image tag and follow it to its outcome',
      'Deploys image <tag> of <app> to <env> and, unless --no-wait, follows it to its true outcome.',
    ),
  )
    .option('--dry-run', "show what the deploy would change and change nothing (= 'slipway diff')")
    .option(
      '--wait-until <milestone>',
      "return at this milestone: 'done' (default: the true outcome) or 'traffic-shifted' (production traffic fully on the new revision; the deploy keeps watching to the end and records its outcome)",
    )
    .action(
      action('deploy', async (ctx, args, o) => {
        if (o.dryRun) return (await import('./commands/diff')).diffCommand(ctx, args);
        return (await import('./commands/deploy')).deployCommand(ctx, args, { ...operation(o), waitUntil: o.waitUntil });
      }),
    );
  operationOptions(
    command(
      'rollback',
      '<app> <env>',
      'go back to --tag, or to the last validated release',
      'Rolls <app> in <env> back to --tag, or without it to the last validated release (deployed and verified on the version endpoint) other than what runs now. Cancels a deploy of that service in flight. Only authorised actors may roll back.',
    ),
  )
    .option('--tag <tag>', 'the image tag to go back to')
    .option('--rerender', "render and register today's template for the tag, instead of re-pointing the service at the revision that was validated")
    .action(action('rollback', async (ctx, args, o) => (await import('./commands/rollback')).rollbackCommand(ctx, args, { ...operation(o), tag: o.tag, rerender: o.rerender })));
  operationOptions(
    command(
      'redeploy',
      '<app> <env>',
      'deploy again what the environment reports (after a template change)',
      'Deploys again the version <env> reports on its version endpoint, rendering a fresh task definition from the current template (after a template change, e.g. a new environment variable).',
    ),
  ).action(action('redeploy', async (ctx, args, o) => (await import('./commands/redeploy')).redeployCommand(ctx, args, operation(o))));
  operationOptions(
    command(
      'release',
      '<app> <sha>',
      'date-based release: tag, GitHub Release, image alias, production, changelog PR',
      'Releases the image <sha> (a full commit SHA that exists for every image of <app>): a git tag and GitHub Release <app>-<YYYY.MM.DD.HH.MM.SS> with notes from the pull requests merged since the previous release, the image alias rel-<date>, the production deploy (not for release-only apps), and the changelog pull request. Releasing an image again answers with its existing release. Only authorised actors may release.',
    ),
    false,
  ).action(action('release', async (ctx, args, o) => (await import('./commands/release')).releaseCommand(ctx, args, operation(o))));
  command(
    'status',
    '[app]',
    'what runs where: reported release, in flight, last validated, pipeline',
    "Shows, live, per app and environment: the release the version endpoint reports, the deploy, rollback or redeploy in flight (phase, tag, actor, since when, link), and the last validated release; per app, the pipeline's phase, candidate and queue when it runs.",
  )
    .option('--env <env>', 'only this environment')
    .action(action('status', async (ctx, args, o) => (await import('./commands/status')).statusCommand(ctx, args, { env: o.env })));
  command(
    'history',
    '<app> [env]',
    'recent operations, newest first, with their outcomes',
    'Lists the recent operations on <app> (in [env] only, when given), newest first: when, operation, environment, tag, actor, outcome, duration and a link to the Temporal UI.',
  )
    .option('--env <env>', 'only this environment (same as [env])')
    .addOption(opt.limit(20))
    .action(action('history', async (ctx, args, o) => (await import('./commands/history')).historyCommand(ctx, args, { env: o.env, limit: o.limit })));
  command(
    'tags',
    '<app>',
    'image tags present for every image of the app, release aliases',
    'Lists the image tags of <app> found for every one of its images (only those can be deployed), release aliases (rel-…) first, newest first, with the tag each one points at. Tags missing on some image are listed apart.',
  )
    .addOption(opt.limit(30))
    .action(action('tags', async (ctx, args, o) => (await import('./commands/tags')).tagsCommand(ctx, args, { limit: o.limit })));
  command(
    'diff',
    '<app> <env> <tag>',
    'what deploying <tag> would change (= deploy --dry-run); changes nothing',
    'Shows what deploying <tag> would change: renders the task definition from the live template and compares it with the revision the service runs now. Checks the tag exists for every image of the app, as a deploy would. Changes nothing. Exit 0: the deploy could go ahead; 2: it would be refused (unknown tag, app, env).',
  ).action(action('diff', async (ctx, args) => (await import('./commands/diff')).diffCommand(ctx, args)));

  const pipeline = withGlobals(program.command('pipeline'))
    .summary('the promotion pipeline: merged, status, approve, reject, cancel, pause, resume')
    .description('The promotion pipeline of <app>: merges to main queue up, deploy to staging, pass the gate, wait for approval, and are released to production — one at a time.')
    .addHelpText('after', `\n${EXIT_CODES}`);
  const sub = (name: string, summary: string) =>
    withGlobals(pipeline.command(`${name} <app>`))
      .description(summary)
      .addHelpText('after', `\n${EXIT_CODES}`);
  const runPipeline = (name: string) =>
    action('pipeline', async (ctx, args, o) =>
      (await import('./commands/pipeline')).pipelineCommand(ctx, [name, ...args], { ...operation(o), tag: o.tag, sha: o.sha, title: o.title }),
    );
  sub('merged', 'report a merge to main (starts the pipeline if needed)')
    .requiredOption('--sha <sha>', 'the merged commit (full SHA)')
    .option('--title <text>', 'the pull request title')
    .addOption(opt.actor())
    .action(runPipeline('merged'));
  sub('status', 'phase, candidate, queue, approvals, releases').action(runPipeline('status'));
  sub('approve', 'approve the candidate (must name its exact tag)')
    .requiredOption('--tag <sha>', "the candidate's tag")
    .addOption(opt.actor())
    .addOption(opt.reason())
    .action(runPipeline('approve'));
  sub('reject', 'reject the candidate')
    .requiredOption('--tag <sha>', "the candidate's tag")
    .requiredOption('--reason <text>', 'why')
    .addOption(opt.actor())
    .action(runPipeline('reject'));
  sub('cancel', 'take a waiting merge out of the queue')
    .requiredOption('--sha <sha>', 'the waiting merge')
    .addOption(opt.actor())
    .addOption(opt.reason())
    .action(runPipeline('cancel'));
  sub('pause', 'stop picking new candidates').addOption(opt.actor()).addOption(opt.reason()).action(runPipeline('pause'));
  sub('resume', 'start picking new candidates again').addOption(opt.actor()).addOption(opt.reason()).action(runPipeline('resume'));
  return program;
}

/** Commander's message, in the CLI's words: no "error: " prefix, the suggestion on the same line. */
function commanderMessage(err: CommanderError, program: Command, argv: string[]): string {
  const text = err.message.replace(/^error: /, '');
  const [line, ...rest] = text.split('\n');
  const first = line.replace(/\.$/, '');
  const suggestion = rest
    .join(' ')
    .trim()
    .replace(/^\(Did you mean/, '(did you mean');
  if (err.code === 'commander.unknownCommand') {
    const names = program.commands.map((c) => c.name()).filter((n) => n !== 'help');
    return `${first}; commands: ${names.join(', ')}${suggestion ? ` ${suggestion}` : ''}`;
  }
  const path = argv.filter((a) => /^[a-z]/.test(a)).slice(0, 2);
  const name = program.commands.find((c) => c.name() === path[0])?.commands.some((c) => c.name() === path[1]) ? path.join(' ') : (path[0] ?? '');
  const option = err.code === 'commander.unknownOption' ? /'(--[\w-]+)'/.exec(first)?.[1] : undefined;
  if (option && !suggestion) {
    const owners = program.commands.flatMap((c) => [c, ...c.commands]).filter((c) => c.options.some((o) => o.long === option));
    const label = (c: Command) => (c.parent && c.parent !== program ? `${c.parent.name()} ${c.name()}` : c.name());
    if (owners.length) return `${first}: ${option} is an option of ${owners.map(label).join(', ')} only. Run 'slipway ${name ? `help ${name}` : '--help'}'.`;
  }
  return `${first}${suggestion ? ` ${suggestion}` : ''}. Run 'slipway ${name ? `help ${name}` : '--help'}'.`;
}

export async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  let code: number = EXIT.ok;
  let ctx: Context | undefined;
  let commandName = '';
  const program = build(async (command, args, o, go) => {
    commandName = command;
    const { Context } = await import('./context');
    ctx = new Context({ config: o.config, json: o.json ?? false, taskQueue: o.taskQueue });
    if (o.reason !== undefined) {
      const { reasonProblem } = await import('../domain/input');
      const wrong = reasonProblem(o.reason);
      if (wrong) throw new UsageError(`--reason: ${wrong}`);
    }
    code = await go(ctx, args, o);
  });
  try {
    if (argv.length === 0) {
      process.stdout.write(program.helpInformation());
      return EXIT.badInput;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok; // --help, --version
      if (err.code === 'commander.help') return EXIT.badInput; // a command group without its subcommand: its help is shown
      const message = commanderMessage(err, program, argv);
      process.stderr.write(`slipway: ${message}\n`);
      if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, type: 'BadInput', message })}\n`);
      return EXIT.badInput;
    }
    const e = err as Error & { problems?: string[] };
    const exit = err instanceof Unreachable ? EXIT.unreachable : err instanceof UsageError ? EXIT.badInput : exitCodeFor(e.name);
    const known = exit !== EXIT.failed || e.name === 'ClientRejected';
    process.stderr.write(`slipway: ${known ? e.message : (e.stack ?? e.message)}\n`);
    ctx?.annotateError(`slipway ${commandName}`, e.message);
    if (wantsJson) process.stdout.write(`${JSON.stringify({ ok: false, type: e.name, message: e.message, problems: e.problems })}\n`);
    return exit;
  } finally {
    await ctx?.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`slipway: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
