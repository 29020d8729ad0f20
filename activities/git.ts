/**
 * Git ancestry through GitHub's compare API: how the merges waiting in the pipeline
 * relate to each other and to the default branch.
 */
import type { Octokit } from '@octokit/rest';
import type { GraphCommit, Relations } from '../domain/ancestry';
import { rethrowGitHub } from './github';
import { withHeartbeat } from './heartbeat';

export interface GitDeps {
  github: Octokit;
  owner: string;
  repo: string;
  /** The default branch merges land on. Default `main`. */
  branch?: string;
}

export interface RelateCommitsInput {
  /** Waiting entries, in the order they were reported. */
  shas: string[];
  /** The last validated release, when there is one: every new merge descends from it. */
  base?: string;
}

/** Who merged a commit, as GitHub records it. */
export interface MergerOf {
  /** The pull request merged as this commit. */
  pull?: number;
  /** Its `merged_by` login. */
  merger?: string;
}

type Comparison = { status: string; commits: GraphCommit[] } | undefined;

export function createGitActivities(deps: GitDeps) {
  const { github, owner, repo } = deps;
  const branch = deps.branch ?? 'main';
  const where = `${owner}/${repo}`;

  /** `base...branch`, or undefined when GitHub knows no such commit. */
  async function compare(base: string, signal?: AbortSignal): Promise<Comparison> {
    try {
      const res = await github.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${base}...${branch}`, request: { signal } });
      return { status: res.data.status, commits: res.data.commits.map((c) => ({ sha: c.sha, parents: c.parents.map((p) => p.sha) })) };
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      rethrowGitHub(err, `comparing ${base.slice(0, 7)} with ${branch} in ${where}`, { tokenNeeds: 'contents: read' });
    }
  }
  /** The branch contains `base` when its compare says the branch is ahead of it or identical. */
  const onBranch = (c: Comparison) => c?.status === 'ahead' || c?.status === 'identical';
  const offReason = (sha: string, c: Comparison) =>
    c ? `${sha.slice(0, 7)} is not on ${where}'s default branch ${branch}: it was never merged there` : `${sha.slice(0, 7)} is not a commit of ${where}`;

  return {
    /**
     * Who merged `sha`, as GitHub records it: the `merged_by` of the pull request whose
     * merge commit it is. Empty when GitHub knows no such pull request (a direct push).
     */
    async mergerOf(input: { sha: string }): Promise<MergerOf> {
      const what = `looking up the pull request merged as ${input.sha.slice(0, 7)} in ${where}`;
      try {
        const pulls = await github.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: input.sha });
        const merged = pulls.data.find((p) => p.merge_commit_sha === input.sha && p.merged_at);
        if (!merged) return {};
        const pull = await github.rest.pulls.get({ owner, repo, pull_number: merged.number });
        return { pull: merged.number, ...(pull.data.merged_by?.login ? { merger: pull.data.merged_by.login } : {}) };
      } catch (err) {
        if ((err as { status?: number }).status === 404 || (err as { status?: number }).status === 422) return {};
        rethrowGitHub(err, what, { tokenNeeds: 'pull-requests: read' });
      }
    },

    /**
     * One compare of the base (the last validated release, else the oldest entry on the
     * branch) with the default branch tells which entries follow it and how they descend
     * from each other. Only an entry that compare does not list costs a call of its own,
     * to tell "on the branch before the base" from "not on the branch".
     */
    async relateCommits(input: RelateCommitsInput): Promise<Relations> {
      return withHeartbeat(async (signal) => {
        const relations: Relations = { branch, baseIsEntry: false, commits: [], older: [], offBranch: [] };
        const checked = new Set<string>();
        let comparison: Comparison;
        for (const base of [...(input.base ? [input.base] : []), ...input.shas]) {
          if (checked.has(base)) continue;
          const isEntry = input.shas.includes(base);
          if (isEntry) checked.add(base);
          comparison = await compare(base, signal);
          if (onBranch(comparison)) {
            relations.base = base;
            relations.baseIsEntry = isEntry && base !== input.base;
            relations.commits = comparison!.commits;
            break;
          }
          if (isEntry) relations.offBranch.push({ sha: base, reason: offReason(base, comparison) });
        }
        if (!relations.base) return relations;
        const listed = new Set(relations.commits.map((c) => c.sha));
        for (const sha of input.shas) {
          if (checked.has(sha) || listed.has(sha)) continue;
          if (sha === relations.base) continue;
          const c = await compare(sha, signal);
          if (onBranch(c)) relations.older.push(sha);
          else relations.offBranch.push({ sha, reason: offReason(sha, c) });
        }
        return relations;
      });
    },
  };
}

export type GitActivities = ReturnType<typeof createGitActivities>;
