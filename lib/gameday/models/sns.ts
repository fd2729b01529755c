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

/**
 * The escalation topic (SNS Publish). Used by the game-day world (lib/gameday/services/core.ts) and
 * the workflow tests (test/support/fake-aws.ts).
 */
export class TopicModel {
  /**
   * @param published where published messages go, in order
   * @param deliver what happens to each accepted message (default: it joins `published`)
   */
  constructor(private readonly clock: ModelClock, readonly published: Published[], private readonly deliver: (message: Published) => void = (m) => published.push(m)) {}

  readonly operations: ModelOperations = {
    Publish: { command: PublishCommand, mutating: false, answer: (input: { Subject?: string; Message?: string }) => this.publish(input) },
  };

  /** PublishResponse.MessageId: "Unique identifier assigned to the published message." */
  publish(input: { Subject?: string; Message?: string }): { MessageId: string } {
    this.deliver({ at: new Date(this.clock.now()).toISOString(), subject: input.Subject, message: input.Message });
    return { MessageId: `m-${this.published.length}` };
  }
}
