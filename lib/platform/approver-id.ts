/** How an approver is written in props and config: an IAM role or user ARN, or an email address. */

/** A role or user ARN of IAM (any partition); a token is checked at deploy time instead. */
export const APPROVER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/;
/** An email approver: one address (no display name), at most 254 characters. */
export const APPROVER_EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export { isEmailApprover } from '../../lambdas/approval/principals';
