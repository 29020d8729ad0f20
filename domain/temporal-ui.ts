/** Links into the Temporal UI. Pure: the CLI prints them, the notification activities send them. */

/** Link to an execution in the Temporal UI at `uiUrl`, in `namespace`. */
export function executionUrl(s: { uiUrl: string; namespace: string }, workflowId: string, runId?: string): string {
  const base = `${s.uiUrl}/namespaces/${encodeURIComponent(s.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
