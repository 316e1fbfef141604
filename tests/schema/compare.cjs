// compare.cjs - ajv's verdict on every case of the corpus, compared with common/schema.c's.
//
//   node compare.cjs C_VERDICTS EXCLUSIONS CORPUS_FILE...
//
// C_VERDICTS is the output of schema_verdicts over the same files (FILE, GROUP, TEST,
// VERDICT, DETAIL per line).  For every case ajv (its JSON Schema 2020-12 class,
// ajv/dist/2020) gives "valid", "invalid" or "schema-error" (compile threw).  Options:
// strict off (unknown keywords are ignored, as the specification says), validateFormats
// off (format is an annotation), multipleOfPrecision 9 (the float rule of
// schema_value_multiple()).  EXCLUSIONS lists the cases left out, each with its reason:
// [{"file", "group" (description), "test" (description; absent = the whole group),
// "reason"}].  Prints each disagreement, each excluded case, the cases where both differ
// from the suite's "valid" (for information), then "N cases, A agree, X excluded" and the
// plain "P passed, F failed".  Exit 0 when every case not excluded agrees, 1 otherwise, 2
// on bad input.  Exclusions that match no case, or whose case agrees after all, fail too:
// nothing is left out silently or for no reason.
// SPDX-License-Identifier: Apache-2.0
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');

function die(msg) {
    console.error('compare: ' + msg);
    process.exit(2);
}

if (process.argv.length < 5) die('usage: compare.cjs C_VERDICTS EXCLUSIONS CORPUS_FILE...');
const [cFile, exFile, ...corpus] = process.argv.slice(2);

const cVerdicts = new Map();
for (const line of fs.readFileSync(cFile, 'utf8').split('\n')) {
    if (!line) continue;
    const [file, g, t, verdict, detail] = line.split('\t');
    cVerdicts.set(`${file}\t${g}\t${t}`, { verdict, detail });
}
const exclusions = JSON.parse(fs.readFileSync(exFile, 'utf8'));
for (const x of exclusions)
    if (!x.file || !x.group || !x.reason) die('an exclusion needs file, group and reason');
const used = new Set();

function excluded(file, group, test) {
    for (let i = 0; i < exclusions.length; i++) {
        const x = exclusions[i];
        if (x.file === file && x.group === group && (x.test === undefined || x.test === test)) {
            used.add(i);
            return x;
        }
    }
    return null;
}

function ajvVerdicts(schema, tests) {
    let validate;
    try {
        const ajv = new Ajv2020({ strict: false, validateFormats: false, multipleOfPrecision: 9 });
        validate = ajv.compile(schema);
    } catch (e) {
        return tests.map(() => ({ verdict: 'schema-error', detail: String(e.message) }));
    }
    return tests.map((t) => {
        try {
            return validate(t.data) ? { verdict: 'valid', detail: '-' }
                                    : { verdict: 'invalid', detail: JSON.stringify(validate.errors[0]) };
        } catch (e) {
            return { verdict: 'error', detail: String(e.message) };
        }
    });
}

let cases = 0, agree = 0, skipped = 0, failed = 0, offSuite = 0;
const staleExclusions = [];
for (const f of corpus) {
    const file = path.basename(f);
    const groups = JSON.parse(fs.readFileSync(f, 'utf8'));
    groups.forEach((group, g) => {
        const verdicts = ajvVerdicts(group.schema, group.tests);
        group.tests.forEach((test, t) => {
            cases++;
            const c = cVerdicts.get(`${file}\t${g}\t${t}`);
            const a = verdicts[t];
            const x = excluded(file, group.description, test.description);
            const where = `${file} [${g}] "${group.description}" / [${t}] "${test.description}"`;
            if (!c) {
                failed++;
                console.log(`MISSING  ${where}: no C verdict`);
                return;
            }
            if (x) {
                skipped++;
                if (c.verdict === a.verdict) staleExclusions.push(where);
                console.log(`EXCLUDED ${where}: C ${c.verdict}, ajv ${a.verdict}: ${x.reason}`);
                return;
            }
            const suite = test.valid === undefined ? null : test.valid ? 'valid' : 'invalid';
            if (c.verdict !== a.verdict) {
                failed++;
                console.log(`DIFFER   ${where}: C ${c.verdict} (${c.detail}), ajv ${a.verdict} ` +
                            `(${a.detail}), the suite ${suite}`);
                return;
            }
            agree++;
            if (suite && c.verdict !== suite && c.verdict !== 'schema-error') {
                offSuite++;
                console.log(`SUITE    ${where}: both say ${c.verdict}, the suite says ${suite}`);
            }
        });
    });
}
exclusions.forEach((x, i) => {
    if (!used.has(i)) {
        failed++;
        console.log(`UNUSED   exclusion ${JSON.stringify(x)} matches no case`);
    }
});
for (const w of staleExclusions) {
    failed++;
    console.log(`STALE    ${w}: excluded, but C and ajv agree`);
}
console.log(`${cases} cases, ${agree} agree, ${skipped} excluded, ${failed} disagree` +
            ` (both differ from the suite's expectation on ${offSuite})`);
console.log(`${agree} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
