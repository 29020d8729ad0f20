import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortTag, tagProblem } from '../domain/tags';

describe('image tags', () => {
  const good = ['3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a', 'latest', 'rel-2023.03.22.04.56.29', 'v1.2.3', '_x', 'a'.repeat(128)];
  const bad: [unknown, RegExp][] = [
    ['', /required/],
    [undefined, /required/],
    [42, /required/],
    ['a'.repeat(129), /129 characters/],
    ['v1 && rm -rf /', /not a valid image tag/],
    ['../latest', /not a valid image tag/],
    ['latest/../../x', /not a valid image tag/],
    [' latest', /not a valid image tag/],
    ['latest\n', /not a valid image tag/],
    ['-rf', /not a valid image tag/],
    ['.hidden', /not a valid image tag/],
    ['sha256:abc', /not a valid image tag/],
    ['$(whoami)', /not a valid image tag/],
    ['tag;ls', /not a valid image tag/],
  ];
  for (const t of good) it(`accepts ${t.slice(0, 20)}`, () => assert.equal(tagProblem(t), undefined));
  for (const [t, re] of bad) it(`refuses ${JSON.stringify(t)?.slice(0, 30)}`, () => assert.match(tagProblem(t) ?? '', re));
  it('shortens SHAs only', () => {
    assert.equal(shortTag('3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a'), '3f2c1a9');
    assert.equal(shortTag('latest'), 'latest');
  });
});
