// Mutation testing of the safety core (`npm run mutation`): StrykerJS with the jest runner, the
// unit and workflow tests, per-test coverage (a mutant runs only the tests that reach it), and
// incremental mode (the committed incremental file lets a rerun test only what changed).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: { roots: ['<rootDir>/test/unit', '<rootDir>/test/workflow'] },
  },
  coverageAnalysis: 'perTest',
  mutate: [
    // The safety core: admission and its guards, the limiter and leases, the ledger, the shared
    // steps (act claim, mutation gate, verify), validation and the escalation message.
    'lambdas/admit/index.ts',
    'lambdas/shared/admission.ts',
    'lambdas/shared/guards.ts',
    'lambdas/shared/recheck.ts',
    'lambdas/shared/limiter.ts',
    'lambdas/shared/limiter-rate.ts',
    'lambdas/shared/leases.ts',
    'lambdas/shared/ledger.ts',
    'lambdas/ledger-writer/index.ts',
    'lambdas/shared/ledger-anchors.ts',
    'lambdas/shared/runbook-steps.ts',
    'lambdas/shared/act-claim.ts',
    'lambdas/shared/mutation-gate.ts',
    'lambdas/validate/alarm-event.ts',
    'lambdas/validate/resource-event.ts',
    'lambdas/validate/manual-input.ts',
    'lambdas/escalate/message.ts',
    // Each runbook handler: plan, act, check, rollback.
    'lambdas/ecs-task-restart/index.ts',
    'lambdas/asg-elb-health-check/index.ts',
    'lambdas/rds-failover-drill/index.ts',
    'lambdas/disk-prune/index.ts',
    'lambdas/disk-prune-fleet/index.ts',
    'lambdas/certificate-renewal/index.ts',
  ],
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'cdk.out', 'test-artifacts', '.medic', 'reports', 'coverage'],
};
