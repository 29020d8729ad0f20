/** The endpoints served, keyed by the OpenAPI description's method and path. */
import { cancelWorkflowRun, dispatchWorkflow, getWorkflowRun, listWorkflowRuns } from './actions';
import {
  compareCommits,
  createDeployment,
  createDeploymentStatus,
  createPull,
  createRef,
  createRelease,
  getContent,
  getPull,
  listPullsForCommit,
  getRateLimit,
  getRef,
  getRelease,
  getReleaseByTag,
  getTeam,
  getTeamMembership,
  getUser,
  listDeploymentStatuses,
  listDeployments,
  listMatchingRefs,
  listPulls,
  listReleases,
  listTeamMembers,
  putContents,
  updateRelease,
} from './handlers';
import type { Route } from './router';
import { searchIssues } from './search';

/** The endpoints served, keyed by the OpenAPI description's method and path. More are one handler and one line each. */
export const ROUTES: Route[] = [
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}/memberships/{username}', handler: getTeamMembership },
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}/members', handler: listTeamMembers },
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}', handler: getTeam },
  { method: 'GET', path: '/users/{username}', handler: getUser },
  { method: 'GET', path: '/rate_limit', handler: getRateLimit },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases', handler: listReleases },
  { method: 'POST', path: '/repos/{owner}/{repo}/releases', handler: createRelease },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases/tags/{tag}', handler: getReleaseByTag },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases/{release_id}', handler: getRelease },
  { method: 'PATCH', path: '/repos/{owner}/{repo}/releases/{release_id}', handler: updateRelease },
  { method: 'POST', path: '/repos/{owner}/{repo}/git/refs', handler: createRef },
  { method: 'GET', path: '/repos/{owner}/{repo}/git/ref/{ref}', handler: getRef },
  { method: 'GET', path: '/repos/{owner}/{repo}/compare/{basehead}', handler: compareCommits },
  { method: 'GET', path: '/repos/{owner}/{repo}/git/matching-refs/{ref}', handler: listMatchingRefs },
  { method: 'GET', path: '/repos/{owner}/{repo}/pulls', handler: listPulls },
  { method: 'POST', path: '/repos/{owner}/{repo}/pulls', handler: createPull },
  { method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}', handler: getPull },
  { method: 'GET', path: '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', handler: listPullsForCommit },
  { method: 'GET', path: '/repos/{owner}/{repo}/contents/{path}', handler: getContent },
  { method: 'PUT', path: '/repos/{owner}/{repo}/contents/{path}', handler: putContents },
  { method: 'POST', path: '/repos/{owner}/{repo}/deployments', handler: createDeployment },
  { method: 'GET', path: '/repos/{owner}/{repo}/deployments', handler: listDeployments },
  { method: 'POST', path: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', handler: createDeploymentStatus },
  { method: 'GET', path: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', handler: listDeploymentStatuses },
  { method: 'POST', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', handler: dispatchWorkflow },
  { method: 'GET', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', handler: listWorkflowRuns },
  { method: 'GET', path: '/repos/{owner}/{repo}/actions/runs/{run_id}', handler: getWorkflowRun },
  { method: 'POST', path: '/repos/{owner}/{repo}/actions/runs/{run_id}/cancel', handler: cancelWorkflowRun },
  { method: 'GET', path: '/search/issues', handler: searchIssues },
];

/** Routes not subject to rate limiting or injected faults (as on GitHub, checking the limit is free). */
export const UNMETERED = new Set(['GET /rate_limit']);

/** `METHOD /path` of every route: the operations the pruned OpenAPI description must hold. */
export const ROUTE_KEYS = ROUTES.map((r) => `${r.method} ${r.path}`);
