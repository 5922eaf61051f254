// The classes start real API processes and load one user hard; run them one at a time so a class's
// timing (lock waits, idempotency waits) does not depend on what the others are doing on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
