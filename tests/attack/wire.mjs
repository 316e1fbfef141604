// wire.mjs - raw HTTP/1.1 over a TCP socket and hostile bearer tokens, for the attack suite.
//
// Node's own HTTP clients refuse most of what an attacker sends (two Authorization headers,
// NUL bytes, a lying Content-Length, a method that is not a token), so requests are written
// byte for byte here and the answer is parsed by hand: the status, the headers (lowercased,
// every value kept) and the body (Content-Length, chunked, or until the server closes).
// Tokens are signed with the stack's dev key (ES256, a private JWK) or deliberately not.
// SPDX-License-Identifier: Apache-2.0
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';

// send({port, raw}) or send({port, method, path, headers: [[name, value]...], body, until,
// timeoutMs, onSocket}): one request on a fresh connection (Connection: close is added unless
// the headers carry a Connection).  Resolves {status, headers, body} once the response is
// complete, the server closed, `until(body, response)` is true (streams), the socket was
// destroyed (onSocket hands it out), or the deadline passed (status 0, error "timeout").  A
// connection refused or reset before any answer gives status 0 with `error`; a connection
// closed without an answer gives status 0 and no error.
export function send(opt) {
    return new Promise((resolve) => {
        const chunks = [];
        let done = false;
        const sock = net.connect({host: '127.0.0.1', port: opt.port});
        const finish = (error) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            const r = parse(Buffer.concat(chunks));
            if (error && !r.status) r.error = String(error.code || error);
            resolve(r);
        };
        const timer = setTimeout(() => finish('timeout'), opt.timeoutMs || 10000);
        if (opt.onSocket) opt.onSocket(sock);
        sock.on('connect', () => {
            const bytes = opt.raw || build(opt);
            // A big body goes after a pause, as a client that waits for an early answer does:
            // a server that refuses on the headers alone (413, 405) answers and closes, and
            // writing on would turn its answer into a reset that discards it unread.
            const head = bytes.indexOf('\r\n\r\n') + 4;
            if (opt.raw || bytes.length - head <= 65536) {
                sock.write(bytes, () => {});
                return;
            }
            // Then 16 KiB at a time, stopping once an answer began: a proxy that buffers the
            // body decides after its first buffer, and closes.
            let at = head;
            const more = () => {
                if (done || chunks.length || at >= bytes.length) return;
                const end = Math.min(at + 16384, bytes.length);
                const piece = bytes.subarray(at, end);
                at = end;
                sock.write(piece, () => setTimeout(more, 5));
            };
            sock.write(bytes.subarray(0, head), () => {});
            setTimeout(more, 300);
        });
        sock.on('data', (d) => {
            chunks.push(d);
            const r = parse(Buffer.concat(chunks));
            if (r.complete || (opt.until && r.status && opt.until(r.body, r))) finish();
        });
        sock.on('end', () => finish());
        sock.on('close', () => finish());
        sock.on('error', (e) => finish(e));
    });
}

// The bytes of a request: request line, headers in order, an empty line, the body.
export function build({method = 'POST', path = '/mcp', headers = [], body = ''}) {
    const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const names = headers.map(([n]) => n.toLowerCase());
    const all = [...headers];
    if (!names.includes('host')) all.unshift(['Host', '127.0.0.1']);
    if (!names.includes('connection')) all.push(['Connection', 'close']);
    if (!names.includes('content-length') && !names.includes('transfer-encoding') &&
        (method === 'POST' || b.length))
        all.push(['Content-Length', String(b.length)]);
    const head = `${method} ${path} HTTP/1.1\r\n` +
        all.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n';
    return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

// Parse what arrived so far: {status, headers, body, complete}.
function parse(buf) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return {status: 0, headers: {}, body: '', complete: false};
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    const headers = {};
    for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i < 0) continue;
        const k = l.slice(0, i).trim().toLowerCase();
        (headers[k] ||= []).push(l.slice(i + 1).trim());
    }
    let rest = buf.subarray(end + 4);
    let complete = false;
    const cl = headers['content-length'];
    if (cl) {
        const n = Number(cl[0]);
        complete = rest.length >= n;
        rest = rest.subarray(0, n);
    } else if ((headers['transfer-encoding'] || []).some((v) => /chunked/i.test(v))) {
        const out = [];
        let p = 0;
        for (;;) {
            const e = rest.indexOf('\r\n', p);
            if (e < 0) break;
            const size = parseInt(rest.subarray(p, e).toString('latin1'), 16);
            if (Number.isNaN(size)) break;
            if (size === 0) {
                complete = true;
                break;
            }
            if (rest.length < e + 2 + size) {
                out.push(rest.subarray(e + 2));
                break;
            }
            out.push(rest.subarray(e + 2, e + 2 + size));
            p = e + 2 + size + 2;
        }
        rest = Buffer.concat(out);
    }
    return {status: m ? Number(m[1]) : 0, headers, body: rest.toString('utf8'), complete};
}

const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// A token factory over the stack's dev key (a private P-256 JWK with its kid).
export function tokens({keyFile, issuer, audience}) {
    const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
    const key = crypto.createPrivateKey({key: jwk, format: 'jwk'});
    const other = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey;
    const now = Math.floor(Date.now() / 1000);
    // sign(header changes, claim changes, {key}): an ES256 JWS; a change of undefined drops
    // the member.
    const sign = (h = {}, c = {}, o = {}) => {
        const header = strip({alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...h});
        const claims = strip({iss: issuer, aud: audience, sub: 'mallory', iat: now, nbf: now,
            exp: now + 3600, scope: 'mcp:tools mcp:tasks', client_id: 'attack',
            jti: crypto.randomBytes(8).toString('hex'), ...c});
        const input = `${b64u(header)}.${b64u(claims)}`;
        const sig = crypto.sign('sha256', Buffer.from(input), {key: o.key || key,
            dsaEncoding: 'ieee-p1363'});
        return `${input}.${sig.toString('base64url')}`;
    };
    // unsigned(header, claims, sig): any three segments, the signature given as is.
    const unsigned = (h, c, sig = '') => `${b64u(h)}.${b64u({iss: issuer, aud: audience,
        sub: 'mallory', iat: now, exp: now + 3600, ...c})}.${sig}`;
    return {sign, unsigned, other, now, jwk};
}

function strip(o) {
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
}
