// Many VUs charge ONE real user (created in setup) at the same time; the oracle then checks that
// the final balance is the initial balance plus exactly the acknowledged charges, and that the
// ledger audit agrees (README.md, "The oracle").
//
//   k6 run --env API_HOST=localhost:8080 userpoint-concurrency-test.js
//   k6 run --env VUS=100 --env ITERATIONS=5000 --env CHARGE_AMOUNT=7 userpoint-concurrency-test.js
//
// The seed's version charged a hard-coded user id that never existed, so every request "passed"
// with USERPOINT_NOT_FOUND. Here a rejected or unknown charge is an error, never a success.
import { check } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import {
    charge,
    createTrackedUser,
    oracleThresholds,
    readBack,
    selectScenarios,
    settle,
    waitUntilReady,
} from './lib/userpoint.js';

/** @typedef {import('./lib/userpoint.js').TrackedUser} TrackedUser */

const VUS = Number(__ENV.VUS || 50);
const ITERATIONS = Number(__ENV.ITERATIONS || 1000);
const CHARGE_AMOUNT = Number(__ENV.CHARGE_AMOUNT || 100);
/** Read the balance back after each acknowledged charge (lost-update probe); READ_BACK=false turns it off. */
const READ_BACK = (__ENV.READ_BACK || 'true') !== 'false';

const chargeErrors = new Counter('point_charge_errors');
const chargeTime = new Trend('point_charge_time', true);
const chargeSuccess = new Rate('point_charge_success');

/** @type {import('k6/options').Options} */
export const options = {
    scenarios: selectScenarios({
        concurrent_charges: {
            executor: 'shared-iterations',
            exec: 'concurrentCharges',
            vus: VUS,
            iterations: ITERATIONS,
            maxDuration: __ENV.MAX_DURATION || '3m',
        },
    }),
    thresholds: {
        // Correctness decides: any lost or doubled charge fails the run.
        point_consistency_failures: ['count<1'],
        ...oracleThresholds(['target']),
        // Lock waits are bounded by the API (503 LOCK_TIMEOUT); most charges must still succeed.
        point_charge_success: ['rate>0.95'],
    },
    setupTimeout: '120s',
    teardownTimeout: '60s',
};

/** @returns {{ user: TrackedUser }} */
export function setup() {
    waitUntilReady(Number(__ENV.READY_TIMEOUT_SECONDS || 120));
    const user = createTrackedUser('target', 0);
    console.log(`slot target = user ${user.id} (initial balance ${user.initial}); ${VUS} VUs, ${ITERATIONS} charges of ${CHARGE_AMOUNT}`);
    return { user };
}

/** @param {{ user: TrackedUser }} data */
export function concurrentCharges(data) {
    const result = charge(data.user, CHARGE_AMOUNT);
    chargeTime.add(result.duration);
    const acknowledged = check(result, {
        'charge acknowledged (success === true)': (r) => r.outcome === 'acknowledged',
    });
    chargeSuccess.add(acknowledged);
    if (result.balance === null) {
        chargeErrors.add(1, { code: result.errorCode, outcome: result.outcome });
    } else if (READ_BACK) {
        readBack(data.user, result.balance);
    }
}

/** @param {{ user: TrackedUser }} data */
export function teardown(data) {
    console.log(settle(data.user));
}
