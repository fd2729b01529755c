import { sha256Hex } from '../shared/canonical-json';
import type { RunbookSpec, Target, Trigger } from '../shared/types';
import { compactTime, isObject, MAX_EVENT_BYTES, sizeProblem, type ParsedAlarm } from './alarm-event';

/** The event's detail in words, e.g. `DaysToExpiry 20, CommonName example.com`: its scalar fields only. */
function describeDetail(detail: Record<string, unknown>): string | undefined {
  const fields = Object.entries(detail).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)).map(([k, v]) => `${k} ${String(v)}`);
  return fields.length ? fields.join(', ').slice(0, 500) : undefined;
}

/** Does this event come from the service event the runbook listens to (so it goes to this parser)? */
export function isRunbookServiceEvent(event: unknown, runbook: RunbookSpec): boolean {
  return !!runbook.eventTarget && isObject(event) && event.source === runbook.eventTarget.source;
}

/**
 * Reads an AWS service event that names its target in `resources`, such as ACM's
 * `ACM Certificate Approaching Expiration` or `ACM Certificate Renewal Action Required`: the
 * runbook's source and one of its detail types, this account and region, exactly one resource
 * matching the ARN pattern and the allow-list (or, with a tag allow-list, any such resource: the
 * runbook checks the tag before acting). The trigger is named by the event's own detail type. The
 * incident id is derived from runbook, resource and event time, so a redelivered event is a duplicate.
 */
export function parseResourceEvent(event: unknown, runbook: RunbookSpec): ParsedAlarm {
  const spec = runbook.eventTarget;
  const reject = (reason: string): ParsedAlarm => ({ ok: false, reason });
  if (!spec) return reject(`runbook ${runbook.name} is not started by service events`);
  const tooLarge = sizeProblem(event, 'the event', MAX_EVENT_BYTES);
  if (tooLarge) return reject(tooLarge);
  if (!isObject(event)) return reject('the event is not a JSON object');
  const detailType = event['detail-type'];
  if (event.source !== spec.source || typeof detailType !== 'string' || !spec.detailTypes.includes(detailType)) {
    return reject(`not a ${spec.detailTypes.map((t) => `"${t}"`).join(' or ')} event of ${spec.source} `
      + `(source ${JSON.stringify(String(event.source)).slice(0, 200)}, detail-type ${JSON.stringify(String(detailType)).slice(0, 200)})`);
  }
  if (event.account !== runbook.account) return reject(`the event is from account ${String(event.account)}; runbook ${runbook.name} acts only in ${runbook.account}`);
  if (event.region !== runbook.region) return reject(`the event is from region ${String(event.region)}; runbook ${runbook.name} acts only in ${runbook.region}`);
  const resources = Array.isArray(event.resources) ? event.resources : [];
  if (resources.length !== 1 || typeof resources[0] !== 'string') return reject('the event must name exactly one resource');
  const arn = resources[0];
  if (!new RegExp(`^(?:${spec.arnPattern})$`).test(arn)) return reject(`"${arn.slice(0, 300)}" is not a ${spec.type} ARN`);
  const [, partition, , region, account] = arn.split(':');
  if (partition !== runbook.partition || region !== runbook.region || account !== runbook.account) {
    return reject(`${spec.type} ${arn} is not in this stack's partition, region and account`);
  }
  if (!spec.allowed.includes(arn) && !spec.allowedByTag) return reject(`${spec.type} ${arn} is not in runbook ${runbook.name}'s allow-list`);
  const time = typeof event.time === 'string' ? Date.parse(event.time) : NaN;
  if (Number.isNaN(time)) return reject(`the event time "${String(event.time)}" is not a date`);
  const at = new Date(time).toISOString();
  const detail = isObject(event.detail) ? event.detail : {};
  const trigger: Trigger = {
    kind: 'event',
    source: spec.source,
    name: detailType,
    at,
    reason: describeDetail(detail),
  };
  const target: Target = { type: spec.type, id: arn, arn, region, account, dimensions: {} };
  const digest = sha256Hex(`${runbook.name}|${arn}|${at}`).slice(0, 12);
  return { ok: true, trigger, target, incidentId: `${runbook.name}-${compactTime(at)}-${digest}` };
}
