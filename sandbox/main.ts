/**
 * Runs the local sandboxes until interrupted:
 *
 *   tsx sandbox/main.ts [--port 4566] [--host 127.0.0.1] [--tag <initial image tag>] [--speed 1]
 *
 * Today that is the ECS sandbox seeded with the Openverse services; further sandboxes are
 * added to SANDBOXES below.
 */
import { parseArgs } from 'node:util';
import { startEcsSandbox } from './ecs';
import { seedOpenverse } from './openverse';

interface Args {
  port: number;
  host: string;
  tag?: string;
  speed: number;
}

/** A started sandbox, as main() prints and stops it. */
interface RunningSandbox {
  name: string;
  url: string;
  /** Extra lines printed under the URL. */
  details: string[];
  close(): Promise<void>;
}

type SandboxStarter = (args: Args) => Promise<RunningSandbox>;

const startEcs: SandboxStarter = async (args) => {
  const ecs = await startEcsSandbox({ port: args.port, host: args.host });
  ecs.setSpeed(args.speed);
  const seeded = await seedOpenverse(ecs, args.tag ? { initialTag: args.tag } : {});
  return {
    name: 'ecs',
    url: ecs.url,
    details: [`initial tag ${seeded.initialTag}`, ...seeded.services.map((s) => `${s.cluster}/${s.service} → ${s.taskDefinitionArn.split('/').pop()}`)],
    close: () => ecs.close(),
  };
};

/** Every sandbox main() starts, in order. */
const SANDBOXES: SandboxStarter[] = [startEcs];

function parse(): Args {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      tag: { type: 'string' },
      speed: { type: 'string', default: '1' },
    },
  });
  const port = Number(values.port);
  const speed = Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${values.port}`);
  if (!(speed > 0)) throw new Error(`--speed must be a positive number, got ${values.speed}`);
  return { port, host: values.host ?? '127.0.0.1', tag: values.tag, speed };
}

async function main(): Promise<void> {
  const args = parse();
  const running: RunningSandbox[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(running.map((s) => s.close()));
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    for (const start of SANDBOXES) running.push(await start(args));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
    return;
  }
  for (const s of running) {
    process.stdout.write(`${s.name}: ${s.url}\n`);
    for (const line of s.details) process.stdout.write(`  ${line}\n`);
  }
  process.stdout.write('Ctrl-C to stop.\n');
}

void main();
