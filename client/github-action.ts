/**
 * The entry point of the GitHub Action (action.yml at the repository root): reads the
 * action's inputs (INPUT_* variables set by the action's step), runs the CLI with them
 * (progress streams into the job log; the CLI writes its job summary and error annotation),
 * then sets the step's outputs (workflow-id, outcome, link, exit-code), adds what to do
 * next to the summary, and ends with the CLI's exit code.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from './exit-codes';

export const COMMANDS = ['deploy', 'rollback', 'redeploy', 'release', 'pipeline-merged', 'pipeline-approve', 'pipeline-reject'] as const;
type ActionCommand = (typeof COMMANDS)[number];

/** The `outcome` output for each exit code. */
export const OUTCOME_BY_EXIT: Record<number, string> = {
  [EXIT.ok]: 'succeeded',
  [EXIT.failed]: 'failed',
  [EXIT.badInput]: 'refused',
  [EXIT.rolledBack]: 'rolled_back_by_ecs',
  [EXIT.timedOut]: 'timed_out',
  [EXIT.unauthorized]: 'unauthorized',
  [EXIT.unreachable]: 'unreachable',
  [EXIT.busy]: 'busy',
};

export interface ActionInputs {
  command: string;
  app: string;
  env: string;
  tag: string;
  actor: string;
  reason: string;
  title: string;
  budget: string;
  wait: string;
  /** deploy: `done` or `traffic-shifted` (empty: the CLI's default). */
  waitUntil: string;
  config: string;
  taskQueue: string;
}

export function readInputs(env: NodeJS.ProcessEnv): ActionInputs {
  const get = (name: string) => (env[`INPUT_${name}`] ?? '').trim();
  return {
    command: get('COMMAND'),
    app: get('APP'),
    env: get('ENV'),
    tag: get('TAG'),
    actor: get('ACTOR'),
    reason: get('REASON'),
    title: get('TITLE'),
    budget: get('BUDGET'),
    wait: get('WAIT') || 'true',
    waitUntil: get('WAIT_UNTIL'),
    config: get('CONFIG'),
    taskQueue: get('TASK_QUEUE'),
  };
}

/** The CLI arguments for the inputs, or what is missing. */
export function cliArgs(i: ActionInputs): { args: string[] } | { problem: string } {
  if (!(COMMANDS as readonly string[]).includes(i.command)) return { problem: `input 'command' must be one of ${COMMANDS.join(', ')}; got '${i.command}'` };
  const command = i.command as ActionCommand;
  const need = (...names: (keyof ActionInputs)[]) => names.filter((n) => !i[n]);
  const missing = {
    deploy: need('app', 'env', 'tag'),
    rollback: need('app', 'env'),
    redeploy: need('app', 'env'),
    release: need('app', 'tag'),
    'pipeline-merged': need('app', 'tag'),
    'pipeline-approve': need('app', 'tag'),
    'pipeline-reject': need('app', 'tag', 'reason'),
  }[command];
  if (missing.length) return { problem: `${command} needs the input(s) ${missing.join(', ')}` };
  if (!/^(true|false)$/.test(i.wait)) return { problem: `input 'wait' is 'true' or 'false'; got '${i.wait}'` };
  if (i.waitUntil && command !== 'deploy') return { problem: `input 'wait-until' applies to deploy only; ${command} follows to its outcome` };
  const positional: Record<ActionCommand, string[]> = {
    deploy: ['deploy', i.app, i.env, i.tag],
    rollback: ['rollback', i.app, i.env, ...(i.tag ? ['--tag', i.tag] : [])],
    redeploy: ['redeploy', i.app, i.env],
    release: ['release', i.app, i.tag],
    'pipeline-merged': ['pipeline', 'merged', i.app, '--sha', i.tag, ...(i.title ? ['--title', i.title.split('\n')[0]] : [])],
    'pipeline-approve': ['pipeline', 'approve', i.app, '--tag', i.tag],
    'pipeline-reject': ['pipeline', 'reject', i.app, '--tag', i.tag],
  };
  const operation = ['deploy', 'rollback', 'redeploy', 'release'].includes(command);
  const args = [
    ...positional[command],
    ...(i.actor ? ['--actor', i.actor] : []),
    ...(i.reason && command !== 'release' && command !== 'pipeline-merged' ? ['--reason', i.reason] : []),
    ...(operation && i.budget ? ['--budget', i.budget] : []),
    ...(operation && i.wait === 'false' ? ['--no-wait'] : []),
    ...(command === 'deploy' && i.waitUntil ? ['--wait-until', i.waitUntil] : []),
    ...(i.config ? ['--config', i.config] : []),
    ...(i.taskQueue ? ['--task-queue', i.taskQueue] : []),
    '--json',
  ];
  return { args };
}

/** What to do after each exit code, in the words of the job's inputs. */
export function nextStep(code: number, i: ActionInputs, link?: string): string | undefined {
  const where = i.env ? `${i.app} in ${i.env}` : i.app;
  const what = i.command.replace('-', ' ');
  switch (code) {
    case EXIT.ok:
      return undefined;
    case EXIT.failed:
      return `The ${what} failed; the reasons are above. Check the execution in the Temporal UI${link ? ` (${link})` : ''} before running it again.`;
    case EXIT.badInput:
      return `Refused before anything changed: check the inputs${i.tag ? `, and that ${i.tag} is published for every image of ${i.app}` : ''}.`;
    case EXIT.rolledBack:
      return `ECS rolled ${where} back to the previous revision, which still serves. See the stopped tasks' reasons above.`;
    case EXIT.timedOut:
      return `ECS did not settle within the budget. Check the execution in the Temporal UI and the service in ECS.`;
    case EXIT.unauthorized:
      return `@${i.actor || '?'} may not ${what} ${where}: that needs a member of the maintainers team.`;
    case EXIT.unreachable:
      return `Cannot reach Temporal: check the temporal-address, temporal-namespace and temporal-api-key inputs.`;
    case EXIT.busy:
      return `Another operation holds ${where}. Run this again when it has ended.`;
    default:
      return `slipway exited with ${code}.`;
  }
}

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function setOutputs(file: string | undefined, outputs: Record<string, string>): void {
  if (!file) return;
  for (const [name, value] of Object.entries(outputs)) {
    const delimiter = `slipway_${randomUUID()}`;
    appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
  }
}

/** The CLI's stdout with --json: workflow commands (`::error …`) pass through; the rest is the JSON result. */
function splitStdout(stdout: string): { commands: string[]; result?: Record<string, unknown> } {
  const lines = stdout.split('\n');
  const commands = lines.filter((l) => l.startsWith('::'));
  const rest = lines
    .filter((l) => !l.startsWith('::'))
    .join('\n')
    .trim();
  if (!rest) return { commands };
  try {
    return { commands, result: JSON.parse(rest) as Record<string, unknown> };
  } catch {
    return { commands, result: { message: rest } };
  }
}

export async function runAction(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const inputs = readInputs(env);
  const built = cliArgs(inputs);
  const title = `slipway ${inputs.command || '?'}${inputs.app ? ` ${inputs.app}` : ''}${inputs.env ? ` ${inputs.env}` : ''}`;
  if ('problem' in built) {
    process.stdout.write(`::error title=${escapeProperty(title)}::${escapeData(built.problem)}\n`);
    setOutputs(env.GITHUB_OUTPUT, { outcome: OUTCOME_BY_EXIT[EXIT.badInput], 'exit-code': String(EXIT.badInput), 'workflow-id': '', link: '' });
    return EXIT.badInput;
  }
  process.stderr.write(`${title}: slipway ${built.args.join(' ')}\n`);
  const child = spawn(process.execPath, [join(__dirname, 'cli.js'), ...built.args], {
    env: { ...env, GITHUB_ACTIONS: env.GITHUB_ACTIONS ?? 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const code: number = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? EXIT.failed));
  });
  const { commands, result } = splitStdout(stdout);
  for (const c of commands) process.stdout.write(`${c}\n`);
  const link = typeof result?.url === 'string' ? result.url : '';
  const workflowId = typeof result?.workflowId === 'string' ? result.workflowId : '';
  // Exit 0 without the end: started (no wait), at a milestone, or a rollback with nothing to do.
  const okOutcome =
    inputs.wait === 'false' ? 'started' : result?.milestone === 'traffic-shifted' ? 'traffic-shifted' : result?.outcome === 'already_running' ? 'already_running' : undefined;
  const outcome = code === EXIT.ok && okOutcome ? okOutcome : (OUTCOME_BY_EXIT[code] ?? 'failed');
  setOutputs(env.GITHUB_OUTPUT, { 'workflow-id': workflowId, outcome, link, 'exit-code': String(code) });
  const message = typeof result?.message === 'string' ? result.message : undefined;
  process.stdout.write(code === EXIT.ok ? `✔ ${title}: ${outcome}${link ? ` — ${link}` : ''}\n` : `✘ ${title}: ${outcome}${message ? `: ${message}` : ''}\n`);
  const next = nextStep(code, inputs, link || undefined);
  if (next) {
    process.stdout.write(`::notice title=${escapeProperty(`${title}: what next`)}::${escapeData(next)}\n`);
    if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `\n**Next:** ${next}\n`);
  }
  return code;
}

if (require.main === module) {
  runAction().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stdout.write(`::error title=slipway::${escapeData(err instanceof Error ? err.message : String(err))}\n`);
      process.exit(EXIT.failed);
    },
  );
}
