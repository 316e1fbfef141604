// tests/oauth/keygen.mjs KID: print a new private ES256 JWK (one line) with that kid.
// SPDX-License-Identifier: Apache-2.0
import { generateKeyPairSync } from 'node:crypto';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = privateKey.export({ format: 'jwk' });
console.log(JSON.stringify({ ...jwk, kid: process.argv[2], alg: 'ES256', use: 'sig' }));
