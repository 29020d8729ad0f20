/**
 * The runtime: the tests and every process they spawn run on Node 22 or later (24 LTS is
 * the target; scripts/setup.sh installs it from PyPI when the machine's node is older), the
 * native Temporal core bridge loads on it, and the AWS SDK has nothing to say about it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../sandbox/tools';

const major = (v: string) => Number(/^v?(\d+)\./.exec(v.trim())?.[1]);
const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

describe('runtime', () => {
  it('the test runner and the node that spawned processes find on PATH are Node 22 or later', () => {
    assert.ok(major(process.version) >= 22, `test runner on ${process.version}`);
    const onPath = spawnSync('node', ['--version'], { encoding: 'utf8' });
    assert.equal(onPath.status, 0, onPath.stderr);
    assert.ok(major(onPath.stdout) >= 22, `node on PATH is ${onPath.stdout.trim()}`);
  });

  it('package.json, .nvmrc and the Docker image agree: Node 24, 22 also supported', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.equal(pkg.engines.node, '>=22');
    assert.equal(read('.nvmrc').trim(), '24');
    assert.match(read('Dockerfile'), /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  });

  it('loads the native Temporal core bridge and the AWS SDK without a Node-support warning', () => {
    const script = `
      const { native } = require('@temporalio/core-bridge');
      if (typeof native.newClient !== 'function') throw new Error('core bridge without newClient');
      const { ECSClient } = require('@aws-sdk/client-ecs');
      new ECSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
      process.stdout.write(process.version);`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_SDK_JS_')));
    const r = spawnSync('node', ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(major(r.stdout) >= 22, r.stdout);
    assert.equal(r.stderr, '', 'nothing on stderr (no NodeVersionSupportWarning)');
  });
});
