// The floor under `slipway deploy --no-wait`: the same workflow start through
// @temporalio/client and nothing else (no config, no checks, no CLI parsing), on plain node
// with the compile cache, as bin/slipway runs. Used by bench/cli-start.ts.
// argv: <address> <namespace> <taskQueue> <workflowId> <json: { input, searchAttributes: [name, keyword][], summary, details }>
'use strict';
require('node:module').enableCompileCache?.();
const { Client, Connection } = require('@temporalio/client');
const { defineSearchAttributeKey, SearchAttributeType } = require('@temporalio/common');

async function main() {
  const [address, namespace, taskQueue, workflowId, json] = process.argv.slice(2);
  const { input, searchAttributes, summary, details } = JSON.parse(json);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  await client.workflow.start('deploy', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: searchAttributes.map(([name, value]) => ({ key: defineSearchAttributeKey(name, SearchAttributeType.KEYWORD), value })),
    staticSummary: summary,
    staticDetails: details,
  });
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
