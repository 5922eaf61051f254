// Runs the k6 scripts' own code (setup, iterations, teardown, thresholds) in node against an
// in-memory fake of the UserPoint API, with k6's modules replaced by small shims. No k6, no
// network. It checks the oracle's logic, not k6: a correct API must pass every oracle threshold,
// an API that loses updates or applies a charge twice must fail them (the negative controls).
//   node tools/simulate.mjs            -> ok:/FAIL: lines; exit code = number of failures
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---- the fake API: balance and ledger per user; `mode` injects the defect under test.
const api = { mode: 'correct', users: new Map(), n: 0 };
function respond(status, success, data, code) {
    const body = JSON.stringify({ success, data, error: success ? null : { code, message: code } });
    return { status, body, timings: { duration: 1 }, error: '' };
}
function handle(method, url, body) {
    api.n++;
    const path = url.replace(/^http:\/\/[^/]+/, '');
    if (path === '/health/ready') return respond(200, true, null);
    if (method === 'POST' && path === '/api/v1/users') {
        const id = `u${api.users.size}-${Math.random().toString(16).slice(2, 10)}`;
        api.users.set(id, { balance: 0, ledger: [] });
        return respond(200, true, { id });
    }
    const m = path.match(/^\/api\/v1\/user-points\/([^/]+)(\/charge|\/audit)?$/);
    const user = m && api.users.get(m[1]);
    if (!user) return respond(404, false, null, 'USERPOINT_NOT_FOUND');
    if (m[2] === '/audit') {
        const ledgerSum = user.ledger.reduce((a, b) => a + b, 0);
        return respond(200, true, { balance: user.balance, ledgerSum, entryCount: user.ledger.length, consistent: ledgerSum === user.balance });
    }
    if (m[2] === '/charge') {
        const amount = JSON.parse(body).amount;
        if (api.mode === 'lock-timeout' && api.n % 7 === 0) return respond(503, false, null, 'LOCK_TIMEOUT');
        if (api.mode === 'html-error' && api.n % 7 === 0) { user.balance += amount; user.ledger.push(amount); return { status: 502, body: '<html>bad gateway</html>', timings: { duration: 1 }, error: '' }; }
        user.ledger.push(amount);
        const before = user.balance;
        user.balance += amount;
        if (api.mode === 'lost-update' && api.n % 5 === 0) user.balance = before; // a stale write won
        if (api.mode === 'double-apply' && api.n % 5 === 0) user.balance += amount;
        return respond(200, true, { id: 'p', userId: m[1], amount: user.balance });
    }
    return respond(200, true, { id: 'p', userId: m[1], amount: user.balance });
}

// ---- k6 shims
const samples = [];
let currentTags = {};
const shims = {
    'k6': `export function sleep() {}
export function check(v, checks) { let ok = true; for (const f of Object.values(checks)) ok = f(v) && ok; return ok; }`,
    'k6/http': `const h = globalThis.__fakeApi;
export default { get: (url) => h('GET', url, null), post: (url, body) => h('POST', url, body) };`,
    'k6/metrics': `class Metric { constructor(name, isTime) { this.name = name; this.type = this.constructor.name; }
  add(value, tags) { globalThis.__samples.push({ metric: this.name, type: this.type, value: Number(value), tags: { ...globalThis.__tags(), ...(tags || {}) } }); } }
export class Counter extends Metric {} export class Rate extends Metric {} export class Trend extends Metric {} export class Gauge extends Metric {}`,
};
globalThis.__fakeApi = handle;
globalThis.__samples = samples;
globalThis.__tags = () => currentTags;

function evaluate(name, rule) {
    const [, metric, tag, value] = name.match(/^([^{]+)(?:\{([^:]+):([^}]+)\})?$/);
    const xs = samples.filter((s) => s.metric === metric && (!tag || s.tags[tag] === value)).map((s) => s.value);
    const [, agg, op, lim] = rule.match(/^(count|rate|p\(\d+\))\s*(<=|<|>=|>|==)\s*([\d.]+)$/);
    let v;
    if (agg === 'count') v = xs.reduce((a, b) => a + b, 0);
    else if (agg === 'rate') v = xs.length ? xs.filter((x) => x !== 0).length / xs.length : 0;
    else { const q = Number(agg.slice(2, -1)) / 100; const s = [...xs].sort((a, b) => a - b); v = s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : 0; }
    const l = Number(lim);
    return { v, ok: { '<': v < l, '<=': v <= l, '>': v > l, '>=': v >= l, '==': v === l }[op] };
}

async function load(script, env) {
    const dir = mkdtempSync(join(tmpdir(), 'k6sim-'));
    mkdirSync(join(dir, 'lib'));
    for (const [name, code] of Object.entries(shims)) writeFileSync(join(dir, `${name.replace('/', '_')}.mjs`), code);
    const rewrite = (src) => src.replace(/from '(k6(?:\/\w+)?)'/g, (_, m) => `from '${pathToFileURL(join(dir, m.replace('/', '_') + '.mjs')).href}'`);
    writeFileSync(join(dir, 'lib/userpoint.js'), rewrite(readFileSync(join(here, 'lib/userpoint.js'), 'utf8')));
    writeFileSync(join(dir, script), rewrite(readFileSync(join(here, script), 'utf8')));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    globalThis.__ENV = env;
    try {
        return await import(pathToFileURL(join(dir, script)).href + `?${Math.random()}`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

async function run(script, env, mode, iterations) {
    api.mode = mode; api.users.clear(); api.n = 0; samples.length = 0;
    const mod = await load(script, env);
    const data = mod.setup();
    const scenarios = Object.entries(mod.options.scenarios);
    for (let i = 0; i < iterations; i++) {
        const [name, sc] = scenarios[i % scenarios.length];
        currentTags = { scenario: name };
        mod[sc.exec](data);
    }
    currentTags = {};
    mod.teardown(data);
    const failed = [];
    for (const [name, rules] of Object.entries(mod.options.thresholds)) {
        for (const rule of rules) { const r = evaluate(name, rule); if (!r.ok) failed.push(`${name} ${rule} (${r.v})`); }
    }
    return { failed, scenarios: scenarios.map(([n]) => n) };
}

const origLog = console.log; const origErr = console.error;
let failures = 0;
const say = (good, what) => { origLog(`${good ? 'ok' : 'FAIL'}: ${what}`); if (!good) failures++; };
const cases = [
    ['userpoint-concurrency-test.js', {}, 'correct', 300, (f) => f.length === 0, 'passes every threshold against a correct API'],
    ['userpoint-concurrency-test.js', {}, 'lost-update', 300, (f) => f.some((x) => x.startsWith('point_oracle_missing_amount{slot:target}')) && f.some((x) => x.startsWith('point_consistency_failures')), 'fails (missing amount, consistency failures) against an API that loses updates'],
    ['userpoint-concurrency-test.js', {}, 'double-apply', 300, (f) => f.some((x) => x.startsWith('point_oracle_excess_amount{slot:target}')), 'fails (excess amount) against an API that applies charges twice'],
    ['userpoint-concurrency-test.js', {}, 'lock-timeout', 300, (f) => f.length === 0 || f.every((x) => x.startsWith('point_charge_success')), 'keeps the oracle green when 503 LOCK_TIMEOUT rejects charges'],
    ['userpoint-concurrency-test.js', {}, 'html-error', 300, (f) => !f.some((x) => x.startsWith('point_oracle')), 'keeps the oracle green when a 502 HTML page hides an applied charge (unknown outcome)'],
    ['userpoint-distributed-lock-test.js', {}, 'correct', 400, (f) => f.length === 0, 'passes every threshold against a correct API'],
    ['userpoint-distributed-lock-test.js', {}, 'lost-update', 400, (f) => f.some((x) => x.startsWith('point_oracle_missing_amount{slot:spike}')), 'fails (missing amount for the spike user) against an API that loses updates'],
    ['userpoint-distributed-lock-test.js', { K6_ONLY_SCENARIO: 'single_user_spike' }, 'correct', 100, (f, s) => f.length === 0 && s.join() === 'single_user_spike', 'with K6_ONLY_SCENARIO=single_user_spike runs only that scenario'],
];
for (const [script, env, mode, n, expect, what] of cases) {
    console.log = () => {}; console.error = () => {};
    let result;
    try { result = await run(script, env, mode, n); } catch (e) { result = { failed: [`threw: ${e}`], scenarios: [] }; }
    finally { console.log = origLog; console.error = origErr; }
    const good = expect(result.failed, result.scenarios);
    say(good, `simulated ${script}${env.K6_ONLY_SCENARIO ? ' (only ' + env.K6_ONLY_SCENARIO + ')' : ''} [${mode}]: ${what}`);
    if (!good) origLog(`    failed thresholds: ${result.failed.join('; ') || 'none'}`);
}
try { await load('userpoint-distributed-lock-test.js', { K6_ONLY_SCENARIO: 'no_such' }); say(false, 'K6_ONLY_SCENARIO=no_such is refused'); }
catch (e) { say(String(e).includes('names no scenario'), 'K6_ONLY_SCENARIO=no_such is refused with the list of scenarios'); }
process.exit(failures);
