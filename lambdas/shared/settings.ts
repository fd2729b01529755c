/** Deploy-time settings every platform handler reads from its environment. */
export interface PlatformSettings {
  readonly ledgerTable: string;
  readonly limiterTable: string;
  readonly topicArn: string;
  readonly stackName: string;
  /** Bucket of page marks (one page per incident, even with the ledger down); unset means no dedupe of pages. */
  readonly pageMarksBucket?: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function platformSettings(): PlatformSettings {
  return {
    ledgerTable: required('MEDIC_LEDGER_TABLE'),
    limiterTable: required('MEDIC_LIMITER_TABLE'),
    topicArn: required('MEDIC_TOPIC_ARN'),
    stackName: required('MEDIC_STACK_NAME'),
    pageMarksBucket: process.env.MEDIC_PAGE_MARKS_BUCKET || undefined,
  };
}
