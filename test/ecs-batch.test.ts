/**
 * Batched ECS reads (activities/ecs-batch.ts) against the ECS sandbox: concurrent looks at
 * services of one cluster share DescribeServices calls of up to 10 services; other clusters
 * get calls of their own; a service ECS does not know is answered as missing, and an error
 * reaches every look of its batch; a look that cannot wait sends its batch on the next turn.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { DescribeServicesCommand, type Service } from '@aws-sdk/client-ecs';
import { Batcher } from '../activities/ecs-batch';
import { startEcsSandbox, type EcsSandbox } from '../sandbox/ecs';
import { callerClient } from './web-sandbox';

describe('batched ECS reads', () => {
  let ecs: EcsSandbox;
  before(async () => {
    ecs = await startEcsSandbox();
    for (const cluster of ['c1', 'c2']) {
      for (let i = 1; i <= 12; i++) {
        const taskDefinition = { family: `${cluster}-svc${i}`, containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] };
        ecs.seedService({ cluster, service: `svc${i}`, taskDefinition, desiredCount: 1 });
      }
    }
  });
  after(async () => {
    await ecs?.close();
  });

  it('answers concurrent looks with DescribeServices calls of at most 10 services per cluster', async () => {
    const sdk = callerClient(ecs, 'AKIABATCH', 3);
    const batcher = new Batcher<Service>(10, 50, async (cluster, names) => {
      const out = await sdk.send(new DescribeServicesCommand({ cluster, services: names }));
      return new Map((out.services ?? []).map((s) => [s.serviceName ?? '', s]));
    });
    await sdk.send(new DescribeServicesCommand({ cluster: 'c1', services: ['svc1'] })); // warm the client up
    ecs.resetCalls();
    const looks = [...['c1', 'c2'].flatMap((c) => Array.from({ length: 12 }, (_, i) => ({ c, s: `svc${i + 1}` }))), { c: 'c1', s: 'gone' }];
    const answers = await Promise.all(looks.map((l) => batcher.get(l.c, l.s)));
    for (const [i, l] of looks.entries()) {
      if (l.s === 'gone') assert.equal(answers[i], undefined, 'a service ECS does not know is missing');
      else assert.equal(answers[i]?.serviceName, l.s);
    }
    const calls = ecs.calls.filter((c) => c.op === 'DescribeServices');
    assert.equal(calls.length, 4, `25 looks, ${calls.length} calls`);
    for (const c of calls) assert.ok((c.input.services as string[]).length <= 10);
    assert.deepEqual(
      calls.map((c) => (c.input.services as string[]).length).sort((a, b) => a - b),
      [2, 3, 10, 10],
    );
    assert.equal(batcher.stats.calls, 4);
  });

  it('sends a batch on the next turn when a look cannot wait, with the looks asked in the same turn, and the window then starts afresh', async () => {
    // The window's timer never fires here unless the test moves the clock: only `now` sends.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const sent: string[][] = [];
      const batcher = new Batcher<string>(10, 20, async (_group, keys) => {
        sent.push(keys);
        return new Map(keys.map((k) => [k, `answer ${k}`]));
      });
      const waiting = batcher.get('c1', 'a');
      const urgent = batcher.get('c1', 'b', true);
      const joined = batcher.get('c1', 'c');
      assert.deepEqual(await Promise.all([waiting, urgent, joined]), ['answer a', 'answer b', 'answer c']);
      assert.deepEqual(sent, [['a', 'b', 'c']]);
      // The next look waits for its window again.
      let answered = false;
      const later = batcher.get('c1', 'd').then((v) => ((answered = true), v));
      await new Promise((r) => setImmediate(r));
      assert.equal(answered, false, 'a look that can wait waits for its window');
      mock.timers.tick(20);
      assert.equal(await later, 'answer d');
      assert.deepEqual(sent, [['a', 'b', 'c'], ['d']]);
    } finally {
      mock.timers.reset();
    }
  });

  it('fails every look of a batch whose call failed', async () => {
    const batcher = new Batcher<string>(10, 20, async () => {
      throw new Error('AccessDeniedException: not authorized to perform ecs:DescribeServices');
    });
    const looks = await Promise.allSettled([batcher.get('c1', 'a'), batcher.get('c1', 'b')]);
    assert.deepEqual(
      looks.map((l) => l.status === 'rejected' && String(l.reason)),
      ['Error: AccessDeniedException: not authorized to perform ecs:DescribeServices', 'Error: AccessDeniedException: not authorized to perform ecs:DescribeServices'],
    );
  });
});
