// report.cjs - summary of one era's conformance run and its comparison with the baseline.
//
//   node report.cjs OUTDIR BASELINE STRICT [SECTION [ERA]]
//
// Reads OUTDIR/<group>/server-<scenario>-<timestamp>/checks.json (written by the suite),
// OUTDIR/expected-scenarios.txt (what should have run) and section SECTION (default
// "server") of BASELINE (the suite's --expected-failures YAML, one list per era:
// server: [...] for 2026-07-28, server_2025_11_25: [...] for 2025-11-25; entries
// "scenario" or "scenario:check-id", every entry with a "# reason" comment).  Writes
// OUTDIR/summary.txt and OUTDIR/failures.txt, prints the summary, the failed checks missing
// from the baseline, stale baseline entries, and last "N passed, M failed (ERA)" (checks).
// Exit 0 when every failure is in the baseline, 1 otherwise (or STRICT=1 and a baseline
// entry is stale), 2 for a malformed baseline.
// Used by tests/conformance/run; needs the "yaml" package the suite depends on.
// SPDX-License-Identifier: Apache-2.0
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const [outDir, baselinePath, strictArg, sectionArg, eraArg] = process.argv.slice(2);
const strict = strictArg === '1';
const section = sectionArg || 'server';
const SECTIONS = ['server', 'server_2025_11_25']; // one per era

// --- baseline ------------------------------------------------------------------------
function loadBaseline(file) {
  const text = fs.readFileSync(file, 'utf8');
  const problems = [];
  // Every list item must say why it is there.
  text.split('\n').forEach((line, i) => {
    if (/^\s*-\s*\S/.test(line) && !/\s#\s*\S/.test(line))
      problems.push(`line ${i + 1}: entry without a "# reason" comment: ${line.trim()}`);
  });
  let doc;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    problems.push(`not valid YAML: ${e.message}`);
  }
  doc = doc ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) problems.push('expected a mapping with a "server" key');
  for (const k of Object.keys(typeof doc === 'object' && !Array.isArray(doc) ? doc : {}))
    if (!SECTIONS.includes(k)) problems.push(`unknown section "${k}" (known: ${SECTIONS.join(', ')})`);
  const list = doc[section] ?? [];
  if (!Array.isArray(list)) problems.push(`"${section}" must be a list`);
  const whole = new Set();
  const checks = new Map(); // scenario -> Set(check id)
  const entries = [];
  for (const e of Array.isArray(list) ? list : []) {
    if (typeof e !== 'string' || e === '') {
      problems.push(`entry ${JSON.stringify(e)} is not "scenario" or "scenario:check-id"`);
      continue;
    }
    const at = e.indexOf(':');
    const scenario = at < 0 ? e : e.slice(0, at);
    const check = at < 0 ? undefined : e.slice(at + 1);
    if (!scenario || check === '') {
      problems.push(`entry "${e}": both sides of the colon are required`);
      continue;
    }
    if (entries.some((x) => x.entry === e)) problems.push(`entry "${e}" is listed twice`);
    entries.push({ entry: e, scenario, check });
    if (check === undefined) whole.add(scenario);
    else {
      if (!checks.has(scenario)) checks.set(scenario, new Set());
      checks.get(scenario).add(check);
    }
  }
  for (const { entry, scenario, check } of entries)
    if (check !== undefined && whole.has(scenario))
      problems.push(`entry "${entry}" is redundant: the whole scenario "${scenario}" is expected to fail`);
  return { problems, whole, checks, entries };
}

// --- results -------------------------------------------------------------------------
const TS = /-\d{4}-\d{2}-\d{2}T[0-9-]+Z$/;
function loadResults(root) {
  const runs = [];
  for (const group of fs.readdirSync(root).sort()) {
    const gdir = path.join(root, group);
    if (!fs.statSync(gdir).isDirectory()) continue;
    for (const d of fs.readdirSync(gdir).sort()) {
      const f = path.join(gdir, d, 'checks.json');
      if (!d.startsWith('server-') || !fs.existsSync(f)) continue;
      let checks;
      try {
        checks = JSON.parse(fs.readFileSync(f, 'utf8'));
      } catch (e) {
        checks = [{ id: 'checks-json-unreadable', status: 'FAILURE', errorMessage: `${f}: ${e.message}` }];
      }
      runs.push({ group, scenario: d.slice('server-'.length).replace(TS, ''), dir: path.join(group, d), checks });
    }
  }
  return runs;
}

const baseline = loadBaseline(baselinePath);
if (baseline.problems.length) {
  console.error(`malformed baseline ${baselinePath}:\n  ${baseline.problems.join('\n  ')}`);
  process.exit(2);
}
const runs = loadResults(outDir);
const expectedFile = path.join(outDir, 'expected-scenarios.txt');
const expected = fs.existsSync(expectedFile)
  ? [...new Set(fs.readFileSync(expectedFile, 'utf8').split('\n').filter(Boolean))]
  : [];
for (const s of expected)
  if (!runs.some((r) => r.scenario === s))
    runs.push({
      group: '-',
      scenario: s,
      dir: '-',
      checks: [{ id: 'scenario-did-not-run', status: 'FAILURE', errorMessage: 'no checks.json was written for this scenario (see the group logs)' }],
    });

const inBaseline = (scenario, id) =>
  baseline.whole.has(scenario) || (baseline.checks.get(scenario)?.has(id) ?? false);
const count = (checks, s) => checks.filter((c) => c.status === s).length;
const oneLine = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();

const rows = [];
const details = [];
const unexpected = new Set();
const failedKeys = new Set();
let passed = 0;
let failed = 0;
for (const r of runs) {
  passed += count(r.checks, 'SUCCESS');
  failed += count(r.checks, 'FAILURE');
  const ids = [...new Set(r.checks.filter((c) => c.status === 'FAILURE').map((c) => c.id))];
  const marked = ids.map((id) => {
    failedKeys.add(`${r.scenario}:${id}`);
    if (inBaseline(r.scenario, id)) return id;
    unexpected.add(`${r.scenario}:${id}`);
    return `${id}(!)`;
  });
  rows.push(
    `${r.group.padEnd(9)} ${r.scenario.padEnd(46)} pass=${count(r.checks, 'SUCCESS')} fail=${count(r.checks, 'FAILURE')}` +
      ` warn=${count(r.checks, 'WARNING')} skip=${count(r.checks, 'SKIPPED')}` +
      (marked.length ? `  FAILED: ${marked.join(', ')}` : ''),
  );
  for (const c of r.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING'))
    details.push(
      `${c.status === 'FAILURE' ? (inBaseline(r.scenario, c.id) ? 'FAIL (baseline)' : 'FAIL (NEW)     ') : 'WARN           '} ` +
        `${r.scenario}:${c.id}\n    ${oneLine(c.errorMessage).slice(0, 600)}`,
    );
}

// Stale: a baseline entry for a scenario that ran, with no failure behind it any more.
const ran = new Set(runs.filter((r) => r.dir !== '-').map((r) => r.scenario));
const stale = baseline.entries
  .filter(({ scenario, check }) => ran.has(scenario))
  .filter(({ scenario, check }) =>
    check === undefined ? ![...failedKeys].some((k) => k.startsWith(`${scenario}:`)) : !failedKeys.has(`${scenario}:${check}`),
  )
  .map(({ entry }) => entry);

fs.writeFileSync(path.join(outDir, 'summary.txt'), rows.join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'failures.txt'), details.join('\n') + (details.length ? '\n' : ''));

console.log('\n=== conformance summary (FAILED ids marked (!) are not in the baseline)');
console.log(rows.join('\n'));
if (unexpected.size) {
  console.log(`\n=== ${unexpected.size} failed check(s) NOT in ${path.basename(baselinePath)}:`);
  for (const k of unexpected) console.log(`  ${k}`);
  console.log(`  (messages: ${path.join(outDir, 'failures.txt')})`);
}
if (stale.length) {
  console.log(`\n=== ${stale.length} baseline entr${stale.length === 1 ? 'y' : 'ies'} now passing (stale; remove them):`);
  for (const e of stale) console.log(`  ${e}`);
}
const bad = unexpected.size > 0 || (strict && stale.length > 0);
console.log(
  `\nbaseline: ${unexpected.size} unexpected failure(s), ${failedKeys.size - unexpected.size} expected, ${stale.length} stale` +
    ` -> ${bad ? 'FAIL' : 'ok'}`,
);
console.log(`${passed} passed, ${failed} failed${eraArg ? ` (${eraArg})` : ''}`);
process.exit(bad ? 1 : 0);
