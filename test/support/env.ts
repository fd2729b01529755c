// Tests never reach AWS: fixed fake credentials and region, no credential-chain lookups.
process.env.AWS_ACCESS_KEY_ID = 'AKIDTESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-secret';
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'Medic';
process.env.MEDIC_LEDGER_TABLE ??= 'ledger';
process.env.MEDIC_LIMITER_TABLE ??= 'limiter';
process.env.MEDIC_TOPIC_ARN ??= 'arn:aws:sns:eu-west-1:111111111111:escalations';
process.env.MEDIC_STACK_NAME ??= 'MedicTest';
// Tests that append without a writer function sign with the offline key (lambdas/shared/ledger-mac.ts).
process.env.MEDIC_LEDGER_MAC_KEY ??= 'local';
// CDK's built-in CloudFormation validation takes seconds a synth (WebAssembly); one test runs it
// on the reference stack (test/constructs/cfn-validation.test.ts), the other template tests skip it.
process.env.CDK_VALIDATION ??= 'false';
