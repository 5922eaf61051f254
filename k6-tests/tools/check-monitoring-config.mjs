// Parses the monitoring configuration the compose files mount (docker-compose config does not
// read them) and checks that the pieces refer to each other: every dashboard panel's data source
// uid is provisioned, every dashboard parses, Prometheus scrapes both API instances.
// Prints `ok: ...` / `FAIL: ...` lines; exit code = number of failures.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

const root = process.argv[2];
let failures = 0;
const ok = (what) => console.log(`ok: ${what}`);
const fail = (what) => {
    console.log(`FAIL: ${what}`);
    failures++;
};
const load = (path, parse) => {
    try {
        return parse(readFileSync(join(root, path), 'utf8'));
    } catch (e) {
        fail(`${path} does not parse: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        return undefined;
    }
};

const prom = load('prometheus/prometheus.yml', (t) => yaml.load(t));
if (prom !== undefined) {
    const targets = (prom?.scrape_configs ?? []).flatMap((c) => (c.static_configs ?? []).flatMap((s) => s.targets ?? []));
    const paths = (prom?.scrape_configs ?? []).map((c) => c.metrics_path ?? '/metrics');
    if (['app1:8080', 'app2:8080'].every((t) => targets.includes(t)) && paths.every((p) => p === '/metrics')) {
        ok('prometheus/prometheus.yml is YAML and scrapes app1:8080 and app2:8080 /metrics');
    } else {
        fail(`prometheus/prometheus.yml does not scrape app1:8080 and app2:8080 /metrics (targets: ${targets.join(', ')})`);
    }
}

const datasources = load('grafana/provisioning/datasources/datasources.yml', (t) => yaml.load(t));
const uids = new Set((datasources?.datasources ?? []).map((d) => d.uid));
if (datasources !== undefined) {
    if (uids.has('k6-influxdb') && uids.has('duallock-prometheus')) {
        ok('grafana datasources.yml is YAML and provisions InfluxDB and Prometheus');
    } else {
        fail(`grafana datasources.yml lacks a data source (uids: ${[...uids].join(', ')})`);
    }
}
const providers = load('grafana/provisioning/dashboards/dashboards.yml', (t) => yaml.load(t));
if (providers !== undefined) {
    if ((providers?.providers ?? []).some((p) => p.options?.path === '/var/lib/grafana/dashboards')) {
        ok('grafana dashboards.yml is YAML and points at /var/lib/grafana/dashboards');
    } else {
        fail('grafana dashboards.yml has no provider for /var/lib/grafana/dashboards');
    }
}

const dashboards = readdirSync(join(root, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
if (dashboards.length < 2) {
    fail(`expected two dashboards, found ${dashboards.length}`);
}
for (const file of dashboards) {
    const dashboard = load(`grafana/dashboards/${file}`, JSON.parse);
    if (dashboard === undefined) {
        continue;
    }
    const refs = [];
    for (const panel of dashboard.panels ?? []) {
        refs.push(panel.datasource?.uid);
        for (const target of panel.targets ?? []) {
            refs.push(target.datasource?.uid);
        }
    }
    const unknown = refs.filter((uid) => uid !== undefined && !uids.has(uid));
    if (!dashboard.uid || !dashboard.title || (dashboard.panels ?? []).length === 0) {
        fail(`grafana/dashboards/${file}: no uid, title or panels`);
    } else if (unknown.length > 0) {
        fail(`grafana/dashboards/${file}: unknown data source uid(s) ${[...new Set(unknown)].join(', ')}`);
    } else {
        ok(`grafana/dashboards/${file} is JSON, ${dashboard.panels.length} panels, data sources provisioned`);
    }
}
process.exit(failures);
