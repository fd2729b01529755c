import { updateVersioned, type Versioned } from './limiter';

/**
 * Storms page once. When many incidents of one runbook are denied within minutes (an alarm storm
 * hitting the blast-radius cap, the rate limit, a kill switch), the first denial pages at once and
 * opens a digest window; the denials after it join the digest instead of paging, and the first
 * incident's execution waits out the window and sends one page listing them.
 */
export interface DigestMember {
  readonly incidentId: string;
  readonly target: string;
  readonly category: string;
  readonly reason: string;
  readonly at: string;
}

interface DigestItem extends Versioned {
  readonly owner: string;
  readonly openedAt: number;
  readonly until: number;
  readonly closed: boolean;
  readonly members: DigestMember[];
  /** Members beyond the listed ones (the item stays far below DynamoDB's 400 KB). */
  readonly unlisted: number;
  readonly expiresAt: number;
  /** A window that ended but whose owner has not collected it yet (so a new window cannot lose its members). */
  readonly previous?: { readonly owner: string; readonly openedAt: number; readonly members: DigestMember[]; readonly unlisted: number };
}

/** The digest page lists at most this many denials; the rest are counted. */
export const MAX_DIGEST_LISTED = 100;

const key = (runbook: string): string => `DIGEST#${runbook}`;

export type DigestRole =
  | { readonly role: 'owner'; readonly until: string }
  | { readonly role: 'member'; readonly owner: string; readonly until: string };

/** Opens the runbook's digest window (this incident pages and later sends the digest) or joins the open one. */
export async function joinDigest(table: string, runbook: string, member: DigestMember, windowSeconds: number, now = Date.now()): Promise<DigestRole> {
  return updateVersioned<DigestItem, DigestRole>(table, key(runbook), (current) => {
    const open = current && !current.closed && current.until > now;
    if (open && current.owner === member.incidentId) return { result: { role: 'owner', until: new Date(current.until).toISOString() } };
    if (open && current.members.some((m) => m.incidentId === member.incidentId)) {
      return { result: { role: 'member', owner: current.owner, until: new Date(current.until).toISOString() } };
    }
    if (open) {
      const listed = current.members.length < MAX_DIGEST_LISTED;
      return {
        next: { ...current, members: listed ? [...current.members, member] : current.members, unlisted: current.unlisted + (listed ? 0 : 1) },
        result: { role: 'member', owner: current.owner, until: new Date(current.until).toISOString() },
      };
    }
    const until = now + windowSeconds * 1000;
    const uncollected = current && !current.closed && current.members.length + current.unlisted > 0
      ? { owner: current.owner, openedAt: current.openedAt, members: current.members, unlisted: current.unlisted } : undefined;
    return {
      next: {
        owner: member.incidentId, openedAt: now, until, closed: false, members: [], unlisted: 0, expiresAt: Math.floor(until / 1000) + 86400,
        ...(uncollected ? { previous: uncollected } : {}),
      },
      result: { role: 'owner', until: new Date(until).toISOString() },
    };
  });
}

export interface ClosedDigest {
  readonly members: DigestMember[];
  readonly unlisted: number;
  readonly openedAt?: string;
}

/** Closes the owner's window and returns who joined it (nothing when another window replaced it). */
export async function closeDigest(table: string, runbook: string, owner: string): Promise<ClosedDigest> {
  return updateVersioned<DigestItem, ClosedDigest>(table, key(runbook), (current) => {
    const previous = current?.previous;
    if (previous && previous.owner === owner) {
      const { previous: _collected, ...rest } = current!;
      return { next: rest, result: { members: previous.members, unlisted: previous.unlisted, openedAt: new Date(previous.openedAt).toISOString() } };
    }
    if (!current || current.owner !== owner) return { result: { members: [], unlisted: 0 } };
    const result = { members: current.members, unlisted: current.unlisted, openedAt: new Date(current.openedAt).toISOString() };
    if (current.closed) return { result };
    return { next: { ...current, closed: true }, result };
  });
}
