// tests/oauth/as.mjs - the test authorization server: oidc-provider (a certified OpenID
// provider) behind node's https server, issuing RFC 9068 JWT access tokens (typ at+jwt) by
// client credentials for one RFC 8707 resource, the MCP URL of the stack under test.
//
// env: AS_PORT (fixed: the port is part of the issuer), AS_CERT and AS_KEY (PEM, signed by
//      the test CA), AS_KEYS (a file {"keys":[private JWKs]}; the first one signs),
//      RESOURCE (the stack's canonical MCP URI)
// SIGHUP: read AS_KEYS again and swap in a new Provider (same issuer, same port), the way
//      an operator rotates keys; a broken file keeps the old keys.
//
// Clients (secret: "<id>-secret"), each allowed the scopes listed:
//   alice, bob   mcp:tools mcp:tasks
//   ops          mcp:tools mcp:tasks mcp:operator
//   counter      mcp:tools mcp:tasks tools:count   (the scope of the tool "wordcount")
//   toolsonly    mcp:tools
//   tasksonly    mcp:tasks
//   jwtyp        mcp:tools mcp:tasks, but the token's typ is "JWT" (not RFC 9068)
//   foreign      mcp:tools mcp:tasks, but the token's aud names another resource
//   legacy       mcp:tools, shaped like an identity provider without RFC 9068: typ "JWT",
//                the scopes in a "scp" array, and the issuer "<issuer>/legacy" (trusted by
//                the stack with typ "lenient" and scope_claim "scp")
// SPDX-License-Identifier: Apache-2.0
import https from 'node:https';
import fs from 'node:fs';
import { Provider, errors } from 'oidc-provider';

const RESOURCE = process.env.RESOURCE;
const BASIC = 'mcp:tools mcp:tasks';
const CLIENTS = {
  alice: BASIC, bob: BASIC, ops: `${BASIC} mcp:operator`, counter: `${BASIC} tools:count`,
  toolsonly: 'mcp:tools', tasksonly: 'mcp:tasks', jwtyp: BASIC, foreign: BASIC, legacy: 'mcp:tools',
};
const SCOPES = [...new Set(Object.values(CLIENTS).join(' ').split(' '))];

const server = https.createServer({
  cert: fs.readFileSync(process.env.AS_CERT),
  key: fs.readFileSync(process.env.AS_KEY),
});
let handler = (req, res) => { res.statusCode = 503; res.end(); };
server.on('request', (req, res) => handler(req, res));
await new Promise((resolve) => server.listen(Number(process.env.AS_PORT), '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

// Reshape the tokens of the clients that imitate other (or broken) providers.
async function customize(ctx, token, jwt) {
  if (token.clientId === 'jwtyp') jwt.header = { ...jwt.header, typ: 'JWT' };
  if (token.clientId === 'foreign') jwt.payload.aud = 'https://elsewhere.example/mcp';
  if (token.clientId === 'legacy') {
    jwt.header = { ...jwt.header, typ: 'JWT' };
    jwt.payload.iss = `${issuer}/legacy`;
    jwt.payload.scp = (jwt.payload.scope || '').split(' ').filter(Boolean);
    delete jwt.payload.scope;
  }
}

function build() {
  const jwks = JSON.parse(fs.readFileSync(process.env.AS_KEYS, 'utf8'));
  return new Provider(issuer, {
    jwks,
    clients: Object.entries(CLIENTS).map(([id, scope]) => ({
      client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic',
      scope,
    })),
    // Only EC keys: the RS256 default would fail every client's validation.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: SCOPES, // a client's scope must be a subset; asking for more is invalid_scope
    formats: { customizers: { jwt: customize } },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (indicator !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: client.scope ?? '', audience: RESOURCE, accessTokenTTL: 600,
            accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
}

handler = build().callback();
process.on('SIGHUP', () => {
  try {
    handler = build().callback();
    console.log('reloaded keys');
  } catch (e) {
    console.error('reload failed, keeping the old keys:', e.message);
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`issuer ${issuer}`);
