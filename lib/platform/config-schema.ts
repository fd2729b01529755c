import { z } from 'zod';
import { MODES } from '../../lambdas/shared/types';
import { requiredOr, strictObject } from '../config-issues';
import { APPROVER_ARN, APPROVER_EMAIL } from './approver-id';

/**
 * The building blocks of the config file's schema (lib/config.ts), shared by every runbook
 * kind's entry (lib/runbooks/*): each says, in its error, what it expects.
 */

export const text = () => z.string({ error: requiredOr('must be a non-empty string') }).min(1, { error: 'must be a non-empty string' });
export const num = () => z.number({ error: requiredOr('must be a number') });
export const bool = () => z.boolean({ error: requiredOr('must be true or false') });
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: requiredOr(`must be one of ${values.join(', ')}`) });
export const list = <T extends z.ZodType>(item: T) => z.array(item, { error: requiredOr('must be a list') });
/** A strict object: an unknown key is an error naming the known ones. */
export const object = <T extends z.ZodRawShape>(shape: T) => strictObject(shape, 'setting');
export const nameMap = (what: string) => z.record(z.string(), text(), { error: requiredOr(`must be an object of ${what}`) });

/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`; groups: region, account. */
export const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:.+$/;
const ALARM_ARN_EXPECTED = 'must be a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>)';
export const alarmArn = () => z.string({ error: requiredOr(ALARM_ARN_EXPECTED) }).regex(ALARM_ARN, { error: ALARM_ARN_EXPECTED });

/** A `{ key, value }` tag; resources carrying it are allowed (the runbooks' `optInTag`). */
export const tag = (what: string) => object({ key: text(), value: text() }).describe(`{ key, value }: ${what}`);

// ---- settings every runbook takes ----

export const policySchema = object({
  maxAttempts: num().optional().describe('Admissions of one resource in any sliding window, across every runbook (default 3).'),
  windowMinutes: num().optional().describe('The sliding window of maxAttempts, in minutes (default 60).'),
  maxConcurrent: num().optional().describe('Incidents of this runbook in flight at once (default 2).'),
  maxEventAgeMinutes: num().optional().describe('An event older than this is refused and paged (default 15).'),
  denialDigestMinutes: num().optional().describe('After the first page of a storm of denials, one digest per runbook and window this long (default 10).'),
  lowRisk: bool().optional().describe('Declares that this runbook\'s actions are bounded and undoable; required for approval.onTimeout "act" (default false).'),
}).meta({ id: 'Policy', description: 'Admission limits.' });

export const verificationSchema = object({
  initialDelaySeconds: num().optional().describe('Wait before the first check (default 60).'),
  intervalSeconds: num().optional().describe('Wait between checks (default 30).'),
  maxChecks: num().optional().describe('Checks before verification fails (default 20).'),
  requiredConsecutiveSuccesses: num().optional().describe('Positive checks in a row that mean success (default 2).'),
}).meta({ id: 'Verification', description: 'How the runbook verifies its action: its own check and the alarm back to OK.' });

/** `arn:<partition>:iam::<account>:role/<name>` or `...:user/<name>`. */
const APPROVER_EXPECTED = 'must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>) or an email address';
const APPROVER = new RegExp(`(?:${APPROVER_ARN.source})|(?:(?=.{1,254}$)${APPROVER_EMAIL.source})`);
export const approverArn = () => z.string({ error: requiredOr(APPROVER_EXPECTED) }).regex(APPROVER, { error: APPROVER_EXPECTED });
const TOPIC_EXPECTED = 'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)';
const topicArn = () => z.string({ error: requiredOr(TOPIC_EXPECTED) }).regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, { error: TOPIC_EXPECTED });

export const approvalSchema = object({
  approvers: list(approverArn()).describe('Who may approve or reject this runbook\'s plans (at least one): IAM role or user ARNs (medic approve/reject; each needs lambda:InvokeFunctionUrl on the ApprovalUrl endpoint), or email addresses (each gets its own single-use link to the approval page; the address confirms its subscription once).'),
  minApprovals: num().optional().describe('Approvals by distinct approvers needed before acting, at most the number of approvers and at most 5 (default 1).'),
  timeoutMinutes: num().optional().describe('How long to wait for approval, 1 to 1440 minutes and at least 5 minutes under the workflow timeout; then onTimeout decides (default 30).'),
  onTimeout: oneOf(['escalate', 'act']).optional()
    .describe('No answer before the timeout: escalate (default: no action, recorded and escalated) or act (a veto window: recorded, the plan checked again, then acted on; a rejection still escalates). act needs policy.lowRisk true; the RDS failover drill refuses it.'),
  topicArns: list(topicArn()).optional().describe('More SNS topics the request goes to, as Amazon Q Developer custom notifications (e.g. a chat channel\'s topic); default: the escalation topic only.'),
}).meta({ id: 'Approval', description: 'The approval gate of mode approve (required with it, refused with any other mode).' });

/** The settings of every runbook entry but its name and alarms. */
export const commonSettings = {
  mode: z.enum(MODES, { error: requiredOr(`must be one of ${MODES.join(', ')}`) }).optional()
    .describe('observe (default: plans and records, never mutates), approve (waits for the approvers of "approval" to approve the exact plan, checks it again, then acts), auto (acts).'),
  approval: approvalSchema.optional(),
  policy: policySchema.optional(),
  verification: verificationSchema.optional(),
  changeCalendar: text().optional().describe('An SSM Change Calendar (name or ARN): no action while it is CLOSED.'),
  timeoutMinutes: num().optional().describe('The workflow\'s timeout (default 120).'),
};
export const runbookName = () => text().describe('Unique name: lowercase letters, digits and hyphens. Names the state machine, ledger keys and the kill switch.');
export const alarmArns = (what: string) => list(alarmArn()).describe(`ARNs of existing CloudWatch alarms (in the stack's account and region) that start this runbook${what}.`);

/** What every runbook entry of the config file may carry (a kind's schema adds its own settings). */
export interface CommonRunbookEntry {
  readonly name?: string;
  readonly alarmArns?: string[];
  readonly guardAlarmArns?: string[];
  readonly mode?: z.infer<typeof commonSettings.mode>;
  readonly approval?: z.infer<typeof approvalSchema>;
  readonly policy?: z.infer<typeof policySchema>;
  readonly verification?: z.infer<typeof verificationSchema>;
  readonly changeCalendar?: string;
  readonly timeoutMinutes?: number;
}
