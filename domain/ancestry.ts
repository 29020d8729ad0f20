/**
 * Which waiting merge goes next, decided by git ancestry rather than by the order the
 * reports arrived in. Pure: the GitHub side (one compare of a base with the default
 * branch) gathers the `Relations`; this file only reads them.
 */

/** A commit of a compare answer: its SHA and its parents' SHAs. */
export interface GraphCommit {
  sha: string;
  parents: string[];
}

/** What one compare `<base>...<branch>` (and a check of any entry it did not list) says about the entries. */
export interface Relations {
  /** The default branch compared against. */
  branch: string;
  /** The commit compared from: the last validated release, or the oldest entry on the branch. Absent when none is. */
  base?: string;
  /** True when `base` is one of the entries (no release known yet). */
  baseIsEntry: boolean;
  /** The commits on the branch after `base`, as the compare lists them. */
  commits: GraphCommit[];
  /** Entries on the branch at or before `base`. */
  older: string[];
  /** Entries not on the branch, each with the reason. */
  offBranch: { sha: string; reason: string }[];
}

export interface PickPlan {
  candidate?: string;
  /** Entries the candidate (or the release compared from) contains. */
  superseded: { sha: string; note: string }[];
  /** Entries that will never be picked, with the reason. */
  refused: { sha: string; note: string }[];
  /** Set when fifo's choice differs from git order. */
  note?: string;
}

/** The commits of `relations.commits` reachable from `sha` (itself excluded), and whether the walk left the list (reached the base's history). */
function ancestry(relations: Relations, sha: string): { within: Set<string>; reachesBase: boolean } {
  const bySha = new Map(relations.commits.map((c) => [c.sha, c]));
  const within = new Set<string>();
  let reachesBase = false;
  const stack = [...(bySha.get(sha)?.parents ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    const c = bySha.get(p);
    if (!c) {
      reachesBase = true;
      continue;
    }
    if (within.has(p)) continue;
    within.add(p);
    stack.push(...c.parents);
  }
  return { within, reachesBase };
}

/**
 * Picks from `waiting` (SHAs in arrival order) by `policy`:
 *  - `latest`: the newest entry by ancestry; entries it contains are superseded, others keep waiting;
 *  - `fifo`: the first to arrive; the note says when an entry that arrived later is its ancestor.
 * Either way an entry not on the default branch is refused, and one already contained in
 * the released base is superseded by it.
 */
export function planPick(relations: Relations, waiting: string[], policy: 'latest' | 'fifo'): PickPlan {
  const plan: PickPlan = { superseded: [], refused: [] };
  const off = new Map(relations.offBranch.map((o) => [o.sha, o.reason]));
  const older = new Set(relations.older);
  const index = new Map(relations.commits.map((c, i) => [c.sha, i]));
  const short = (s: string) => s.slice(0, 7);
  const released = !relations.baseIsEntry && relations.base;

  const eligible: string[] = [];
  for (const sha of waiting) {
    if (off.has(sha)) plan.refused.push({ sha, note: off.get(sha)! });
    else if (released && older.has(sha)) plan.superseded.push({ sha, note: `contained in ${relations.base} (released already)` });
    else eligible.push(sha);
  }
  if (eligible.length === 0) return plan;

  const anc = new Map(eligible.map((s) => [s, ancestry(relations, s)]));
  /** Whether `a` contains `b` (b is an ancestor of a). */
  const contains = (a: string, b: string): boolean => {
    if (a === b) return false;
    const x = anc.get(a)!;
    if (x.within.has(b)) return true;
    // Entries at or before the base entry: in the base entry itself, and in every listed commit whose history reaches it.
    if (!relations.baseIsEntry || (b !== relations.base && !older.has(b))) return false;
    if (a === relations.base) return older.has(b);
    return index.has(a) && x.reachesBase;
  };
  /** Newer by ancestry: more of the listed commits behind it; the base entry and older ones come first. */
  const rank = (s: string) => (index.has(s) ? anc.get(s)!.within.size : s === relations.base ? -1 : -2);
  const byGit = [...eligible].sort((a, b) => rank(a) - rank(b) || (index.get(a) ?? -1) - (index.get(b) ?? -1));

  const candidate = policy === 'fifo' ? eligible[0] : byGit[byGit.length - 1];
  plan.candidate = candidate;
  if (policy === 'latest') {
    for (const sha of eligible) if (contains(candidate, sha)) plan.superseded.push({ sha, note: `contained in ${candidate}` });
  } else {
    const later = eligible.slice(1).filter((sha) => contains(candidate, sha));
    if (later.length) {
      plan.note = `fifo keeps arrival order: ${short(candidate)} was reported before its ancestor${later.length > 1 ? 's' : ''} ${later.map(short).join(', ')}, which will follow it`;
    }
  }
  return plan;
}
