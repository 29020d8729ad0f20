/** Logins compare as GitHub compares them; identity modes are chosen per operation, then environment. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../domain/config';
import { identityMode, modeSummary, normalizeLogin, sameLogin, type IdentityConfig } from '../domain/identity';

describe('logins and identity modes', () => {
  it('compares logins trimmed, without @, in any case', () => {
    const same: [string, string][] = [
      ['alice', 'Alice'],
      ['@alice', 'ALICE'],
      [' Dhruv ', 'dhruv'],
      ['openverse-bot', '@Openverse-Bot'],
    ];
    for (const [a, b] of same) assert.equal(sameLogin(a, b), true, `${a} / ${b}`);
    const different: [unknown, unknown][] = [
      ['alice', 'alice2'],
      ['', ''],
      [undefined, undefined],
      ['a-lice', 'alice'],
    ];
    for (const [a, b] of different) assert.equal(sameLogin(a, b), false, `${String(a)} / ${String(b)}`);
    assert.equal(normalizeLogin(' @Zack '), 'zack');
  });

  it('chooses the mode by operation, then environment, then default', () => {
    const id: IdentityConfig = { default: 'trusted-caller', environments: { production: 'oidc' }, operations: { release: 'oidc', approve: 'trusted-caller' } };
    const table: [Parameters<typeof identityMode>[1], string | undefined, string][] = [
      ['deploy', 'production', 'oidc'],
      ['deploy', 'staging', 'trusted-caller'],
      ['rollback', 'production', 'oidc'],
      ['release', undefined, 'oidc'],
      ['approve', 'production', 'trusted-caller'],
      ['pipeline', 'production', 'oidc'],
    ];
    for (const [op, env, mode] of table) assert.equal(identityMode(id, op, env), mode, `${op} ${env}`);
    assert.equal(identityMode(undefined, 'rollback', 'production'), 'trusted-caller');
    assert.equal(modeSummary(id, 'production'), 'oidc (approve: trusted-caller)');
    assert.equal(modeSummary(id, 'staging'), 'trusted-caller (release: oidc)');
  });

  it('the example config proves production actors with GitHub Actions tokens', () => {
    const path = join(__dirname, '..', 'config', 'openverse.yaml');
    const config = parseConfig(readFileSync(path, 'utf8'), path);
    assert.deepEqual(config.identity, {
      default: 'trusted-caller',
      environments: { production: 'oidc' },
      operations: {},
      oidc: {
        issuer: 'https://token.actions.githubusercontent.com',
        audience: 'slipway',
        jwksUrl: 'https://token.actions.githubusercontent.com/.well-known/jwks',
        repository: 'WordPress/openverse',
        workflowRefs: [],
        environments: [],
        leewaySeconds: 30,
      },
    });
    for (const op of ['deploy', 'rollback', 'redeploy', 'release', 'approve', 'pipeline'] as const) assert.equal(identityMode(config.identity, op, 'production'), 'oidc', op);
    assert.equal(identityMode(config.identity, 'deploy', 'staging'), 'trusted-caller');
  });
});
