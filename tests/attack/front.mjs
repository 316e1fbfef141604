// front.mjs - the attack suite's HTTP cases: hostile requests at the front door (through
// haproxy and straight at a frontend) and at the admin ports, one table, each case with the
// answer a correct server gives (HTTP status, JSON-RPC code, headers, what the body must and
// must not say).  Expected values come from the README, the 2026-07-28 specification
// (/work/shared/spec, sections 2 and 6) and RFC 6750/9110, not from today's answers.
//
//   node front.mjs setup CTX_JSON OUT_JSON   make alice's tasks and sessions for the cases
//   node front.mjs cases CTX_JSON OUT_JSON   run the table; prints "ok   - name" or
//                                            "FAIL - name: why" per case, then
//                                            "N passed, M failed"; exit 1 on any failure
//
// CTX_JSON (written by test_attack.sh) holds the ports, the tokens of the principals, the
// stack's dev key, issuer and audience, alice's tasks, and the secrets no answer may show.
// OUT_JSON gets what the shell checks afterwards: every token sent, and how many task rows
// each principal's cases may have created (refused requests create none).
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import {send, build, tokens} from './wire.mjs';

const [mode, ctxFile, outFile] = process.argv.slice(2);
const C = JSON.parse(fs.readFileSync(ctxFile, 'utf8'));
const PORT = {proxy: C.base, fe1: C.base + 1, fe2: C.base + 2, adm1: C.base + 11,
    adm2: C.base + 12, wadm1: C.base + 31, wadm2: C.base + 32};
const V = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const meta = (caps = {extensions: {[TASKS]: {}}}, v = V) => ({
    'io.modelcontextprotocol/protocolVersion': v,
    'io.modelcontextprotocol/clientCapabilities': caps,
    'io.modelcontextprotocol/clientInfo': {name: 'attack', version: '1'},
});
const SENT_TOKENS = new Set();

// rq(method, params, opts): a 2026-07-28 POST /mcp with the routing headers.  opts: tok
// (null: no Authorization), name (Mcp-Name), drop (header names left out), add ([name,
// value] appended), meta (the _meta object; null: none), body (replaces the JSON body), id.
function rq(method, params = {}, o = {}) {
    const tok = o.tok === undefined ? C.tokens.mallory : o.tok;
    if (tok) SENT_TOKENS.add(tok);
    const p = {...params};
    if (o.meta !== null) p._meta = o.meta || meta();
    const body = o.body !== undefined ? o.body :
        JSON.stringify({jsonrpc: '2.0', id: o.id === undefined ? 1 : o.id, method, params: p});
    let h = [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'],
        ['MCP-Protocol-Version', V], ['Mcp-Method', method]];
    if (o.name !== undefined) h.push(['Mcp-Name', o.name]);
    if (tok) h.push(['Authorization', `Bearer ${tok}`]);
    const drop = (o.drop || []).map((x) => x.toLowerCase());
    h = h.filter(([n]) => !drop.includes(n.toLowerCase())).concat(o.add || []);
    return {method: 'POST', path: o.path || '/mcp', headers: h, body};
}
const b64 = (s) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;
const nest = (n, open, close, inner = '0') => open.repeat(n) + inner + close.repeat(n);
const deepArray = (n) => JSON.parse(nest(n, '[', ']', '"x"'));

// ---- expectations ----

const J = (r) => {
    try {
        return JSON.parse(r.body);
    } catch {
        return undefined;
    }
};
// The JSON-RPC error code of an answer, or null when it is a result / not JSON-RPC.
const codeOf = (r) => J(r)?.error?.code ?? null;
const hdr = (r, n) => (r.headers[n] || []).join(', ');

// verdict(expect, r): null when the answer is what a correct server gives, else why not.
function verdict(e, r) {
    if (e.status !== undefined) {
        const want = [].concat(e.status);
        const got = r.status === 0 && !r.error ? 'closed' : r.status;
        if (!want.includes(got))
            return `HTTP ${got}${r.error ? ` (${r.error})` : ''}, expected ${want.join(' or ')}` +
                ` - ${r.body.slice(0, 160)}`;
    }
    if (e.code !== undefined && codeOf(r) !== e.code)
        return `JSON-RPC code ${codeOf(r)}, expected ${e.code} - ${r.body.slice(0, 160)}`;
    if (e.result && J(r)?.result === undefined)
        return `no JSON-RPC result - ${r.body.slice(0, 160)}`;
    if (e.msg && !e.msg.test(J(r)?.error?.message || ''))
        return `message ${JSON.stringify(J(r)?.error?.message)} does not match ${e.msg}`;
    for (const [n, re] of Object.entries(e.hdr || {}))
        if (!re.test(hdr(r, n))) return `header ${n}: ${JSON.stringify(hdr(r, n))} does not match ${re}`;
    for (const [n, re] of Object.entries(e.nohdr || {}))
        if (re.test(hdr(r, n))) return `header ${n}: ${JSON.stringify(hdr(r, n))} must not match ${re}`;
    if (e.check) return e.check(r, J(r));
    return null;
}

// ---- the table ----

// Every case: {name, to: [targets], req (a request object or a function of the target),
// expect, creates: {owner: rows}}.  A case with several targets counts once per target.
function table(T, F) {
    const cases = [];
    const add = (name, to, req, expect, extra = {}) => cases.push({name, to, req, expect, ...extra});
    const BOTH = ['proxy', 'fe1'];
    const M = C.tokens.mallory;
    const A = C.alice;

    // -- bearer tokens (RFC 6750; issue 9: typ at+jwt, two headers 400, generic bodies) --
    const www = F.oauth ? /^Bearer .*resource_metadata="/ : /^Bearer /;
    const missing = {status: 401, hdr: {'www-authenticate': www}, nohdr: {'www-authenticate': /error=/}};
    // With issue 9's resource server the body is generic: it never says which check failed.
    const generic = /expir|audience|issuer|signature|kid|alg|typ|segment|base64|claim/i;
    const invalid = {status: 401, hdr: {'www-authenticate': /^Bearer .*error="invalid_token"/},
        check: (r) => (!www.test(hdr(r, 'www-authenticate')) ? 'the challenge lacks resource_metadata'
            : F.oauth && generic.test(r.body) ? `the body says why: ${r.body.slice(0, 120)}` : null)};
    const bad = (name, tok, to = BOTH) => add(`token: ${name}`, to, rq('tools/list', {}, {tok}), invalid);
    add('token: no Authorization header', BOTH, rq('tools/list', {}, {tok: null}), missing);
    add('token: Basic credentials', BOTH, rq('tools/list', {}, {tok: null,
        add: [['Authorization', 'Basic YWxpY2U6c2VjcmV0']]}), missing);
    add('token: "Bearer" with nothing after it', BOTH, rq('tools/list', {}, {tok: null,
        add: [['Authorization', 'Bearer']]}), {status: 401, hdr: {'www-authenticate': www}});
    bad('garbage', 'not-a-token');
    bad('three segments of garbage', 'a.b.c');
    bad('base64url of non-JSON', `${Buffer.from('x').toString('base64url')}.eyJ9.c2ln`);
    bad('8 KiB of base64url', `${'A'.repeat(4000)}.${'B'.repeat(4000)}.${'C'.repeat(200)}`);
    bad('alg none, empty signature', T.unsigned({alg: 'none', typ: 'at+jwt'}, {}, ''));
    bad('alg none with a signature', T.unsigned({alg: 'none', typ: 'at+jwt'}, {}, 'c2ln'));
    bad('alg HS256 keyed with the public key (alg confusion)',
        T.unsigned({alg: 'HS256', typ: 'at+jwt', kid: T.jwk.kid}, {}, 'AAAA'));
    bad('unknown kid', T.sign({kid: 'not-a-known-kid'}));
    bad('kid of ours, signed by another key', T.sign({}, {}, {key: T.other}));
    bad('expired an hour ago', T.sign({}, {exp: T.now - 3600, iat: T.now - 7200, nbf: T.now - 7200}));
    bad('not valid for another hour (nbf)', T.sign({}, {nbf: T.now + 3600}));
    bad('exp as a string', T.sign({}, {exp: String(T.now + 3600)}));
    bad('another issuer', T.sign({}, {iss: 'https://evil.example'}));
    bad('another audience', T.sign({}, {aud: 'https://other.example/mcp'}));
    bad('audience array without ours', T.sign({}, {aud: ['https://a.example', 'b']}));
    bad('no subject', T.sign({}, {sub: undefined}));
    bad('subject with control characters', T.sign({}, {sub: 'ali\u0001ce'}));
    bad('typ is not a token type', T.sign({typ: 'foo'}));
    bad('crit header member', T.sign({crit: ['exp']}));
    bad('ES256 signature padded to 65 bytes', (() => {
        const t = T.sign();
        const s = Buffer.from(t.split('.')[2], 'base64url');
        return `${t.split('.').slice(0, 2).join('.')}.${Buffer.concat([s, Buffer.from([0])]).toString('base64url')}`;
    })());
    bad('payload swapped to alice, signature kept', (() => {
        const t = T.sign();
        const p = JSON.parse(Buffer.from(t.split('.')[1], 'base64url'));
        p.sub = 'alice';
        return [t.split('.')[0], Buffer.from(JSON.stringify(p)).toString('base64url'), t.split('.')[2]].join('.');
    })());
    // RFC 9068: typ must be at+jwt; before issue 9's auth this build accepted "JWT".
    add('token: typ JWT (RFC 9068 wants at+jwt)', BOTH, rq('tools/list', {}, {tok: T.sign({typ: 'JWT'})}),
        F.oauth ? invalid : {status: 200, result: true});
    add('token: bearer scheme in lower case (RFC 9110: case-insensitive)', BOTH,
        rq('tools/list', {}, {tok: null, add: [['Authorization', `bearer ${M}`]]}), {status: 200, result: true});
    // RFC 6750 2.3 (a token in the URI) is not supported: ignored, or (issue 9) 400 invalid_request.
    add('token: only in the query string', BOTH, rq('tools/list', {}, {tok: null,
        path: `/mcp?access_token=${M}`}), F.oauth ? {status: 400, hdr: {'www-authenticate': /error="invalid_request"/}} : missing);
    if (F.oauth) {
        // RFC 9728 metadata, and scopes (403 insufficient_scope naming what is needed).
        add('token: protected resource metadata', BOTH, {method: 'GET', path: '/.well-known/oauth-protected-resource', headers: [], body: ''},
            {status: 200, check: (r, j) => (j?.resource && Array.isArray(j?.bearer_methods_supported) ? null : 'no resource or bearer_methods_supported')});
        add('token: POST to the metadata', ['fe1'], {method: 'POST', path: '/.well-known/oauth-protected-resource', headers: [], body: '{}'}, {status: 405});
        const scope403 = {status: 403, hdr: {'www-authenticate': /error="insufficient_scope".*scope="/}};
        add('token: no scope calls a tool', BOTH, rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: 'echo', tok: T.sign({}, {scope: undefined})}), scope403);
        add('token: only mcp:tasks calls a tool', ['fe1'], rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: 'echo', tok: T.sign({}, {scope: 'mcp:tasks'})}), scope403);
        add('token: only mcp:tools reads a task', ['fe1'], rq('tasks/get', {taskId: A.done}, {name: A.done, tok: T.sign({}, {scope: 'mcp:tools'})}), scope403);
        add('token: a made-up operator scope string', ['fe1'], rq('tasks/get', {taskId: A.done}, {name: A.done, tok: T.sign({}, {scope: 'mcp:operatorx mcp:tool'})}), scope403);
    }
    add('token: two Authorization headers (valid, then garbage)', BOTH,
        rq('tools/list', {}, {add: [['Authorization', 'Bearer garbage']]}),
        F.oauth ? {status: 400} : {status: 200, result: true}, {note: F.oauth ? '' : 'first wins before issue 9'});
    add('token: CR inside the Authorization value', BOTH, {raw: (port) => Buffer.from(
        build(rq('tools/list', {}, {tok: null, add: [['Authorization', `Bearer ${M}\rjunk`]]})))},
    {status: 400});

    // -- Content-Type, Accept (unspecified by MCP; the frontend reads the body as JSON) --
    add('content: Content-Type text/plain with a JSON body is read as JSON', ['fe1'],
        rq('tools/list', {}, {drop: ['Content-Type'], add: [['Content-Type', 'text/plain']]}),
        {status: 200, result: true});
    add('content: no Content-Type and no Accept', ['fe1'],
        rq('tools/list', {}, {drop: ['Content-Type', 'Accept']}), {status: 200, result: true});
    add('content: Content-Type form-urlencoded with a form body', BOTH,
        rq('tools/list', {}, {drop: ['Content-Type'], add: [['Content-Type',
            'application/x-www-form-urlencoded']], body: 'a=1&b=2'}), {status: 400, code: -32700});

    // -- bodies: size, JSON, JSON-RPC shapes --
    add('body: 1 MiB + 1 byte (TASKWIRE_MAX_BODY_BYTES)', BOTH,
        rq('tools/list', {}, {body: `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}${' '.repeat(1048576 - 56)}`}),
        {status: 413, code: -32600});
    add('body: 2 MiB chunked, no Content-Length', BOTH, (() => {
        const r = rq('tools/list', {}, {add: [['Transfer-Encoding', 'chunked']]});
        const chunk = Buffer.alloc(65536, 0x20);
        const parts = [];
        for (let i = 0; i < 32; i++) parts.push(Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n'));
        parts.push(Buffer.from('0\r\n\r\n'));
        r.body = Buffer.concat(parts);
        return r;
    })(), {status: 413});
    add('body: Content-Length 99999999999, nothing sent', BOTH,
        rq('tools/list', {}, {add: [['Content-Length', '99999999999']], body: ''}),
        {status: [413, 408]}, {timeoutMs: 20000});
    add('body: Content-Length -1', BOTH, rq('tools/list', {}, {add: [['Content-Length', '-1']], body: ''}),
        {status: [400, 413]});
    add('body: Transfer-Encoding chunked and Content-Length (smuggling)', BOTH,
        rq('tools/list', {}, {add: [['Transfer-Encoding', 'chunked'], ['Content-Length', '5']],
            body: '0\r\n\r\nGET /x HTTP/1.1\r\n\r\n'}), {status: 400});
    const pe = {status: 400, code: -32700};
    const ir = {status: 400, code: -32600};
    add('json: empty body', BOTH, rq('tools/list', {}, {body: ''}), pe);
    add('json: a lone {', BOTH, rq('tools/list', {}, {body: '{'}), pe);
    add('json: trailing garbage', BOTH, rq('tools/list', {}, {body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"} x'}), pe);
    add('json: invalid UTF-8 in a string', BOTH, rq('tools/list', {}, {body: Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/list","x":"'), Buffer.from([0xc3, 0x28]),
        Buffer.from('"}')])}), pe);
    add('json: a lone surrogate escape', ['fe1'], rq('tools/list', {}, {body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","x":"\\ud800"}'}), pe);
    add('json: duplicate member names', ['fe1'], rq('tools/list', {}, {body: '{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}'}), pe);
    add('json: raw NUL byte between tokens', BOTH, rq('tools/list', {}, {body: Buffer.from('{"jsonrpc":"2.0",\0"id":1}')}), pe);
    add('json: raw control byte inside a string', ['fe1'], rq('tools/list', {}, {body: '{"jsonrpc":"2.0","id":1,"method":"tools\u0001list"}'}), pe);
    add('json: 100000 nested arrays', BOTH, rq('tools/list', {}, {body: nest(100000, '[', ']')}), pe);
    add('json: 50000 nested objects in params', ['fe1'], rq('tools/list', {}, {body:
        `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":${nest(50000, '{"a":', '}', '1')}}`}), pe);
    add('jsonrpc: a batch', BOTH, rq('tools/list', {}, {body: `[${rq('tools/list').body}]`}), ir);
    add('jsonrpc: an empty array', ['fe1'], rq('tools/list', {}, {body: '[]'}), ir);
    add('jsonrpc: a string', ['fe1'], rq('tools/list', {}, {body: '"tools/list"'}), ir);
    add('jsonrpc: a number', ['fe1'], rq('tools/list', {}, {body: '42'}), ir);
    add('jsonrpc: null', ['fe1'], rq('tools/list', {}, {body: 'null'}), ir);
    const shape = (name, obj, to = ['fe1']) => add(`jsonrpc: ${name}`, to, rq(obj.method || 'tools/list', {}, {body: JSON.stringify(obj)}), ir);
    const base = {jsonrpc: '2.0', id: 1, method: 'tools/list', params: {_meta: meta()}};
    shape('"jsonrpc" is "1.0"', {...base, jsonrpc: '1.0'}, BOTH);
    shape('"jsonrpc" missing', {...base, jsonrpc: undefined});
    shape('"id" is an object', {...base, id: {a: 1}}, BOTH);
    shape('"id" is a fraction', {...base, id: 1.5});
    shape('"id" is a boolean', {...base, id: true});
    shape('"method" is a number', {...base, method: 7}, BOTH);
    shape('"method" is empty', {...base, method: ''});
    shape('"params" is an array', {...base, params: [1]}, BOTH);
    shape('"params" is a string', {...base, params: 'x'});
    shape('a response posted by the client', {jsonrpc: '2.0', id: 1, result: {}});
    shape('neither method nor result', {jsonrpc: '2.0', id: 1});
    add('jsonrpc: a notification of an unknown method is accepted and ignored', BOTH,
        rq('notifications/whatever', {}, {body: JSON.stringify({jsonrpc: '2.0', method: 'notifications/whatever', params: {_meta: meta()}})}),
        {status: 202, check: (r) => (r.body === '' ? null : `body ${r.body.slice(0, 80)}`)});
    add('jsonrpc: \\u0000 in "method"', ['fe1'], rq('tools/list', {}, {body: '{"jsonrpc":"2.0","id":1,"method":"tools/list\\u0000x"}'}), ir);

    // -- methods (spec section 2: unknown and removed methods are 404 -32601) --
    const nf = {status: 404, code: -32601};
    for (const m of ['no/such/method', 'initialize', 'ping', 'tasks/list', 'tasks/result',
        'logging/setLevel', '../../etc/passwd'])
        add(`method: ${m}`, m === 'tasks/list' || m === 'no/such/method' ? BOTH : ['fe1'], rq(m), nf);
    add('method: a 10 KiB method name', ['fe1'], rq('x'.repeat(10240)), nf);

    // -- _meta envelope (400 -32602) and protocol version (400 -32020 / -32022) --
    const em = {status: 400, code: -32602};
    add('meta: no _meta', BOTH, rq('tools/list', {}, {meta: null}), em);
    add('meta: _meta is a string', ['fe1'], rq('tools/list', {_meta: 'x'}, {meta: null}), em);
    add('meta: no protocolVersion in _meta', ['fe1'], rq('tools/list', {}, {meta: {'io.modelcontextprotocol/clientCapabilities': {}}}), em);
    add('meta: protocolVersion is a number', ['fe1'], rq('tools/list', {}, {meta: {...meta(), 'io.modelcontextprotocol/protocolVersion': 20260728}}), em);
    add('meta: no clientCapabilities', BOTH, rq('tools/list', {}, {meta: {'io.modelcontextprotocol/protocolVersion': V}}), em);
    add('meta: clientCapabilities is an array', ['fe1'], rq('tools/list', {}, {meta: meta([])}), em);
    add('version: header 2026-07-28, _meta 2025-11-25', BOTH, rq('tools/list', {}, {meta: meta(undefined, '2025-11-25')}), {status: 400, code: -32020});
    add('version: 2099-01-01 in header and _meta', BOTH,
        rq('tools/list', {}, {meta: meta(undefined, '2099-01-01'), drop: ['MCP-Protocol-Version'], add: [['MCP-Protocol-Version', '2099-01-01']]}),
        {status: 400, code: -32022, check: (r, j) => (j?.error?.data?.supported?.includes(V) ? null : 'data.supported lacks 2026-07-28')});
    add('version: no MCP-Protocol-Version header', BOTH, rq('tools/list', {}, {drop: ['MCP-Protocol-Version']}), {status: 400, code: -32020});
    add('version: header 2025-11-25 with a 2026 body', ['fe1'], rq('tools/list', {}, {drop: ['MCP-Protocol-Version'], add: [['MCP-Protocol-Version', '2025-11-25']]}), {status: 400, code: -32020});
    add('version: a garbage header without _meta', ['fe1'], rq('tools/list', {}, {meta: null, drop: ['MCP-Protocol-Version'], add: [['MCP-Protocol-Version', 'x'.repeat(300)]]}), {status: 400, code: -32022});

    // -- routing headers (400 -32020) --
    const hm = {status: 400, code: -32020};
    add('header: no Mcp-Method', BOTH, rq('tools/list', {}, {drop: ['Mcp-Method']}), hm);
    add('header: Mcp-Method in another case', ['fe1'], rq('tools/list', {}, {drop: ['Mcp-Method'], add: [['Mcp-Method', 'Tools/List']]}), hm);
    add('header: Mcp-Method names another method', BOTH, rq('tools/list', {}, {drop: ['Mcp-Method'], add: [['Mcp-Method', 'tools/call']]}), hm);
    add('header: tools/call without Mcp-Name', BOTH, rq('tools/call', {name: 'echo', arguments: {text: 'x'}}), hm);
    add('header: tools/call with another Mcp-Name', BOTH, rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: 'greet'}), hm);
    add('header: Mcp-Name with invalid base64', BOTH, rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: '=?base64?!!!!?='}), hm);
    add('header: Mcp-Name base64 of another name', ['fe1'], rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: b64('greet')}), hm);
    add('header: Mcp-Name with raw UTF-8 bytes', ['fe1'], {raw: () => build(rq('tools/call', {name: 'echo', arguments: {text: 'x'}}, {name: 'ech\u00e9'}))}, hm);
    add('header: tools/call name is a number', ['fe1'], rq('tools/call', {name: 5, arguments: {}}, {name: '5'}), hm);
    add('header: tasks/get with a foreign Mcp-Name', BOTH, rq('tasks/get', {taskId: A.done}, {name: 'another-task'}), hm);
    add('header: Mcp-Param-Value missing', BOTH, rq('tools/call', {name: 'test_custom_header', arguments: {value: 'v'}}, {name: 'test_custom_header'}), hm);
    add('header: Mcp-Param-Value differs', ['fe1'], rq('tools/call', {name: 'test_custom_header', arguments: {value: 'v'}}, {name: 'test_custom_header', add: [['Mcp-Param-Value', 'w']]}), hm);
    add('header: Mcp-Param-Value with invalid base64', BOTH, rq('tools/call', {name: 'test_custom_header', arguments: {value: 'v'}}, {name: 'test_custom_header', add: [['Mcp-Param-Value', '=?base64?dg=?=']]}), hm);
    add('header: Mcp-Param-Value base64 of another value', ['fe1'], rq('tools/call', {name: 'test_custom_header', arguments: {value: 'v\u00e9'}}, {name: 'test_custom_header', add: [['Mcp-Param-Value', b64('v')]]}), hm);
    add('header: Mcp-Param-Value base64 of the value (valid, a synchronous call)', ['fe1'],
        rq('tools/call', {name: 'test_custom_header', arguments: {value: 'v\u00e9'}}, {name: b64('test_custom_header'), add: [['Mcp-Param-Value', b64('v\u00e9')]]}),
        {status: 200, result: true}, {creates: {mallory: 1}});

    // -- tool arguments: -32602 with the instance path in the message, no task made --
    const ia = (name, tool, args, path, to = BOTH) => add(`arguments: ${name}`, to,
        rq('tools/call', {name: tool, arguments: args}, {name: tool}),
        {status: 200, code: -32602, msg: new RegExp(`Invalid arguments: ${path.replace(/[()/]/g, '\\$&')}[/: ]`)});
    ia('echo text is a number', 'echo', {text: 5}, '/text');
    ia('echo without text', 'echo', {}, '(root)');
    ia('echo with an unknown property', 'echo', {text: 'x', admin: true}, '/admin', ['fe1']);
    ia('echo text over maxLength', 'echo', {text: 'x'.repeat(65537)}, '/text', ['fe1']);
    ia('sleep seconds negative', 'sleep', {seconds: -1}, '/seconds');
    ia('sleep steps a fraction', 'sleep', {steps: 1.5}, '/steps', ['fe1']);
    ia('sleep steps a string', 'sleep', {steps: '5'}, '/steps', ['fe1']);
    ia('sleep seconds over the maximum', 'sleep', {seconds: 1e9}, '/seconds', ['fe1']);
    ia('countdown seconds 0 (an external tool)', 'countdown', {seconds: 0}, '/seconds', ['fe1']);
    ia('2020-12 tool: $ref property of the wrong type', 'json_schema_2020_12_tool',
        {email: 'a@b', address: {city: 5}}, '/address/city');
    ia('2020-12 tool: if/then requires phone', 'json_schema_2020_12_tool',
        {contactMethod: 'phone', email: 'a@b'}, '(root)', ['fe1']);
    ia('2020-12 tool: 2000-deep array as name', 'json_schema_2020_12_tool',
        {email: 'a@b', name: deepArray(2000)}, '/name');
    ia('2020-12 tool: enum violated', 'json_schema_2020_12_tool',
        {email: 'a@b', contactMethod: 'pigeon'}, '/contactMethod', ['fe1']);
    add('arguments: an array', BOTH, rq('tools/call', {name: 'echo', arguments: ['x']}, {name: 'echo'}), {status: 200, code: -32602});
    add('arguments: a string', ['fe1'], rq('tools/call', {name: 'echo', arguments: 'x'}, {name: 'echo'}), {status: 200, code: -32602});
    add('arguments: \\u0000 in a string value', BOTH, rq('tools/call', {}, {name: 'echo', body:
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a\\u0000b"},"_meta":${JSON.stringify(meta())}}}`}),
    {status: [200, 400], code: -32602, msg: /\/params\/arguments\/text/});
    add('arguments: \\u0000 in a member name', ['fe1'], rq('tools/call', {}, {name: 'echo', body:
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"te\\u0000xt":"a"},"_meta":${JSON.stringify(meta())}}}`}),
    {status: [200, 400], code: -32602});
    add('tool: unknown tool', BOTH, rq('tools/call', {name: 'rm_rf', arguments: {}}, {name: 'rm_rf'}), {status: 200, code: -32602, msg: /Unknown tool/});
    add('tool: name with path characters', ['fe1'], rq('tools/call', {name: '../echo', arguments: {text: 'x'}}, {name: '../echo'}), {status: 200, code: -32602});

    // -- another principal's tasks: exactly as invisible as unknown ones (-32602) --
    const nt = {status: 200, code: -32602, msg: /Task not found/};
    add("foreign: tasks/get of alice's completed task", BOTH, rq('tasks/get', {taskId: A.done}, {name: A.done}), nt);
    add("foreign: tasks/get of alice's running task", BOTH, rq('tasks/get', {taskId: A.running}, {name: A.running}), nt);
    add("foreign: tasks/get of alice's task without Mcp-Name", ['fe2'], rq('tasks/get', {taskId: A.input}), nt);
    add("foreign: tasks/cancel of alice's running task", BOTH, rq('tasks/cancel', {taskId: A.running}, {name: A.running}), nt);
    add("foreign: tasks/cancel of alice's input_required task", ['fe2'], rq('tasks/cancel', {taskId: A.input}, {name: A.input}), nt);
    add("foreign: tasks/update of alice's input_required task", BOTH, rq('tasks/update',
        {taskId: A.input, inputResponses: {confirm: {action: 'accept', content: {confirm: true}}}}, {name: A.input}), nt);
    add("foreign: tasks/update of alice's MRTR task", ['fe2'], rq('tasks/update',
        {taskId: A.mrtrTask, inputResponses: {confirm: {action: 'accept', content: {ok: true}}}}, {name: A.mrtrTask}), nt);
    add('tasks: tasks/get of an unknown task', ['fe1'], rq('tasks/get', {taskId: '00000000-0000-4000-8000-000000000000'}, {name: '00000000-0000-4000-8000-000000000000'}), nt);
    add('tasks: tasks/get with SQL in taskId', BOTH, rq('tasks/get', {taskId: "' OR '1'='1"}, {name: "' OR '1'='1"}), nt);
    add('tasks: tasks/get with a 10 KiB taskId', ['fe1'], rq('tasks/get', {taskId: 'a'.repeat(10240)}), nt);
    add('tasks: tasks/get with taskId a number', ['fe1'], rq('tasks/get', {taskId: 5}), {status: 200, code: -32602});
    add('tasks: tasks/get without the tasks capability', ['fe1'], rq('tasks/get', {taskId: A.done}, {name: A.done, meta: meta({})}), {status: 400, code: -32021});
    add("tasks: tasks/update of alice's own task with a non-object answer (alice)", BOTH, rq('tasks/update',
        {taskId: A.input, inputResponses: {confirm: 'yes'}}, {name: A.input, tok: C.tokens.alice}), {status: 200, code: -32602});
    const ackDrops = (r) => {
        const m = /data: (.*)\n/.exec(r.body);
        const ids = m && JSON.parse(m[1])?.params?.notifications?.taskIds;
        return Array.isArray(ids) && ids.length === 0 ? null : `acknowledged ${m ? m[1].slice(0, 160) : r.body.slice(0, 160)}`;
    };
    add("foreign: subscriptions/listen to alice's tasks is acknowledged without them", BOTH,
        rq('subscriptions/listen', {notifications: {taskIds: [A.done, A.running, A.input]}}),
        {status: 200, hdr: {'content-type': /^text\/event-stream/}, check: ackDrops},
        {until: (b) => b.includes('\n\n')});
    add('listen: taskIds not an array', ['fe1'], rq('subscriptions/listen', {notifications: {taskIds: A.done}}), {status: 200, code: -32602});
    add('listen: taskIds without the tasks capability', ['fe1'], rq('subscriptions/listen', {notifications: {taskIds: [A.done]}}, {meta: meta({})}), {status: 400, code: -32021});
    add('listen: 5000 taskIds', ['fe1'], rq('subscriptions/listen', {notifications: {taskIds: Array.from({length: 5000}, (_, i) => `id-${i}`)}}), {status: 200, code: -32602});
    add('listen: notifications is a string', ['fe1'], rq('subscriptions/listen', {notifications: 'all'}), {status: 200, code: -32602});

    // -- MRTR requestState: bound to its principal, tool and arguments, and signed --
    const mr = (name, state, o = {}) => add(`requestState: ${name}`, o.to || BOTH, rq('tools/call',
        {name: o.tool || A.stateTool, arguments: {}, requestState: state,
            inputResponses: o.responses || {confirm: {action: 'accept', content: {ok: true}}}},
        {name: o.tool || A.stateTool, tok: o.tok || C.tokens.alice, meta: meta({elicitation: {form: {}}, extensions: {[TASKS]: {}}})}),
    {status: 200, code: -32602});
    mr("alice's state replayed by mallory", A.state, {tok: M});
    mr('one character of the signature changed', A.state.slice(0, -2) + (A.state.at(-2) === 'A' ? 'B' : 'A') + A.state.at(-1));
    mr('one character of the payload changed', A.state.slice(0, 8) + (A.state[8] === 'A' ? 'B' : 'A') + A.state.slice(9), {to: ['fe1']});
    mr('garbage', 'garbage', {to: ['fe1']});
    mr('100 KiB', 'A'.repeat(102400), {to: ['fe1']});
    mr('a number', 12345, {to: ['fe1']});
    mr("alice's state for another tool", A.state, {tool: 'test_input_required_result_elicitation', to: ['fe1']});
    mr('answers that are not objects', A.state, {responses: {confirm: 'yes'}, to: ['fe1']});

    // -- 2025 sessions --
    const legacy = (sid, tok = M) => ({method: 'POST', path: '/mcp', headers: [['Content-Type', 'application/json'],
        ['Accept', 'application/json, text/event-stream'], ['Authorization', `Bearer ${tok}`],
        ['MCP-Protocol-Version', '2025-11-25'], ['Mcp-Session-Id', sid]],
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list', params: {}})});
    add('session: a forged Mcp-Session-Id', BOTH, legacy('forged-session'), {status: 404, code: -32001});
    add("session: alice's Mcp-Session-Id used by mallory", BOTH, legacy(A.session), {status: 404, code: -32001});
    add('session: a 4 KiB Mcp-Session-Id', ['fe1'], legacy('s'.repeat(4096)), {status: 404, code: -32001});
    add("session: mallory's Mcp-Session-Id used by alice", ['fe2'], legacy(A.mallorySession, C.tokens.alice), {status: 404, code: -32001});
    const legacyCall = (method, params) => ({...legacy(A.mallorySession), body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params})});
    add("foreign: 2025 tasks/get of alice's running task", BOTH, legacyCall('tasks/get', {taskId: A.running}), nt);
    add("foreign: 2025 tasks/result of alice's completed task", BOTH, legacyCall('tasks/result', {taskId: A.done}), nt);
    add("foreign: 2025 tasks/cancel of alice's running task", BOTH, legacyCall('tasks/cancel', {taskId: A.running}), nt);
    add("foreign: 2025 tasks/list shows none of alice's tasks", BOTH, legacyCall('tasks/list', {}), {status: 200, result: true,
        check: (r, j) => (JSON.stringify(j).match(new RegExp([A.done, A.running, A.input, A.mrtrTask].join('|'))) ? 'alice\'s task listed' : null)});

    // -- Origin and Host (DNS rebinding; 403) --
    const fo = {status: 403};
    for (const o of ['http://evil.example', 'null', 'http://127.0.0.1.evil.example', 'file://', 'https://localhost.evil.example:443'])
        add(`origin-host: Origin ${o}`, o === 'null' || o === 'http://evil.example' ? BOTH : ['fe1'], rq('tools/list', {}, {add: [['Origin', o]]}), fo);
    for (const h of ['evil.example', '127.0.0.1.nip.io', 'x'.repeat(300)])
        add(`origin-host: Host ${h.length > 40 ? '300 characters' : h}`, h === 'evil.example' ? BOTH : ['fe1'], rq('tools/list', {}, {add: [['Host', h]]}), fo);

    // -- methods and paths --
    for (const m of ['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'FOO'])
        add(`http: ${m} /mcp`, m === 'GET' || m === 'DELETE' ? BOTH : ['fe1'], {method: m, path: '/mcp',
            headers: [['Authorization', `Bearer ${M}`]], body: ''},
        {status: 405, hdr: {allow: /POST/}});
    for (const p of ['/', '/mcp/', '/MCP', '/metrics', '/.env', '/mcp%00', '/mcp%00/x', '/../../etc/passwd'])
        add(`http: POST ${p}`, ['/metrics', '/', '/mcp%00'].includes(p) ? BOTH : ['fe1'], rq('tools/list', {}, {path: p}), {status: [404, 400]});
    add('http: a 100 KiB URL', BOTH, {method: 'GET', path: `/mcp?${'x'.repeat(102400)}`, headers: [], body: ''}, {status: [400, 414, 431]});
    add('http: a 100 KiB header', BOTH, rq('tools/list', {}, {add: [['X-Big', 'x'.repeat(102400)]]}), {status: [400, 413, 431]});
    add('http: a 100 KiB bearer token', BOTH, rq('tools/list', {}, {tok: null, add: [['Authorization', `Bearer ${'a'.repeat(102400)}`]]}), {status: [400, 413, 431]});
    add('http: 2000 headers', BOTH, rq('tools/list', {}, {add: Array.from({length: 2000}, (_, i) => [`X-H${i}`, 'v'])}), {status: [400, 431]});
    add('http: not HTTP at all', BOTH, {raw: () => Buffer.from('HELLO\r\n\r\n')}, {status: [400, 'closed']});
    add('http: binary garbage', ['fe1'], {raw: () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0, 0, 0, 0x0d, 0x0a, 0x0d, 0x0a])}, {status: [400, 'closed']});
    add('http: a request line with a NUL in the path', BOTH, {raw: () => Buffer.from('GET /mc\0p HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')}, {status: [400, 404]});
    add('http: HTTP/2 preface on HTTP/1.1', ['fe1'], {raw: () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')}, {status: [400, 405, 505, 'closed']});

    // -- admin ports: GET and HEAD only, nothing secret in /metrics --
    const noSecrets = (r) => {
        const leaked = C.secrets.filter((s) => s && r.body.includes(s));
        return leaked.length ? `${leaked.length} secret(s) in the metrics` : null;
    };
    for (const a of ['adm1', 'adm2', 'wadm1', 'wadm2'])
        add(`admin: GET /metrics of ${a} shows no secret`, [a], {method: 'GET', path: '/metrics', headers: [], body: ''},
            {status: 200, hdr: {'content-type': /^text\/plain/}, check: (r) => (/taskwire_/.test(r.body) ? noSecrets(r) : 'no taskwire_ metric')});
    for (const [m, p] of [['POST', '/metrics'], ['DELETE', '/healthz'], ['PUT', '/readyz'], ['PATCH', '/metrics'], ['OPTIONS', '/metrics'], ['POST', '/healthz']])
        add(`admin: ${m} ${p}`, ['adm1', 'wadm1'], {method: m, path: p, headers: [], body: m === 'POST' ? '{"x":1}' : ''},
            {status: 405, hdr: {allow: /^GET, HEAD$/}});
    add('admin: POST /metrics with a 1 MiB body', ['adm2'], {method: 'POST', path: '/metrics', headers: [], body: 'x'.repeat(1048576)}, {status: 405});
    add('admin: HEAD /metrics', ['adm1'], {method: 'HEAD', path: '/metrics', headers: [], body: ''}, {status: 200}, {until: () => true});
    for (const p of ['/nope', '/mcp', '/metrics/../../etc/passwd', '/metricsx'])
        add(`admin: GET ${p}`, ['adm1', 'wadm1'], {method: 'GET', path: p, headers: [], body: ''}, {status: 404});
    add('admin: a 100 KiB URL', ['adm1', 'wadm2'], {method: 'GET', path: `/metrics?${'x'.repeat(102400)}`, headers: [], body: ''}, {status: [400, 414, 431]});
    add('admin: not HTTP at all', ['adm2', 'wadm2'], {raw: () => Buffer.from('HELLO\r\n\r\n')}, {status: [400, 'closed']});
    add('admin: POST /nope', ['adm1', 'wadm1'], {method: 'POST', path: '/nope', headers: [], body: '{}'}, {status: 404});
    // The frontends' dashboard (operators only): its cancel wants POST, the page's own header
    // and no cross-site fetch; alice's running task must survive every refused attempt.
    const cancel = (id, hs = [], m = 'POST') => ({method: m, path: `/dashboard/api/cancel?id=${encodeURIComponent(id)}`, headers: hs, body: ''});
    add("admin: dashboard cancel of alice's task without the page's header", ['adm1', 'adm2'], cancel(A.running), {status: 403});
    add("admin: dashboard cancel of alice's task from a cross-site page", ['adm1'],
        cancel(A.running, [['X-Taskwire-Dashboard', '1'], ['Sec-Fetch-Site', 'cross-site']]), {status: 403});
    add("admin: dashboard cancel with the header set to another value", ['adm2'],
        cancel(A.running, [['X-Taskwire-Dashboard', 'yes']]), {status: 403});
    add("admin: dashboard cancel by GET", ['adm1'], cancel(A.running, [['X-Taskwire-Dashboard', '1']], 'GET'), {status: 405});
    add('admin: dashboard cancel of a malformed id', ['adm1'], cancel("' OR 1=1 --", [['X-Taskwire-Dashboard', '1']]), {status: 400});
    add('admin: dashboard task of a malformed id', ['adm2'], {method: 'GET', path: '/dashboard/api/task?id=../../etc/passwd', headers: [], body: ''}, {status: 400});
    add('admin: the dashboard page carries its CSP', ['adm1'], {method: 'GET', path: '/dashboard', headers: [], body: ''},
        {status: 200, hdr: {'content-security-policy': /default-src/, 'x-content-type-options': /nosniff/}});
    add('admin: POST /dashboard', ['adm1'], {method: 'POST', path: '/dashboard', headers: [], body: ''}, {status: [404, 405]});
    add('admin: a bearer token is not needed and not logged', ['adm1'], {method: 'GET', path: '/healthz', headers: [['Authorization', `Bearer ${M}`]], body: ''}, {status: 200});
    return cases;
}

// ---- limits (issue 9): one principal over its budget or cap, run in order ----

async function limits(T, F, report) {
    const rl = C.tokens['rate-low'];
    const disc = (tok, port = PORT.proxy) => send({port, ...rq('server/discover', {}, {tok})});
    const is429 = (reason, budget) => ({status: 429, code: -32603, hdr: {'retry-after': /^[1-9][0-9]*$/},
        check: (r, j) => {
            const d = j?.error?.data || {};
            if (d.reason !== reason) return `data.reason ${d.reason}, expected ${reason}`;
            if (budget && d.budget !== budget) return `data.budget ${d.budget}, expected ${budget}`;
            return d.retryAfterMs > 0 ? null : `data.retryAfterMs ${d.retryAfterMs}`;
        }});
    // rate-low: 1 request a second, a burst of 1, for every budget.
    report('limit: rate-low first request answered', await disc(rl), {status: 200, result: true});
    report('limit: rate-low second request at once: 429 with Retry-After (budget other)', await disc(rl), is429('rate_limited', 'other'));
    report('limit: rate-low again straight at frontend-2 (shared in Redis): 429', await disc(rl, PORT.fe2), is429('rate_limited', 'other'));
    report('limit: bob at the same moment is unaffected', await disc(C.tokens.bob), {status: 200, result: true});
    const get = () => send({port: PORT.fe1, ...rq('tasks/get', {taskId: A0}, {tok: rl, name: A0})});
    const A0 = '00000000-0000-4000-8000-000000000000';
    report('limit: rate-low first read answered (unknown task)', await get(), {status: 200, code: -32602});
    report('limit: rate-low second read at once: 429 (budget read)', await get(), is429('rate_limited', 'read'));
    const mk = () => send({port: PORT.fe1, ...rq('tools/call', {name: 'sleep', arguments: {seconds: 0.1, steps: 1}}, {tok: rl, name: 'sleep'})});
    report('limit: rate-low first create makes a task', await mk(), {status: 200, result: true});
    report('limit: rate-low second create at once: 429 (budget create), no task', await mk(), is429('rate_limited', 'create'));
    EXPECT_ROWS['rate-low'] = 1;

    // cap-low: one listen stream and one synchronous call per frontend.
    const cl = C.tokens['cap-low'];
    const listen = (o = {}) => ({port: PORT.fe1, ...rq('subscriptions/listen', {notifications: {toolsListChanged: true}}, {tok: cl}), ...o});
    const held = await hold(listen());
    report('limit: cap-low holds one listen stream on frontend-1', held.r, {status: 200, hdr: {'content-type': /^text\/event-stream/}});
    report('limit: cap-low second listen stream: 429 max_listen_streams', await send(listen()), is429('max_listen_streams'));
    held.close();
    const freed = await until(async () => {
        const r = await send(listen({until: (b) => b.includes('\n\n')}));
        return r.status === 200 ? r : null;
    }, 5000);
    report('limit: the stream closed, a new one is admitted (5 s)', freed || {status: 0, headers: {}, body: 'still refused'}, {status: 200});
    const sync = (o = {}) => ({port: PORT.fe1, ...rq('tools/call', {name: 'slow_compute', arguments: {seconds: 30, label: 'attack'}},
        {tok: cl, name: 'slow_compute', meta: meta({})}), ...o});
    const call = await hold(sync(), 1500);
    report('limit: cap-low first synchronous call (30 s of work) still waits after 1.5 s', call.r,
        {check: (r) => (r.status === 0 ? null : `it answered HTTP ${r.status} at once`)});
    report('limit: cap-low second synchronous call: 429 max_sync_calls, no task', await send(sync()), is429('max_sync_calls'));
    call.close(); // hanging up cancels the call's task
    EXPECT_ROWS['cap-low'] = 1;

    // live-low: one live task.
    const ll = C.tokens['live-low'];
    const live = () => send({port: PORT.proxy, ...rq('tools/call', {name: 'sleep', arguments: {seconds: 60, steps: 1}}, {tok: ll, name: 'sleep'})});
    const first = await live();
    report('limit: live-low first long task created', first, {status: 200, result: true});
    report('limit: live-low second task: 429 max_live_tasks', await live(), is429('max_live_tasks'));
    const id = J(first)?.result?.taskId || 'none';
    report('limit: live-low cancels its own task', await send({port: PORT.fe2, ...rq('tasks/cancel', {taskId: id}, {tok: ll, name: id})}), {status: 200, result: true});
    EXPECT_ROWS['live-low'] = 1;
}

// hold(opt, settleMs): open a request and keep its connection open.  Resolves {r, close} once
// an answer began (r: its status and headers so far) or, with settleMs, when that long passed
// without one (r.status 0: still waiting, as a synchronous call does until its end).
function hold(opt, settleMs) {
    return new Promise((resolve) => {
        let sock = null;
        let seen = null;
        send({...opt, timeoutMs: 60000, onSocket: (s) => { sock = s; },
            until: (b, r) => { seen = r; return false; }});
        const t0 = Date.now();
        const tick = () => {
            if (seen || (settleMs && Date.now() - t0 >= settleMs))
                resolve({r: seen || {status: 0, headers: {}, body: ''}, close: () => sock && sock.destroy()});
            else setTimeout(tick, 20);
        };
        tick();
    });
}

// until(fn, ms): poll fn every 100 ms until it returns something or ms pass.
async function until(fn, ms) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await fn();
        if (v || Date.now() > end) return v;
        await new Promise((r) => setTimeout(r, 100));
    }
}

// ---- setup: alice's tasks and sessions ----

async function setup() {
    const alice = C.tokens.alice;
    const post = async (method, params, o = {}) => J(await send({port: PORT.fe1, ...rq(method, params, {tok: alice, ...o})}));
    const done = (await post('tools/call', {name: 'echo', arguments: {text: 'alice secret'}}, {name: 'echo'}))?.result?.taskId;
    const running = (await post('tools/call', {name: 'sleep', arguments: {seconds: 900, steps: 900}}, {name: 'sleep'}))?.result?.taskId;
    const input = (await post('tools/call', {name: 'confirm_delete', arguments: {filename: 'alice.txt'}}, {name: 'confirm_delete',
        meta: meta({elicitation: {form: {}}, extensions: {[TASKS]: {}}})}))?.result?.taskId;
    const stateTool = 'test_input_required_result_request_state';
    const st = await post('tools/call', {name: stateTool, arguments: {}}, {name: stateTool,
        meta: meta({elicitation: {form: {}}, extensions: {[TASKS]: {}}})});
    const initialize = async (tok) => (await send({port: PORT.fe1, method: 'POST', path: '/mcp',
        headers: [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'],
            ['Authorization', `Bearer ${tok}`]],
        body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25',
            capabilities: {tasks: {requests: {tools: {call: {}}}}}, clientInfo: {name: 'attack', version: '1'}}})}))
        .headers['mcp-session-id']?.[0];
    const out = {done, running, input, state: st?.result?.requestState, stateTool,
        session: await initialize(alice), mallorySession: await initialize(C.tokens.mallory)};
    fs.writeFileSync(outFile, JSON.stringify(out));
    const missing = Object.entries(out).filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) {
        console.error(`setup: no ${missing.join(', ')}`);
        process.exit(1);
    }
}

// ---- run ----

const EXPECT_ROWS = {};
const LABELS = [];

async function cases() {
    const T = tokens({keyFile: C.keyFile, issuer: C.issuer, audience: C.audience});
    const meta0 = await send({port: PORT.fe1, method: 'GET', path: '/.well-known/oauth-protected-resource', headers: [], body: ''});
    const F = {oauth: meta0.status === 200};
    console.log(`# front door: ${F.oauth ? 'OAuth resource server (issue 9)' : 'JWT bearer tokens'}`);
    const list = [];
    for (const c of table(T, F))
        for (const to of c.to) list.push({...c, label: `${c.name} [${to}]`, port: PORT[to]});
    let passed = 0;
    let failed = 0;
    const report = (label, r, expect) => {
        LABELS.push(label);
        const why = verdict(expect, r);
        if (why) {
            failed++;
            console.log(`FAIL - ${label}: ${why}`);
        } else {
            passed++;
            console.log(`ok   - ${label}`);
        }
    };
    // Four at a time (the slowest wait on the proxy's request timeout); printed in order.
    const results = new Array(list.length);
    let next = 0;
    const worker = async () => {
        while (next < list.length) {
            const i = next++;
            const c = list[i];
            const req = c.req.raw ? {raw: c.req.raw(c.port)} : c.req;
            results[i] = await send({port: c.port, ...req, until: c.until, timeoutMs: c.timeoutMs});
        }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    list.forEach((c, i) => {
        for (const [o, n] of Object.entries(c.creates || {})) EXPECT_ROWS[o] = (EXPECT_ROWS[o] || 0) + n;
        report(c.label, results[i], c.expect);
    });
    await limits(T, F, report);
    const areas = {};
    for (const l of LABELS) areas[l.split(':')[0]] = (areas[l.split(':')[0]] || 0) + 1;
    console.log(`# cases by area: ${Object.entries(areas).map(([a, n]) => `${a} ${n}`).join(', ')}`);
    for (const s of [C.tokens.alice, C.tokens.bob, ...Object.values(C.tokens)]) SENT_TOKENS.add(s);
    fs.writeFileSync(outFile, JSON.stringify({rows: EXPECT_ROWS, tokens: [...SENT_TOKENS]}));
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

if (mode === 'setup') await setup();
else if (mode === 'cases') await cases();
else {
    console.error('usage: front.mjs setup|cases CTX_JSON OUT_JSON');
    process.exit(2);
}
