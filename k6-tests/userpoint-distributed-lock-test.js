// The seed's two scenarios against samples/UserPointApi, with its metric names and thresholds,
// and a correct consistency oracle (README.md, "The oracle").
//
//   k6 run --env API_HOST=localhost:8080 userpoint-distributed-lock-test.js
//   K6_ONLY_SCENARIO=single_user_spike k6 run userpoint-distributed-lock-test.js
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import {
    charge,
    createTrackedUser,
    oracleThresholds,
    randomInt,
    readBack,
    selectScenarios,
    settle,
    waitUntilReady,
} from './lib/userpoint.js';

/** @typedef {import('./lib/userpoint.js').TrackedUser} TrackedUser */
/**
 * @typedef {object} SetupData
 * @property {TrackedUser[]} users the 20 users of distributed_lock_test (slots 0..19).
 * @property {TrackedUser} spike the user of single_user_spike (slot "spike").
 */

const USER_COUNT = 20;
const SETUP_CHARGE = 100;
const SLOTS = Array.from({ length: USER_COUNT }, (_, i) => String(i)).concat(['spike']);

// The seed's metrics. point_consistency_failures (lib/userpoint.js) now comes from correct checks only.
const chargeErrors = new Counter('point_charge_errors');
const chargeTime = new Trend('point_charge_time', true);
const chargeSuccess = new Rate('point_charge_success');

/** @type {import('k6/options').Options} */
export const options = {
    scenarios: selectScenarios({
        distributed_lock_test: {
            executor: 'constant-arrival-rate',
            exec: 'distributedLockTest',
            rate: 50,
            timeUnit: '1s',
            duration: '2m',
            preAllocatedVUs: 100,
            maxVUs: 200,
        },
        single_user_spike: {
            executor: 'ramping-arrival-rate',
            exec: 'singleUserSpike',
            startRate: 10,
            timeUnit: '1s',
            preAllocatedVUs: 50,
            maxVUs: 100,
            stages: [
                { duration: '20s', target: 20 },
                { duration: '30s', target: 50 },
                { duration: '10s', target: 0 },
            ],
        },
    }),
    thresholds: {
        // The seed's thresholds, unchanged.
        http_req_duration: ['p(95)<500'],
        point_charge_time: ['p(99)<800'],
        point_charge_errors: ['count<50'],
        point_charge_success: ['rate>0.95'],
        point_consistency_failures: ['count<5'],
        // The per-user oracle: strict, one pair per user slot.
        ...oracleThresholds(SLOTS),
    },
    setupTimeout: '120s',
    teardownTimeout: '120s',
};

/** @returns {SetupData} */
export function setup() {
    waitUntilReady(Number(__ENV.READY_TIMEOUT_SECONDS || 120));
    /** @type {TrackedUser[]} */
    const users = [];
    for (let i = 0; i < USER_COUNT; i++) {
        users.push(createTrackedUser(String(i), SETUP_CHARGE));
    }
    const spike = createTrackedUser('spike', 0);
    for (const user of users.concat([spike])) {
        console.log(`slot ${user.slot} = user ${user.id} (initial balance ${user.initial})`);
    }
    return { users, spike };
}

/**
 * One iteration, as in the seed: short random pause, charge, check, read back, pause.
 * @param {TrackedUser} user
 */
function chargeOnce(user) {
    sleep(Math.random() * 0.05);
    const result = charge(user, randomInt(100, 999));
    chargeTime.add(result.duration);
    const acknowledged = check(result, {
        'charge acknowledged (success === true)': (r) => r.outcome === 'acknowledged',
    });
    chargeSuccess.add(acknowledged);
    if (result.balance !== null) {
        readBack(user, result.balance);
    } else {
        chargeErrors.add(1, { code: result.errorCode, outcome: result.outcome });
    }
    sleep(Math.random());
}

/** distributed_lock_test: a random one of the 20 users. @param {SetupData} data */
export function distributedLockTest(data) {
    const user = data.users[randomInt(0, data.users.length - 1)];
    if (user !== undefined) {
        chargeOnce(user);
    }
}

/** single_user_spike: always the spike user. @param {SetupData} data */
export function singleUserSpike(data) {
    chargeOnce(data.spike);
}

/** Closes the oracle's tallies with each user's ledger audit. @param {SetupData} data */
export function teardown(data) {
    for (const user of data.users.concat([data.spike])) {
        console.log(settle(user));
    }
}
