// Shared by the k6 scripts in this folder: the HTTP contract of samples/UserPointApi, defensive
// parsing, and the bookkeeping behind the end-of-test consistency oracle (README.md, "The oracle").
//
// Everything at module level runs in k6's init context, so the metrics below are created once
// per VU, as k6 requires.
import http from 'k6/http';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';

/** `host:port` of the API (the proxy in docker-compose.app.yml, or a local `dotnet run`). */
export const API_HOST = __ENV.API_HOST || 'localhost:8080';
export const BASE_URL = `http://${API_HOST}/api/v1`;
const HTTP_TIMEOUT = __ENV.HTTP_TIMEOUT || '30s';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * @typedef {object} ApiError
 * @property {string} code
 * @property {string} message
 */
/**
 * The envelope every response of the API carries.
 * @typedef {object} Envelope
 * @property {boolean} success
 * @property {unknown} data
 * @property {ApiError | null} error
 */
/**
 * @typedef {object} Audit
 * @property {number} balance
 * @property {number} ledgerSum
 * @property {number} entryCount
 * @property {boolean} consistent
 */
/**
 * A user the oracle tracks: `slot` is the metric tag (known at init time), `id` the user's UUID
 * (known only after setup), `initial` the balance when the scenarios start.
 * @typedef {object} TrackedUser
 * @property {string} slot
 * @property {string} id
 * @property {number} initial
 */
/**
 * How a charge ended, as far as the client can tell.
 * - acknowledged: 200 and `success: true` with a balance: the charge is applied.
 * - rejected: an answer that says nothing changed (4xx with an envelope; 503 LOCK_TIMEOUT or
 *   LOCK_UNAVAILABLE).
 * - unknown: anything else (timeout, connection error, 500, 502/504 from the proxy, 200 with a
 *   body that is not the envelope): the charge may or may not have been applied.
 * @typedef {'acknowledged' | 'rejected' | 'unknown'} ChargeOutcome
 */
/**
 * @typedef {object} ChargeResult
 * @property {ChargeOutcome} outcome
 * @property {number} status HTTP status; 0 when no response arrived.
 * @property {number} duration milliseconds (k6's http_req_duration of this request).
 * @property {number | null} balance the balance after the charge, when acknowledged.
 * @property {string} errorCode the envelope's error code, or a label for what went wrong.
 */

/** The 503 codes that the API documents as "nothing was changed". */
const NOTHING_CHANGED_CODES = ['LOCK_TIMEOUT', 'LOCK_UNAVAILABLE'];

// --- Oracle metrics. Tagged with `slot` (declared in thresholds, see oracleThresholds) and
// `user` (the UUID; for InfluxDB/Grafana, never used in thresholds).

/** Sum of acknowledged charge amounts per user. Informational (the tally the oracle uses). */
export const chargedAmount = new Counter('charged_amount');
/**
 * Signed tally: +amount for every acknowledged charge, and teardown adds -(final - initial).
 * Ends > 0 only when acknowledged money is missing from the final balance (a lost update).
 */
export const oracleMissingAmount = new Counter('point_oracle_missing_amount');
/**
 * Signed tally: -amount when a charge is sent (from then on it may be applied), +amount back when
 * the answer says nothing changed, and teardown adds +(final - initial). Ends > 0 only when the
 * balance holds money that no acknowledged or unknown-outcome charge explains (applied twice).
 */
export const oracleExcessAmount = new Counter('point_oracle_excess_amount');
/** Charges whose outcome the client cannot know; they widen the oracle's accepted range. */
export const chargeUnknownOutcome = new Counter('point_charge_unknown_outcome');
/**
 * Correct-oracle failures, counted as they are found: a read that returns less than a balance an
 * earlier acknowledged charge returned (charges only add, so this is a lost update), and in
 * teardown every user whose ledger audit is unreadable, not `consistent`, or whose balance is not
 * the ledger's sum.
 */
export const consistencyFailures = new Counter('point_consistency_failures');
/**
 * The seed's racy check, kept for comparison only: an acknowledged charge's balance differs from
 * a GET right after it. Other VUs charge the same user in between, so this counts races, not
 * defects. No threshold.
 */
export const racyReadbackMismatches = new Counter('point_racy_readback_mismatches');

/**
 * Thresholds that make the per-user oracle decide the test. Tags must be known at init time,
 * hence slots rather than user ids.
 * @param {string[]} slots
 * @returns {{ [name: string]: string[] }}
 */
export function oracleThresholds(slots) {
    /** @type {{ [name: string]: string[] }} */
    const thresholds = {};
    for (const slot of slots) {
        thresholds[`point_oracle_missing_amount{slot:${slot}}`] = ['count<=0'];
        thresholds[`point_oracle_excess_amount{slot:${slot}}`] = ['count<=0'];
    }
    return thresholds;
}

/**
 * Applies K6_ONLY_SCENARIO: returns only the named scenario, or all of them when it is unset.
 * @template T
 * @param {{ [name: string]: T }} all
 * @returns {{ [name: string]: T }}
 */
export function selectScenarios(all) {
    const only = __ENV.K6_ONLY_SCENARIO;
    if (!only) {
        return all;
    }
    const chosen = all[only];
    if (chosen === undefined) {
        throw new Error(`K6_ONLY_SCENARIO=${only} names no scenario of this script; it has: ${Object.keys(all).join(', ')}`);
    }
    return { [only]: chosen };
}

/**
 * Parses a response body as the API envelope. Never throws: a body that is not JSON, or JSON that
 * is not an envelope (an HTML error page from the proxy, an empty body), gives null.
 * @param {{ body: unknown }} res
 * @returns {Envelope | null}
 */
export function parseEnvelope(res) {
    if (typeof res.body !== 'string' || res.body.length === 0) {
        return null;
    }
    /** @type {unknown} */
    let parsed;
    try {
        parsed = JSON.parse(res.body);
    } catch (_) {
        return null;
    }
    if (typeof parsed !== 'object' || parsed === null || !('success' in parsed) || typeof parsed.success !== 'boolean') {
        return null;
    }
    const data = 'data' in parsed ? parsed.data : null;
    /** @type {ApiError | null} */
    let error = null;
    if ('error' in parsed && typeof parsed.error === 'object' && parsed.error !== null) {
        const e = parsed.error;
        error = {
            code: 'code' in e && typeof e.code === 'string' ? e.code : '',
            message: 'message' in e && typeof e.message === 'string' ? e.message : '',
        };
    }
    return { success: parsed.success, data, error };
}

/**
 * @param {unknown} data
 * @param {string} field
 * @returns {number | null} the numeric field of an object, or null.
 */
function numberField(data, field) {
    if (typeof data !== 'object' || data === null) {
        return null;
    }
    const value = /** @type {{ [key: string]: unknown }} */ (data)[field];
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * @param {unknown} data
 * @param {string} field
 * @returns {string | null} the string field of an object, or null.
 */
function stringField(data, field) {
    if (typeof data !== 'object' || data === null) {
        return null;
    }
    const value = /** @type {{ [key: string]: unknown }} */ (data)[field];
    return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * @param {number} status
 * @param {Envelope | null} env
 * @returns {string} the envelope's error code, or a label for a response without one.
 */
function describeError(status, env) {
    if (env && env.error && env.error.code) {
        return env.error.code;
    }
    if (status === 0) {
        return 'NO_RESPONSE';
    }
    return env ? `HTTP_${status}` : `HTTP_${status}_NOT_ENVELOPE`;
}

/**
 * Waits until GET /health/ready answers 200 (the app instances run their migrations first).
 * @param {number} seconds
 */
export function waitUntilReady(seconds) {
    const url = `http://${API_HOST}/health/ready`;
    const deadline = Date.now() + seconds * 1000;
    let last = '';
    while (Date.now() < deadline) {
        const res = http.get(url, { timeout: '5s', tags: { name: 'GET /health/ready' } });
        if (res.status === 200) {
            return;
        }
        last = `HTTP ${res.status} ${res.error || ''}`;
        sleep(1);
    }
    throw new Error(`${url} not ready after ${seconds} s (last: ${last})`);
}

/**
 * POST /api/v1/users. Throws unless a user was created (only called from setup).
 * @returns {string} the new user's id.
 */
export function createUser() {
    const res = http.post(`${BASE_URL}/users`, null, { timeout: HTTP_TIMEOUT, tags: { name: 'POST /users' } });
    const env = parseEnvelope(res);
    const id = env && env.success ? stringField(env.data, 'id') : null;
    if (res.status < 200 || res.status > 299 || id === null) {
        throw new Error(`POST /users failed: ${describeError(res.status, env)} ${String(res.body).slice(0, 200)}`);
    }
    return id;
}

/**
 * GET /api/v1/user-points/{userId}.
 * @param {string} userId
 * @returns {number | null} the balance, or null when it could not be read.
 */
export function readBalance(userId) {
    const res = http.get(`${BASE_URL}/user-points/${userId}`, {
        timeout: HTTP_TIMEOUT,
        tags: { name: 'GET /user-points/{userId}' },
    });
    const env = parseEnvelope(res);
    return res.status === 200 && env && env.success ? numberField(env.data, 'amount') : null;
}

/**
 * A charge made in setup, outside the oracle's tally. Throws unless acknowledged.
 * @param {string} userId
 * @param {number} amount
 * @returns {number} the balance after the charge.
 */
export function setupCharge(userId, amount) {
    const res = http.post(`${BASE_URL}/user-points/${userId}/charge`, JSON.stringify({ amount }), {
        headers: JSON_HEADERS,
        timeout: HTTP_TIMEOUT,
        tags: { name: 'POST /user-points/{userId}/charge (setup)' },
    });
    const env = parseEnvelope(res);
    const balance = res.status === 200 && env && env.success ? numberField(env.data, 'amount') : null;
    if (balance === null) {
        throw new Error(`setup charge of ${amount} to ${userId} failed: ${describeError(res.status, env)}`);
    }
    return balance;
}

/**
 * Creates a user for the oracle to track; `initial` is read back, not assumed.
 * @param {string} slot
 * @param {number} setupAmount charged once in setup when > 0 (the seed charges 100).
 * @returns {TrackedUser}
 */
export function createTrackedUser(slot, setupAmount) {
    const id = createUser();
    const initial = setupAmount > 0 ? setupCharge(id, setupAmount) : readBalance(id);
    if (initial === null) {
        throw new Error(`could not read the balance of new user ${id}`);
    }
    return { slot, id, initial };
}

/**
 * POST /api/v1/user-points/{userId}/charge, with the oracle's bookkeeping. Never throws on a
 * bad answer: every outcome is classified and counted.
 * @param {TrackedUser} user
 * @param {number} amount
 * @returns {ChargeResult}
 */
export function charge(user, amount) {
    const tags = { slot: user.slot, user: user.id };
    // From here on the amount may be applied, even if this VU is cut off before the answer
    // (the end of a scenario's graceful stop): the excess tally already allows for it.
    oracleExcessAmount.add(-amount, tags);
    const res = http.post(`${BASE_URL}/user-points/${user.id}/charge`, JSON.stringify({ amount }), {
        headers: JSON_HEADERS,
        timeout: HTTP_TIMEOUT,
        tags: { name: 'POST /user-points/{userId}/charge' },
    });
    const env = parseEnvelope(res);
    const balance = res.status === 200 && env && env.success === true ? numberField(env.data, 'amount') : null;

    /** @type {ChargeOutcome} */
    let outcome;
    if (balance !== null) {
        outcome = 'acknowledged';
        chargedAmount.add(amount, tags);
        oracleMissingAmount.add(amount, tags);
    } else if (
        env !== null &&
        env.success === false &&
        ((res.status >= 400 && res.status <= 499) ||
            (res.status === 503 && env.error !== null && NOTHING_CHANGED_CODES.includes(env.error.code)))
    ) {
        outcome = 'rejected';
        oracleExcessAmount.add(amount, tags);
    } else {
        outcome = 'unknown';
        chargeUnknownOutcome.add(1, tags);
    }
    return {
        outcome,
        status: res.status,
        duration: res.timings.duration,
        balance,
        errorCode: outcome === 'acknowledged' ? '' : describeError(res.status, env),
    };
}

/**
 * After an acknowledged charge: reads the balance back. Counts the seed's racy comparison under
 * its own name, and a read below the acknowledged balance as a real consistency failure (this
 * test only adds money, so a later read can never be lower).
 * @param {TrackedUser} user
 * @param {number} acknowledgedBalance
 */
export function readBack(user, acknowledgedBalance) {
    const read = readBalance(user.id);
    if (read === null) {
        return;
    }
    const tags = { slot: user.slot, user: user.id };
    if (read !== acknowledgedBalance) {
        racyReadbackMismatches.add(1, tags);
    }
    if (read < acknowledgedBalance) {
        consistencyFailures.add(1, { ...tags, reason: 'read_below_acknowledged' });
        console.error(`user ${user.id}: read ${read} after a charge acknowledged balance ${acknowledgedBalance}`);
    }
}

/**
 * Teardown: closes the oracle's tallies for one user with the final balance from the ledger
 * audit, and checks the audit. Returns a line for the teardown report.
 * @param {TrackedUser} user
 * @returns {string}
 */
export function settle(user) {
    const tags = { slot: user.slot, user: user.id };
    const res = http.get(`${BASE_URL}/user-points/${user.id}/audit`, {
        timeout: HTTP_TIMEOUT,
        tags: { name: 'GET /user-points/{userId}/audit' },
    });
    const env = parseEnvelope(res);
    const data = res.status === 200 && env && env.success ? env.data : null;
    const balance = numberField(data, 'balance');
    const ledgerSum = numberField(data, 'ledgerSum');
    const entryCount = numberField(data, 'entryCount');
    const consistent = typeof data === 'object' && data !== null && 'consistent' in data ? data.consistent : undefined;
    if (balance === null || ledgerSum === null || entryCount === null || typeof consistent !== 'boolean') {
        // The missing-amount tally stays open (> 0 if anything was acknowledged): unverifiable fails.
        consistencyFailures.add(1, { ...tags, reason: 'audit_unreadable' });
        return `slot ${user.slot} user ${user.id}: AUDIT UNREADABLE (${describeError(res.status, env)})`;
    }
    const delta = balance - user.initial;
    oracleMissingAmount.add(-delta, tags);
    oracleExcessAmount.add(delta, tags);
    /** @type {string[]} */
    const problems = [];
    if (!consistent) {
        problems.push('audit says not consistent');
    }
    if (balance !== ledgerSum) {
        problems.push(`balance ${balance} != ledger sum ${ledgerSum}`);
    }
    for (const problem of problems) {
        consistencyFailures.add(1, { ...tags, reason: problem.startsWith('audit') ? 'audit_inconsistent' : 'balance_ne_ledger' });
    }
    const verdict = problems.length === 0 ? 'ledger ok' : `LEDGER FAIL: ${problems.join('; ')}`;
    return `slot ${user.slot} user ${user.id}: initial ${user.initial}, final ${balance} (+${delta}), ledger ${ledgerSum} in ${entryCount} entries: ${verdict}`;
}

/**
 * @param {number} min
 * @param {number} max
 * @returns {number} a random integer in [min, max].
 */
export function randomInt(min, max) {
    return min + Math.floor(Math.random() * (max - min + 1));
}
