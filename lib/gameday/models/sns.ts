import { PublishCommand } from '@aws-sdk/client-sns';
import type { ModelClock } from './clock';
import type { ModelOperations } from './operations';

/** A message published to the escalation topic. */
export interface Published {
  readonly at: string;
  readonly subject?: string;
  readonly message?: string;
  /** The topic accepted the message but could not deliver it to its subscribers (a game-day `sns:Deliver` fault). */
  readonly undelivered?: true;
}

/** What medic publishes: the escalation topic's pages, an approver's own link, a chat topic's request. */
interface PublishInput {
  readonly TopicArn?: string;
  readonly Subject?: string;
  readonly Message?: string;
  readonly MessageStructure?: string;
  readonly MessageAttributes?: Record<string, { readonly StringValue?: string }>;
}

/** A message to one email approver (its link), as the links topic's filtered subscription delivers it. */
export interface ApproverMessage {
  readonly at: string;
  readonly approver: string;
  readonly subject?: string;
  readonly message?: string;
}

/**
 * The escalation topic (SNS Publish). Used by the game-day world (lib/gameday/services/core.ts) and
 * the workflow tests (test/support/fake-aws.ts).
 */
export class TopicModel {
  /**
   * @param published where published messages go, in order
   * @param deliver what happens to each accepted message (default: it joins `published`)
   */
  /** Messages for one email approver (the approval links topic, message attribute `approver`), not pages. */
  readonly links: ApproverMessage[] = [];
  /** Approval requests published to a runbook's chat topics (Amazon Q Developer custom notifications), not pages. */
  readonly chat: Published[] = [];

  constructor(private readonly clock: ModelClock, readonly published: Published[], private readonly deliver: (message: Published) => void = (m) => published.push(m)) {}

  readonly operations: ModelOperations = {
    Publish: { command: PublishCommand, mutating: false, answer: (input: PublishInput) => this.publish(input) },
  };

  /** PublishResponse.MessageId: "Unique identifier assigned to the published message." */
  publish(input: PublishInput): { MessageId: string } {
    const at = new Date(this.clock.now()).toISOString();
    const approver = input.MessageAttributes?.approver?.StringValue;
    if (approver !== undefined) {
      this.links.push({ at, approver, subject: input.Subject, message: input.Message });
      return { MessageId: `l-${this.links.length}` };
    }
    if (input.MessageStructure === 'json') {
      this.chat.push({ at, subject: input.Subject, message: input.Message });
      return { MessageId: `c-${this.chat.length}` };
    }
    this.deliver({ at, subject: input.Subject, message: input.Message });
    return { MessageId: `m-${this.published.length}` };
  }
}
