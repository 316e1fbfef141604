// check.mjs - offline checks of the rendered Kubernetes manifests (driven by tests/k8s/validate).
//
//   node check.mjs schemas     --repo ROOT --out DIR NAME=RENDERED.yaml=KUSTOMIZATION_DIR ...
//   node check.mjs consistency --repo ROOT --out DIR --build BUILD --port PORT NAME=... ...
//
// schemas: every object against its schema: the Kubernetes core models (kubernetes-models),
//   KEDA (@kubernetes-models/keda), prometheus-operator (@kubernetes-models/prometheus-operator)
//   and CloudNativePG (cnpg-cluster.schema.json, our subset of its CRD); then every object as
//   a TypeScript literal of its model's type, so tsc refuses any field the API does not have
//   (the API server refuses them too: kubectl validates strictly).
// consistency: what the manifests say against what the binaries say about themselves
//   (--help, --print-config, --check-config, --version, /metrics), the image build
//   (deploy/images/build --print-ref, the Containerfile), the migrations (partial indexes) and
//   the other objects of the same render (ConfigMaps, Secrets, Services, ports, selectors).
//
// Prints one line per problem and a last line "<mode>: N object(s) in M render(s), P
// problem(s)"; exits 1 when there is a problem, 2 on bad usage.
// SPDX-License-Identifier: Apache-2.0
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// ---- arguments --------------------------------------------------------------------------
const argv = process.argv.slice(2);
const mode = argv.shift();
const opt = {};
const renders = [];
while (argv.length) {
  const a = argv.shift();
  if (a.startsWith("--")) opt[a.slice(2)] = argv.shift();
  else {
    const [name, file, dir] = a.split("=");
    renders.push({ name, file, dir });
  }
}
if (!["schemas", "consistency"].includes(mode) || !opt.repo || !opt.out || !renders.length) {
  console.error("usage: check.mjs schemas|consistency --repo ROOT --out DIR [--build B --port P] NAME=FILE=DIR...");
  process.exit(2);
}
for (const r of renders) {
  r.objects = YAML.parseAllDocuments(fs.readFileSync(r.file, "utf8"))
    .map((d) => d.toJS())
    .filter((o) => o);
}
const nObjects = renders.reduce((n, r) => n + r.objects.length, 0);
const idOf = (o) => `${o.kind}/${o.metadata?.name}`;

// ---- schemas ----------------------------------------------------------------------------
// The module (and type file) of each apiVersion's models.
function modelModule(apiVersion) {
  if (apiVersion === "keda.sh/v1alpha1") return "@kubernetes-models/keda/keda.sh/v1alpha1";
  if (apiVersion === "monitoring.coreos.com/v1")
    return "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
  if (apiVersion === "v1") return "kubernetes-models/v1";
  if (/^[a-z0-9.]+\/v[0-9a-z]+$/.test(apiVersion)) return `kubernetes-models/${apiVersion}`;
  return null;
}

async function checkSchemas() {
  const { default: Ajv } = await import("ajv");
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const cnpg = ajv.compile(JSON.parse(fs.readFileSync(path.join(HERE, "cnpg-cluster.schema.json"), "utf8")));
  const ts = []; // lines of the TypeScript file
  const spans = []; // [first line, last line, where] of each object in it
  let n = 0;
  for (const r of renders) {
    for (const o of r.objects) {
      const where = `${r.name}: ${idOf(o)}`;
      if (o.apiVersion === "postgresql.cnpg.io/v1" && o.kind === "Cluster") {
        if (!cnpg(o))
          for (const e of cnpg.errors)
            problem(where, `${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? `: ${e.params.additionalProperty}` : ""} (cnpg-cluster.schema.json)`);
        continue;
      }
      const mod = modelModule(o.apiVersion);
      let Model;
      try {
        Model = mod && (await import(mod))[o.kind];
      } catch {
        Model = undefined;
      }
      if (!Model) {
        problem(where, `no schema for ${o.apiVersion} ${o.kind}`);
        continue;
      }
      // kustomize folds long base64 values over lines; the API server's decoder skips the
      // newlines, so the schema sees them without.
      const obj = o.kind === "Secret" && o.data
        ? { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/\s+/g, "")])) } : o;
      try {
        new Model(obj).validate();
      } catch (e) {
        problem(where, `schema: ${e.message}`);
      }
      const typeFile = path.join(HERE, "node_modules", mod, `${o.kind}.js`);
      const v = `o${n++}`;
      ts.push(`import type { I${o.kind} as T${v} } from ${JSON.stringify(typeFile)};`);
      const body = JSON.stringify(o, null, 1).split("\n");
      spans.push([ts.length + 1, ts.length + body.length, where]);
      ts.push(`export const ${v}: T${v} = ${body[0]}`, ...body.slice(1));
    }
  }
  // Unknown fields: tsc's excess property check on each object as a literal of its type.
  const tsFile = path.join(opt.out, "objects.ts");
  fs.writeFileSync(tsFile, ts.join("\n") + "\n");
  const tsc = spawnSync(process.execPath, [path.join(HERE, "node_modules/typescript/bin/tsc"), "--noEmit",
    "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
    "--skipLibCheck", "--pretty", "false", tsFile], { encoding: "utf8" });
  const out = (tsc.stdout || "") + (tsc.stderr || "");
  for (const line of out.split("\n").filter((l) => l.trim())) {
    const m = /objects\.ts\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
    if (!m) {
      if (/error/.test(line)) problem("tsc", line);
      continue;
    }
    const ln = Number(m[1]);
    const span = spans.find(([a, b]) => ln >= a && ln <= b);
    const field = ts[ln - 1].trim().replace(/,$/, "");
    problem(span ? span[2] : "tsc", `${m[2].replace(/Object literal may only specify known properties, and /, "")} (at ${field})`);
  }
  if (tsc.status !== 0 && !out.trim()) problem("tsc", `exited ${tsc.status} without a message`);
}

// ---- what the binaries, the build and the migrations say --------------------------------
function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, out: r.stdout || "", err: r.stderr || "" };
}

// Settings of one program from its --help: name -> { secret, description }, the *_FILE
// variables it reads, and the admin paths it lists.
function parseHelp(text) {
  const settings = new Map();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s+(--[a-z0-9-]+|\(secret: no flag\))\s+(TASKWIRE_[A-Z0-9_]+)\s/.exec(lines[i]);
    if (!m) continue;
    let desc = "";
    for (let j = i + 1; j < lines.length && /^\s{6}\S/.test(lines[j]); j++) desc += lines[j].trim() + " ";
    settings.set(m[2], { secret: m[1].startsWith("("), description: desc });
  }
  const fileVars = new Set(text.match(/TASKWIRE_[A-Z0-9_]+_FILE/g) || []);
  return { settings, fileVars };
}

function binaries() {
  const b = opt.build;
  const progs = {
    // Settings that need a key or file are relaxed so that --print-config shows the defaults.
    "taskwire-frontend": { bin: `${b}/frontend/taskwire-frontend`, sub: [], env: { TASKWIRE_AUTH: "none", TASKWIRE_FABRIC_INSECURE: "true", TASKWIRE_REDIS_INSECURE: "true" } },
    "taskwire-worker": { bin: `${b}/worker/taskwire-worker`, sub: [], env: { TASKWIRE_FABRIC_INSECURE: "true", TASKWIRE_REDIS_INSECURE: "true" } },
    "taskwire migrate": { bin: `${b}/cli/taskwire`, sub: ["migrate"], env: {} },
  };
  for (const [name, p] of Object.entries(progs)) {
    const help = run(p.bin, [...p.sub, "--help"]);
    if (help.code !== 0) throw new Error(`${name} --help failed (exit ${help.code}): ${help.err}`);
    Object.assign(p, parseHelp(help.out));
    const pc = run(p.bin, [...p.sub, "--print-config"], p.env);
    if (pc.code !== 0) throw new Error(`${name} --print-config failed (exit ${pc.code}): ${pc.err}`);
    p.defaults = Object.fromEntries(pc.out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    const ver = run(p.bin, ["--version"]);
    p.version = ver.out.trim().split(/\s+/).pop();
    const admin = p.settings.get("TASKWIRE_ADMIN_LISTEN");
    p.adminPaths = admin ? admin.description.match(/\/[a-z]+/g) || [] : [];
    if (!p.settings.size) throw new Error(`${name} --help lists no setting`);
  }
  return progs;
}

// The worker's metric names, from its own /metrics (it starts without PostgreSQL and Redis).
async function workerMetrics(prog) {
  const port = Number(opt.port);
  const child = spawn(prog.bin, [], {
    env: { PATH: process.env.PATH, TASKWIRE_ADMIN_LISTEN: `127.0.0.1:${port}`, TASKWIRE_REDIS_ADDR: "",
      TASKWIRE_FABRIC_CONNECT: `tcp://127.0.0.1:${port + 1}`, TASKWIRE_PG_DSN: "host=127.0.0.1 port=1 connect_timeout=1",
      TASKWIRE_LOG_LEVEL: "error", TASKWIRE_FABRIC_INSECURE: "true" },
    stdio: "ignore",
  });
  try {
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        if (res.ok) return new Set([...(await res.text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
      } catch {
        /* not listening yet */
      }
    }
    throw new Error(`the worker's /metrics on 127.0.0.1:${port} did not answer`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
  }
}

// The image: its reference, the Containerfile's USER and COPY destinations from the repo.
function imageFacts() {
  const ref = run(path.join(opt.repo, "deploy/images/build"), ["--print-ref"]).out.trim();
  const cf = fs.readFileSync(path.join(opt.repo, "deploy/images/Containerfile"), "utf8");
  const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(cf);
  const copies = [...cf.matchAll(/^COPY\s+(?!--)(\S+)\s+(\S+)\s*$/gm)].map((m) => ({ src: m[1], dst: m[2] }));
  return { ref, repo: ref.slice(0, ref.lastIndexOf(":")), uid: user && Number(user[1]), gid: user && Number(user[2]), copies };
}

// Partial index predicates still in force after every migration, in order.
function partialIndexes() {
  const dir = path.join(opt.repo, "proto/sql");
  const idx = new Map();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const sql = fs.readFileSync(path.join(dir, f), "utf8").replace(/--.*$/gm, "");
    for (const m of sql.matchAll(/CREATE\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+tasks\s*\([^)]*\)\s+WHERE\s+([^;]+);|DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(\w+)/gi)) {
      if (m[3]) idx.delete(m[3]);
      else idx.set(m[1], m[2].replace(/\s+/g, " ").trim());
    }
  }
  return idx;
}

// The predicates of every "FROM tasks WHERE ..." of a query, each up to the parenthesis
// that closes its subquery (or the end), whitespace folded.
function wherePredicates(q) {
  const out = [];
  for (const m of q.matchAll(/FROM tasks WHERE /g)) {
    let depth = 0;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < q.length; i++) {
      if (q[i] === "(") depth++;
      else if (q[i] === ")" && depth-- === 0) break;
    }
    out.push(q.slice(start, i).replace(/\s+/g, " ").trim());
  }
  return out;
}

// ---- consistency ------------------------------------------------------------------------
const KNOWN_OPERATOR_SECRETS = {
  // made by the CloudNativePG operator for a Cluster's application user
  "-app": ["username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"],
};

const podTemplates = (r) =>
  r.objects.filter((o) => ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(o.kind))
    .map((o) => ({ owner: o, tpl: o.spec.template }));
const matches = (sel, labels) =>
  Object.entries(sel?.matchLabels || {}).every(([k, v]) => labels?.[k] === v) &&
  (sel?.matchExpressions || []).every((e) =>
    e.operator === "In" ? e.values.includes(labels?.[e.key]) :
    e.operator === "NotIn" ? !e.values.includes(labels?.[e.key]) :
    e.operator === "Exists" ? labels && e.key in labels : !(labels && e.key in labels));
const selected = (r, sel) => podTemplates(r).filter((p) => matches(sel, p.tpl.metadata?.labels));
const containerPort = (c, port) =>
  (c.ports || []).find((p) => (typeof port === "number" ? p.containerPort === port : p.name === port));
const find = (r, kind, name) => r.objects.find((o) => o.kind === kind && o.metadata?.name === name);
function hostPort(v) {
  const m = /^(?:tcp:\/\/)?(.*):(\d+)$/.exec(v || "");
  return m ? { host: m[1], port: Number(m[2]) } : null;
}

// The Secret NAME of a render, or the secret-example.yaml of its kustomization (or of an
// overlay it builds on), or an operator-made Secret; null when none is known.
function secretKeys(r, name) {
  const s = find(r, "Secret", name);
  if (s) return { from: "rendered", keys: Object.keys({ ...s.data, ...s.stringData }) };
  const dirs = [r.dir];
  try {
    const k = YAML.parse(fs.readFileSync(path.join(r.dir, "kustomization.yaml"), "utf8"));
    for (const res of k.resources || []) {
      const d = path.resolve(r.dir, res);
      if (fs.existsSync(path.join(d, "kustomization.yaml"))) dirs.push(d);
    }
  } catch {
    /* no kustomization file: only the rendered objects */
  }
  for (const d of dirs) {
    const f = path.join(d, "secret-example.yaml");
    if (!fs.existsSync(f)) continue;
    for (const o of YAML.parseAllDocuments(fs.readFileSync(f, "utf8")).map((x) => x.toJS()))
      if (o?.kind === "Secret" && o.metadata?.name === name)
        return { from: path.relative(opt.repo, f), keys: Object.keys({ ...o.data, ...o.stringData }) };
  }
  for (const [suffix, keys] of Object.entries(KNOWN_OPERATOR_SECRETS))
    if (name.endsWith(suffix) && r.objects.some((o) => o.kind === "Cluster" && `${o.metadata.name}${suffix}` === name))
      return { from: "CloudNativePG", keys };
  return null;
}
const configMapKeys = (r, name) => {
  const c = find(r, "ConfigMap", name);
  return c ? Object.keys({ ...c.data, ...c.binaryData }) : null;
};

// The effective settings of a taskwire container: name -> value (ConfigMaps resolved).
// A value the binaries accept for a setting whose real value lives in a Secret: a hex state
// key, a Z85 fabric key (also a one-key worker list), or a libpq string.
function placeholder(k) {
  if (k.includes("STATE_KEY")) return "ab".repeat(32);
  if (k.includes("FABRIC_")) return "0".repeat(40);
  return k.includes("DSN") ? "host=127.0.0.1 dbname=taskwire" : "x";
}

function containerEnv(r, c, where) {
  const env = new Map();
  for (const ef of c.envFrom || []) {
    if (ef.configMapRef) {
      const cm = find(r, "ConfigMap", ef.configMapRef.name);
      if (!cm) problem(where, `envFrom ConfigMap ${ef.configMapRef.name} is not in the render`);
      // named without kustomize's hash suffix, so messages stay the same when values change
      const cmName = cm?.metadata.name.replace(/-[a-z0-9]{10}$/, "");
      for (const [k, v] of Object.entries(cm?.data || {})) env.set(k, { value: v, from: `ConfigMap ${cmName}` });
    } else problem(where, "envFrom other than a ConfigMap");
  }
  for (const e of c.env || []) {
    if (env.has(e.name)) problem(where, `${e.name} is set twice (env and ${env.get(e.name).from})`);
    if (e.valueFrom?.secretKeyRef) {
      const s = secretKeys(r, e.valueFrom.secretKeyRef.name);
      if (!s?.keys.includes(e.valueFrom.secretKeyRef.key))
        problem(where, `${e.name}: Secret ${e.valueFrom.secretKeyRef.name} has no key ${e.valueFrom.secretKeyRef.key}`);
    }
    env.set(e.name, { value: e.value ?? (e.valueFrom?.fieldRef ? "pod-name" : placeholder(e.name)), from: "env" });
  }
  return env;
}

// Where the file at PATH comes from in container C: { volume source, key } or { image file },
// or null.
function fileSource(r, tpl, c, p, imageCopies) {
  for (const m of c.volumeMounts || []) {
    if (!p.startsWith(m.mountPath.replace(/\/$/, "") + "/")) continue;
    const rel = p.slice(m.mountPath.replace(/\/$/, "").length + 1);
    const v = (tpl.spec.volumes || []).find((x) => x.name === m.name);
    const sources = v?.projected ? v.projected.sources : v ? [v] : [];
    for (const s of sources) {
      const ref = s.secret ? { kind: "Secret", name: s.secret.secretName || s.secret.name, items: s.secret.items }
        : s.configMap ? { kind: "ConfigMap", name: s.configMap.name, items: s.configMap.items } : null;
      if (!ref) continue;
      const item = ref.items ? ref.items.find((i) => i.path === rel) : { key: rel };
      if (item) return { ...ref, key: item.key };
    }
    return { missing: `${p}: volume ${m.name} has no item ${rel}` };
  }
  for (const cp of imageCopies) {
    const dst = cp.dst.replace(/\/$/, "");
    if (p.startsWith(dst + "/") && cp.src.replace(/\/$/, "") !== cp.src) {
      const file = path.join(opt.repo, cp.src, p.slice(dst.length + 1));
      return fs.existsSync(file) ? { image: file } : { missing: `${p}: the image has no such file (${path.relative(opt.repo, file)} does not exist)` };
    }
  }
  return null;
}

async function checkConsistency() {
  const progs = binaries();
  const image = imageFacts();
  const indexes = partialIndexes();
  let metrics = null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tw-k8s-"));
  const ROLE = { frontend: { http: "TASKWIRE_LISTEN", admin: "TASKWIRE_ADMIN_LISTEN", fabric: "TASKWIRE_FABRIC_BIND" },
    worker: { admin: "TASKWIRE_ADMIN_LISTEN" }, migrate: {} };
  try {
    if (!image.ref || !image.uid) problem("deploy/images", `cannot read the image reference or USER (${image.ref})`);
    for (const r of renders) {
      const slots = [];
      const workers = [];
      const frontends = [];
      // -- every pod: hardening and resources
      for (const { owner, tpl } of podTemplates(r)) {
        const ps = tpl.spec.securityContext || {};
        const ow = `${r.name}: ${idOf(owner)}`;
        for (const c of [...(tpl.spec.initContainers || []), ...tpl.spec.containers]) {
          const w = `${ow}/${c.name}`;
          const cs = c.securityContext || {};
          if ((cs.runAsNonRoot ?? ps.runAsNonRoot) !== true) problem(w, "runAsNonRoot is not true");
          if ((cs.seccompProfile ?? ps.seccompProfile)?.type !== "RuntimeDefault") problem(w, "seccompProfile is not RuntimeDefault");
          if (cs.allowPrivilegeEscalation !== false) problem(w, "allowPrivilegeEscalation is not false");
          if (cs.readOnlyRootFilesystem !== true) problem(w, "readOnlyRootFilesystem is not true");
          if (!(cs.capabilities?.drop || []).includes("ALL") || cs.capabilities?.add?.length) problem(w, "capabilities: not all dropped, or some added");
          if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
            problem(w, "resources: cpu and memory requests and a memory limit are required");
        }
      }
      // -- the taskwire containers
      for (const { owner, tpl } of podTemplates(r)) {
        for (const c of tpl.spec.containers) {
          const ow = `${r.name}: ${idOf(owner)}`;
          const w = `${ow}/${c.name}`;
          const at = c.image.lastIndexOf(":");
          const repo = at > c.image.lastIndexOf("/") ? c.image.slice(0, at) : c.image;
          if (repo.split("/").pop() !== image.repo.split("/").pop()) continue; // not a taskwire container
          const tag = at > c.image.lastIndexOf("/") ? c.image.slice(at + 1) : "";
          const args = [...(c.command || []), ...(c.args || [])];
          const progName = args[0] === "taskwire" ? `taskwire ${args[1]}` : args[0];
          const prog = progs[progName];
          if (!prog) {
            problem(w, `runs '${args.join(" ")}': not taskwire-frontend, taskwire-worker or taskwire migrate`);
            continue;
          }
          const role = progName === "taskwire-frontend" ? "frontend" : progName === "taskwire-worker" ? "worker" : "migrate";
          // image
          if (tag !== prog.version) problem(w, `image tag '${tag}' is not the binaries' version ${prog.version}`);
          if (repo.startsWith("localhost/") && c.image !== image.ref)
            problem(w, `image ${c.image} is not the one deploy/images/build makes (${image.ref})`);
          const ps = tpl.spec.securityContext || {};
          const cs = c.securityContext || {};
          if ((cs.runAsUser ?? ps.runAsUser) !== image.uid || (cs.runAsGroup ?? ps.runAsGroup) !== image.gid)
            problem(w, `runAsUser/runAsGroup are not the image's USER ${image.uid}:${image.gid}`);
          if (tpl.spec.automountServiceAccountToken !== false) problem(w, "a service account token is mounted");
          // settings
          const env = containerEnv(r, c, w);
          for (const [k, v] of env) {
            if (prog.settings.has(k)) continue;
            if (prog.fileVars.has(k)) continue;
            problem(w, `${k} (${v.from}) is not a setting of ${progName} (--help)`);
          }
          const value = (k) => (env.has(k) ? env.get(k).value : prog.defaults[k]);
          // the values, judged by the binary itself; secret files stand in as temporary files
          const ccEnv = {};
          for (const [k, v] of env) {
            if (k.endsWith("_FILE") && prog.fileVars.has(k)) {
              const f = path.join(tmp, k);
              fs.writeFileSync(f, placeholder(k));
              ccEnv[k] = f;
            } else ccEnv[k] = v.value;
          }
          const cc = run(prog.bin, [...prog.sub, "--check-config"], ccEnv);
          if (cc.code !== 0) problem(w, `${progName} --check-config refuses the settings: ${(cc.err || cc.out).trim()}`);
          // files: secrets, JWKS, tools manifest
          const mounted = new Set();
          for (const [k, v] of env) {
            if (!(k.endsWith("_FILE") || k === "TASKWIRE_TOOLS_MANIFEST") || !v.value) continue;
            const src = fileSource(r, tpl, c, v.value, image.copies);
            if (!src) problem(w, `${k}=${v.value}: no volume and no image file provides it`);
            else if (src.missing) problem(w, `${k}: ${src.missing}`);
            else if (src.kind === "Secret") {
              mounted.add(`${src.name}/${src.key}`);
              if (!prog.fileVars.has(k) || !prog.settings.has(k.replace(/_FILE$/, "")))
                problem(w, `${k} reads Secret ${src.name} but ${progName} reads no such file setting`);
              const s = secretKeys(r, src.name);
              if (!s) problem(w, `${k}: Secret ${src.name} is neither rendered nor in a secret-example.yaml`);
              else if (!s.keys.includes(src.key)) problem(w, `${k}: Secret ${src.name} (${s.from}) has no key ${src.key}`);
            } else if (src.kind === "ConfigMap") {
              const keys = configMapKeys(r, src.name);
              if (!keys) problem(w, `${k}: ConfigMap ${src.name} is not in the render`);
              else if (!keys.includes(src.key)) problem(w, `${k}: ConfigMap ${src.name} has no key ${src.key}`);
            } else if (src.image && k === "TASKWIRE_TOOLS_MANIFEST") {
              const man = JSON.parse(fs.readFileSync(src.image, "utf8"));
              c._killGraceMs = Math.max(0, ...man.tools.map((t) => t.killGraceMs ?? 5000));
            }
          }
          for (const v of tpl.spec.volumes || [])
            for (const s of v.projected?.sources || (v.secret ? [v] : []))
              for (const it of s.secret?.items || [])
                if (!mounted.has(`${s.secret.secretName || s.secret.name}/${it.key}`) &&
                    (c.volumeMounts || []).some((m) => m.name === v.name))
                  problem(w, `Secret ${s.secret.secretName || s.secret.name} key ${it.key} is mounted but no setting reads it`);
          // listen addresses and ports
          const portOf = {};
          for (const [name, k] of Object.entries(ROLE[role])) {
            const hp = hostPort(value(k));
            if (!hp) {
              problem(w, `${k}=${value(k)} is not host:port`);
              continue;
            }
            if (!["0.0.0.0", "*", ""].includes(hp.host)) problem(w, `${k}=${value(k)}: other pods cannot reach ${hp.host}`);
            const p = containerPort(c, name);
            if (!p) problem(w, `no containerPort named ${name} for ${k}`);
            else if (p.containerPort !== hp.port) problem(w, `containerPort ${name} is ${p.containerPort}, ${k} listens on ${hp.port}`);
            portOf[name] = hp.port;
          }
          for (const p of c.ports || [])
            if (!(p.name in ROLE[role])) problem(w, `containerPort ${p.name || p.containerPort} matches no listen setting`);
          // probes on the admin port, on the paths the binary serves there
          if (role !== "migrate") {
            for (const [probe, want] of [["startupProbe", "/healthz"], ["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
              const h = c[probe]?.httpGet;
              if (!h) {
                problem(w, `no ${probe} (httpGet)`);
                continue;
              }
              if (!prog.adminPaths.includes(h.path)) problem(w, `${probe} path ${h.path} is not served on the admin port (${prog.adminPaths.join(" ")})`);
              else if (h.path !== want) problem(w, `${probe} asks ${h.path}; it should ask ${want}`);
              const hp = typeof h.port === "number" ? h.port : containerPort(c, h.port)?.containerPort;
              if (hp !== portOf.admin) problem(w, `${probe} port ${h.port} is not the admin port (${portOf.admin})`);
            }
          }
          // stopping
          const tgps = tpl.spec.terminationGracePeriodSeconds ?? 30;
          if (role === "worker") {
            const grace = Number(value("TASKWIRE_GRACE_MS"));
            const need = grace + (c._killGraceMs ?? 0) + 5000;
            if (tgps * 1000 < need)
              problem(w, `terminationGracePeriodSeconds ${tgps} < TASKWIRE_GRACE_MS ${grace} + killGraceMs ${c._killGraceMs ?? 0} + 5 s`);
            slots.push(Number(value("TASKWIRE_SLOTS")));
            workers.push({ owner, tpl, c, value });
          }
          if (role === "frontend") {
            const pre = c.lifecycle?.preStop?.exec?.command;
            const sleep = pre && pre[0] === "sleep" ? Number(pre[1]) : 0;
            if (!sleep) problem(w, "no preStop sleep: the Service may still send requests after SIGTERM");
            // waiting requests are answered within 5 s of SIGTERM, in-flight ones finish
            if (tgps < sleep + 10) problem(w, `terminationGracePeriodSeconds ${tgps} < preStop ${sleep} s + 10 s`);
            frontends.push({ owner, tpl, c, value, portOf });
          }
          // Redis and PostgreSQL named by a Service of the render must be there
          const redis = hostPort(value("TASKWIRE_REDIS_ADDR"));
          if (redis && !redis.host.includes(".")) {
            const svc = find(r, "Service", redis.host);
            if (!svc || !svc.spec.ports.some((p) => p.port === redis.port))
              problem(w, `TASKWIRE_REDIS_ADDR ${value("TASKWIRE_REDIS_ADDR")}: no Service ${redis.host} with port ${redis.port}`);
          }
          const dsnKey = [...mounted].find((m) => m.endsWith("/pg-dsn"));
          const dsnSecret = dsnKey && find(r, "Secret", dsnKey.split("/")[0]);
          if (dsnSecret) {
            const dsn = dsnSecret.stringData?.["pg-dsn"] ?? Buffer.from(dsnSecret.data?.["pg-dsn"] || "", "base64").toString();
            const host = /(?:^|\s)host=(\S+)/.exec(dsn)?.[1];
            const port = Number(/(?:^|\s)port=(\d+)/.exec(dsn)?.[1] || 5432);
            if (host && !host.includes(".") && !find(r, "Service", host)?.spec.ports.some((p) => p.port === port))
              problem(w, `pg-dsn host ${host}:${port} is no Service of the render`);
          }
        }
      }
      // -- the fabric: workers reach every frontend through a headless Service
      for (const wk of workers) {
        const w = `${r.name}: ${idOf(wk.owner)}/${wk.c.name}`;
        for (const ep of String(wk.value("TASKWIRE_FABRIC_CONNECT")).split(",")) {
          const m = /^dns:\/\/([^:]+):(\d+)$/.exec(ep);
          if (!m) {
            problem(w, `TASKWIRE_FABRIC_CONNECT ${ep}: use dns://<headless Service>:<port> in Kubernetes`);
            continue;
          }
          const svc = find(r, "Service", m[1]);
          if (!svc || svc.spec.clusterIP !== "None") {
            problem(w, `TASKWIRE_FABRIC_CONNECT ${ep}: no headless Service ${m[1]}`);
            continue;
          }
          const sp = svc.spec.ports.find((p) => p.port === Number(m[2]));
          const fes = frontends.filter((f) => matches({ matchLabels: svc.spec.selector }, f.tpl.metadata.labels));
          if (!sp || !fes.length) problem(w, `TASKWIRE_FABRIC_CONNECT ${ep}: Service ${m[1]} has no port ${m[2]} or selects no frontend`);
          for (const f of fes)
            if (sp && (containerPort(f.c, sp.targetPort ?? sp.port)?.containerPort ?? sp.targetPort) !== f.portOf.fabric)
              problem(w, `TASKWIRE_FABRIC_CONNECT ${ep}: Service ${m[1]} does not lead to the frontends' fabric port ${f.portOf.fabric}`);
        }
      }
      // -- Services lead to container ports of the pods they select
      for (const svc of r.objects.filter((o) => o.kind === "Service")) {
        const w = `${r.name}: ${idOf(svc)}`;
        const pods = selected(r, { matchLabels: svc.spec.selector });
        if (!pods.length) problem(w, "selects no pod of the render");
        for (const p of svc.spec.ports)
          for (const pod of pods)
            if (!pod.tpl.spec.containers.some((c) => containerPort(c, p.targetPort ?? p.port)))
              problem(w, `port ${p.name || p.port}: ${idOf(pod.owner)} has no container port ${p.targetPort ?? p.port}`);
      }
      // -- scalers, budgets, policies, monitors select what exists
      const scaled = new Map();
      for (const o of r.objects.filter((x) => ["HorizontalPodAutoscaler", "ScaledObject"].includes(x.kind))) {
        const t = o.spec.scaleTargetRef;
        const w = `${r.name}: ${idOf(o)}`;
        if (!find(r, t.kind || "Deployment", t.name)) problem(w, `scales ${t.kind || "Deployment"}/${t.name}, which is not in the render`);
        if (scaled.has(t.name)) problem(w, `${t.name} is also scaled by ${scaled.get(t.name)}`);
        scaled.set(t.name, idOf(o));
      }
      for (const o of r.objects.filter((x) => x.kind === "PodDisruptionBudget"))
        if (!selected(r, o.spec.selector).length) problem(`${r.name}: ${idOf(o)}`, "selects no pod of the render");
      for (const o of r.objects.filter((x) => x.kind === "NetworkPolicy")) {
        const w = `${r.name}: ${idOf(o)}`;
        const pods = selected(r, o.spec.podSelector);
        const cluster = o.spec.podSelector.matchLabels?.["cnpg.io/cluster"];
        if (!pods.length && !(cluster && find(r, "Cluster", cluster))) problem(w, "selects no pod of the render");
        for (const rule of o.spec.ingress || [])
          for (const p of rule.ports || [])
            if (typeof p.port === "string")
              for (const pod of pods)
                if (!pod.tpl.spec.containers.some((c) => containerPort(c, p.port)))
                  problem(w, `port ${p.port}: ${idOf(pod.owner)} has no such container port`);
      }
      for (const o of r.objects.filter((x) => x.kind === "PodMonitor")) {
        const w = `${r.name}: ${idOf(o)}`;
        const pods = selected(r, o.spec.selector);
        if (!pods.length) problem(w, "selects no pod of the render");
        for (const ep of o.spec.podMetricsEndpoints)
          for (const pod of pods) {
            if (!pod.tpl.spec.containers.some((c) => containerPort(c, ep.port))) problem(w, `${idOf(pod.owner)} has no port ${ep.port}`);
            if (!progs["taskwire-worker"].adminPaths.includes(ep.path)) problem(w, `path ${ep.path} is not served on the admin port`);
          }
      }
      // -- KEDA: the target is the slots of one worker; the query reads the partial indexes
      for (const so of r.objects.filter((x) => x.kind === "ScaledObject")) {
        const w = `${r.name}: ${idOf(so)}`;
        for (const t of so.spec.triggers) {
          const target = Number(t.type === "postgresql" ? t.metadata.targetQueryValue : t.metadata.threshold);
          if (!slots.length) problem(w, "no worker in the render to compare the target with");
          for (const s of slots) if (target !== s) problem(w, `${t.type} target ${target} is not the workers' TASKWIRE_SLOTS ${s}`);
          if (t.type === "postgresql") {
            const preds = wherePredicates(t.metadata.query);
            if (!preds.length) problem(w, "the query reads no 'FROM tasks WHERE' clause");
            for (const p of preds)
              if (![...indexes.values()].some((ix) => p === ix || p.startsWith(ix + " AND ")))
                problem(w, `'WHERE ${p}' is not the predicate of a partial index (${[...indexes.values()].join("; ")})`);
            const ta = find(r, "TriggerAuthentication", t.authenticationRef?.name);
            if (!ta) problem(w, `TriggerAuthentication ${t.authenticationRef?.name} is not in the render`);
            for (const ref of ta?.spec.secretTargetRef || []) {
              const s = secretKeys(r, ref.name);
              if (!s?.keys.includes(ref.key)) problem(`${r.name}: ${idOf(ta)}`, `Secret ${ref.name} has no key ${ref.key}`);
            }
          } else if (t.type === "prometheus") {
            metrics ??= await workerMetrics(progs["taskwire-worker"]);
            for (const m of t.metadata.query.match(/taskwire_[a-z_]+/g) || [])
              if (!metrics.has(m)) problem(w, `${m} is not a metric of taskwire-worker (/metrics)`);
          } else problem(w, `trigger type ${t.type} is not one the README documents`);
        }
      }
      // -- the Ingress serves the URL the tokens are issued for: TASKWIRE_RESOURCE, the canonical
      //    URI of the metadata and audience, else TASKWIRE_AUTH_AUDIENCE
      for (const ing of r.objects.filter((x) => x.kind === "Ingress")) {
        const w = `${r.name}: ${idOf(ing)}`;
        for (const rule of ing.spec.rules)
          for (const p of rule.http.paths) {
            const svc = find(r, "Service", p.backend.service.name);
            if (!svc || !svc.spec.ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number))
              problem(w, `backend ${p.backend.service.name}:${p.backend.service.port.name ?? p.backend.service.port.number} is no Service port of the render`);
          }
        for (const f of frontends) {
          if (f.value("TASKWIRE_AUTH") === "none") continue;
          const key = f.value("TASKWIRE_RESOURCE") ? "TASKWIRE_RESOURCE" : "TASKWIRE_AUTH_AUDIENCE";
          const aud = new URL(f.value(key));
          const ok = ing.spec.rules.some((rule) => rule.host === aud.hostname && rule.http.paths.some((p) => p.path === aud.pathname));
          if (!ok) problem(w, `no rule serves ${key} ${aud.href}`);
          if (aud.protocol !== "https:" || !(ing.spec.tls || []).some((t) => t.hosts.includes(aud.hostname)))
            problem(w, `${key} ${aud.href} is not https with a TLS host on the Ingress`);
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- main -------------------------------------------------------------------------------
try {
  if (mode === "schemas") await checkSchemas();
  else await checkConsistency();
} catch (e) {
  problem("check.mjs", e.stack || String(e));
}
for (const p of problems) console.log(`PROBLEM ${p}`);
for (const r of renders) console.log(`# ${r.name}: ${r.objects.length} object(s)`);
console.log(`${mode}: ${nObjects} object(s) in ${renders.length} render(s), ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
