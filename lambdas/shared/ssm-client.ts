import { SSMClient } from '@aws-sdk/client-ssm';

// Apart from clients.ts: the runbook handlers reach SSM only through the mutation gate's guards,
// which they import when acting (runbook-steps.ts), so their cold starts do not load this client.
let ssmClient: SSMClient | undefined;

export function ssm(): SSMClient {
  ssmClient ??= new SSMClient({});
  return ssmClient;
}
