// sdk_v1.mjs - the official v1 TypeScript SDK client (2025-11-25) against a taskwire stack.
//
//   node sdk_v1.mjs URL TOKEN OTHER_TOKEN
//
// URL is the MCP endpoint behind haproxy (authentication on); TOKEN and OTHER_TOKEN are
// bearer tokens of two principals.  Through the SDK's own client and transport it checks:
// initialize (version, session id), tools/list with execution.taskSupport, a synchronous
// call, a task-required tool run to completion with callToolStream (tasks/get polling, then
// tasks/result), tasks/result again, tasks/list, tasks/cancel (then -32602 on the second),
// -32602 for an unknown task and for every tasks method on the other principal's task, a
// task that asks for input through tasks/result (elicitation/create on its stream, answered
// by the SDK's request handler), and DELETE of the session (405 counts as success).
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.
// SPDX-License-Identifier: Apache-2.0
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const [url, token, otherToken] = process.argv.slice(2);
if (!url || !token || !otherToken) {
  console.error('usage: node sdk_v1.mjs URL TOKEN OTHER_TOKEN');
  process.exit(2);
}
const RELATED = 'io.modelcontextprotocol/related-task';
let passed = 0;
let failed = 0;
function check(what, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   - ${what}`);
  } else {
    failed++;
    console.log(`FAIL - ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
  return ok;
}
const textOf = (result) => (result?.content ?? []).map((c) => c.text ?? '').join('');

// The JSON-RPC error code 'promise' rejects with (or 'resolved' when it does not reject).
async function codeOf(promise) {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return e instanceof McpError ? e.code : String(e);
  }
}

async function connect(tok, capabilities) {
  const client = new Client({ name: 'taskwire-sdk-v1-test', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${tok}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

// Run callToolStream to its end; returns every message it yielded.
async function stream(client, params, options) {
  const messages = [];
  for await (const m of client.experimental.tasks.callToolStream(params, CallToolResultSchema, options))
    messages.push(m);
  return messages;
}

// Create a task of 'client' that runs long (sleep 60 s) and return its id.
async function longTask(client) {
  for await (const m of client.experimental.tasks.callToolStream(
    { name: 'sleep', arguments: { seconds: 60, steps: 60 } }, CallToolResultSchema, { task: { ttl: 60000 } }))
    if (m.type === 'taskCreated') return m.task.taskId;
  return undefined;
}

async function checkSession(a) {
  check('initialize negotiates 2025-11-25', a.transport.protocolVersion === '2025-11-25', a.transport.protocolVersion);
  const sid = a.transport.sessionId ?? '';
  check('a session id is issued (visible ASCII)', /^[\x21-\x7e]+$/.test(sid), sid);
  const caps = a.client.getServerCapabilities();
  check('tasks are advertised for tools/call', caps?.tasks?.requests?.tools?.call !== undefined, caps);
}

async function checkTools(a) {
  const { tools } = await a.client.listTools();
  const by = Object.fromEntries(tools.map((t) => [t.name, t]));
  check('tools/list has echo (optional) and sleep (required)',
    by.echo?.execution?.taskSupport === 'optional' && by.sleep?.execution?.taskSupport === 'required',
    { echo: by.echo?.execution, sleep: by.sleep?.execution });
  const r = await a.client.callTool({ name: 'echo', arguments: { text: 'hello v1' } });
  check('an optional tool without task augmentation answers synchronously', textOf(r) === 'hello v1', r);
}

async function checkTaskRun(a) {
  const msgs = await stream(a.client, { name: 'sleep', arguments: { seconds: 1, steps: 2 } }, { task: { ttl: 60000 } });
  const created = msgs.find((m) => m.type === 'taskCreated')?.task;
  const last = msgs[msgs.length - 1];
  check('callToolStream: the task is created working with the ttl asked for',
    created?.status === 'working' && created?.ttl === 60000 && typeof created?.pollInterval === 'number', created);
  check('callToolStream: status updates while it runs', msgs.some((m) => m.type === 'taskStatus'), msgs.map((m) => m.type));
  check('callToolStream: ends with the tool result', last?.type === 'result' && /slept|done|second/i.test(textOf(last.result)), last);
  const id = created?.taskId;
  const again = await a.client.experimental.tasks.getTaskResult(id, CallToolResultSchema);
  check('tasks/result returns the CallToolResult with related-task', again?._meta?.[RELATED]?.taskId === id, again);
  const got = await a.client.experimental.tasks.getTask(id);
  check('tasks/get reads the task completed', got?.status === 'completed' && got?.taskId === id, got);
  return id;
}

async function checkListAndCancel(a, doneId) {
  const victim = await longTask(a.client);
  check('a second task is created', typeof victim === 'string', victim);
  const { tasks } = await a.client.experimental.tasks.listTasks();
  const ids = tasks.map((t) => t.taskId);
  check('tasks/list shows both tasks of the caller', ids.includes(doneId) && ids.includes(victim), ids);
  const cancelled = await a.client.experimental.tasks.cancelTask(victim);
  check('tasks/cancel answers the task, cancelled', cancelled?.status === 'cancelled' && cancelled?.taskId === victim, cancelled);
  check('a second tasks/cancel is -32602', (await codeOf(a.client.experimental.tasks.cancelTask(victim))) === -32602);
  check('tasks/cancel of a completed task is -32602', (await codeOf(a.client.experimental.tasks.cancelTask(doneId))) === -32602);
}

async function checkForeign(a, b) {
  const theirs = await longTask(b.client);
  const t = a.client.experimental.tasks;
  check('another principal created a task', typeof theirs === 'string', theirs);
  check('tasks/get of a foreign task is -32602', (await codeOf(t.getTask(theirs))) === -32602);
  check('tasks/result of a foreign task is -32602', (await codeOf(t.getTaskResult(theirs, CallToolResultSchema))) === -32602);
  check('tasks/cancel of a foreign task is -32602', (await codeOf(t.cancelTask(theirs))) === -32602);
  const { tasks } = await t.listTasks();
  check('tasks/list does not show the foreign task', !tasks.some((x) => x.taskId === theirs));
  check('tasks/get of an unknown task is -32602', (await codeOf(t.getTask('00000000-0000-4000-8000-000000000000'))) === -32602);
  const mine = await b.client.experimental.tasks.cancelTask(theirs);
  check('its owner can still cancel it', mine?.status === 'cancelled', mine);
}

// A task-required tool that asks for a name first: the SDK calls tasks/result on
// input_required and answers the elicitation/create that arrives on that stream.
async function checkInput(a) {
  let asked;
  a.client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked = req.params;
    return { action: 'accept', content: { name: 'Ada' } };
  });
  const msgs = await stream(a.client, { name: 'test_tool_with_task', arguments: {} }, { task: {} });
  const last = msgs[msgs.length - 1];
  const id = msgs.find((m) => m.type === 'taskCreated')?.task?.taskId;
  check('elicitation/create reached the client, with related-task', asked?._meta?.[RELATED]?.taskId === id, asked);
  check('the answer resumed the task to its result', last?.type === 'result' && textOf(last.result).includes('Ada'), last);
}

async function main() {
  const a = await connect(token, { elicitation: {} });
  const b = await connect(otherToken, {});
  await checkSession(a);
  await checkTools(a);
  const doneId = await checkTaskRun(a);
  await checkListAndCancel(a, doneId);
  await checkForeign(a, b);
  await checkInput(a);
  check('DELETE of the session is accepted (405 counts)', (await codeOf(a.transport.terminateSession())) === 'resolved');
  await a.client.close();
  await b.client.close();
}

try {
  await main();
} catch (e) {
  check('the test ran to its end', false, String(e?.stack ?? e));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
