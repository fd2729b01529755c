/**
 * Who may approve: a caller's ARN, as the function URL's IAM authorization reports it, against
 * the runbook's approvers (role and user ARNs). A role is used through sessions, so a session of
 * the role (`arn:aws:sts::<account>:assumed-role/<Role>/<session>`) approves as the role
 * (`arn:aws:iam::<account>:role/<Role>`, with or without a path: a session ARN carries no path).
 * A user ARN must match exactly. Partition and account must match too.
 */

const SESSION = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/;

/** The approver ARN the caller acts as, or undefined when the caller is not an approver. */
export function matchingApprover(caller: string, approvers: readonly string[]): string | undefined {
  if (approvers.includes(caller)) return caller;
  const session = SESSION.exec(caller);
  if (!session) return undefined;
  const [, partition, account, roleName] = session;
  return approvers.find((approver) => {
    const role = ROLE.exec(approver);
    return role !== null && role[1] === partition && role[2] === account && role[3] === roleName;
  });
}

/** Whether an approver is an email address (answering through its own link) rather than an IAM ARN. */
export const isEmailApprover = (approver: string): boolean => approver.includes('@') && !approver.startsWith('arn:');
