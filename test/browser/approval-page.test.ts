import 'aws-sdk-client-mock-jest';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { InvokeCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import puppeteer, { type Browser, type HTTPResponse, type Page } from 'puppeteer-core';
import { handler as approvalFunction } from '../../lambdas/approval/index';
import { readApproval } from '../../lambdas/approval/store';
import { handler as pageFunction } from '../../lambdas/approval-page/index';
import { dynamo } from '../../lambdas/shared/clients';
import { readIncident } from '../../lambdas/shared/ledger';
import { planHash } from '../../lambdas/shared/plan-hash';
import type { Plan, WorkflowState } from '../../lambdas/shared/types';
import { LocalDynamo } from '../../lib/local/dynalite';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT } from '../support/synth';
import { freshTables } from '../support/tables';

/**
 * The one-click approval page in a real headless browser (Debian's chromium, driven by
 * puppeteer-core) with JavaScript disabled: a local HTTP server stands in for the page function's
 * URL and runs the page function, whose Lambda invoke runs the approval function in-process
 * against dynalite. Step Functions and SNS are mocked. Screenshots of every step are kept in
 * test-artifacts/browser/.
 *
 * Without a browser the suite is skipped with one line naming the package, except with CI set,
 * where a missing browser fails it (.ci/run installs chromium).
 */

const CHROMIUM = process.env.MEDIC_CHROMIUM || '/usr/bin/chromium';
const INSTALL = "install Debian's chromium package (apt-get install -y chromium) or set MEDIC_CHROMIUM";
const browserMissing = (() => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    return true;
  }
})();
if (browserMissing && !process.env.CI) process.stderr.write(`browser test skipped: ${INSTALL} (no executable at ${CHROMIUM})\n`);
const suite = browserMissing && !process.env.CI ? describe.skip : describe;

/** CI is a loaded 2-core machine: generous bounds, and no fixed sleeps anywhere. */
const LAUNCH_MS = 120_000;
const STEP_MS = 60_000;
const TEST_MS = 300_000;
const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-artifacts', 'browser');

// The few DOM names the functions run in the page use (the project's tsconfig has no DOM lib).
declare const document: { activeElement: unknown };
declare function getComputedStyle(element: unknown): { backgroundColor: string };
type Rendered = { innerText: string };
type Field = { validity: { valueMissing: boolean } };

const sfn = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const lambdaMock = mockClient(LambdaClient);
const local = new LocalDynamo();

const CAROL = 'carol@example.com';
const DAN = 'dan@example.com';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/medic-approvers`;
const PAGE_URL = 'https://page-id.lambda-url.eu-west-1.on.aws/';
const LINKS_TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:medic-approval-links`;

const PLAN: Plan = {
  decision: 'act', reason: 'service unhealthy: 2 of 4 tasks failing', summary: 'StopTask on t1, t2',
  details: { running: 4, unhealthy: ['t1', 't2'] },
  plannedCalls: [{ batch: 0, service: 'ecs', operation: 'StopTask', target: 't1' }, { batch: 0, service: 'ecs', operation: 'StopTask', target: 't2' }],
};

let incidents = 0;
function linkState(): WorkflowState {
  const incidentId = `api-restart-20261122T031722Z-browser${++incidents}`;
  return workflowState({
    runbook: ecsRunbookSpec({ mode: 'approve', approval: { approvers: [ROLE, CAROL, DAN], minApprovals: 1, timeoutSeconds: 1800 } }),
    incident: receivedIncident({ incidentId, mode: 'approve' }),
    plan: PLAN,
  });
}

/** The link each approver was sent (read from the links topic's messages), moved onto the local server. */
function linksSent(): Record<string, string> {
  const links: Record<string, string> = {};
  for (const call of snsMock.commandCalls(PublishCommand)) {
    const input = call.args[0].input;
    if (input.TopicArn !== LINKS_TOPIC) continue;
    const emailed = new URL(/https:\/\/\S+\/links\/\S+/.exec(input.Message!)![0]);
    links[input.MessageAttributes!.approver.StringValue!] = `${origin}${emailed.pathname}`;
  }
  return links;
}

/** Every request the browser made of the local server, in order. */
const seen: Array<{ method: string; path: string; body: string }> = [];
let server: Server | undefined;
let origin = '';
let browser: Browser | undefined;

/** The page function's URL, locally: each request becomes a function URL event for the page function. */
async function startServer(): Promise<void> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method, path: url.pathname, body });
      const event = {
        version: '2.0', rawPath: url.pathname, rawQueryString: url.search.slice(1), headers: req.headers,
        ...(body ? { body } : {}), isBase64Encoded: false, requestContext: { http: { method, path: url.pathname } },
      } as unknown as LambdaFunctionURLEvent;
      pageFunction(event).then((out) => {
        const page = out as { statusCode: number; headers?: Record<string, string>; body?: string };
        res.writeHead(page.statusCode, page.headers ?? {});
        res.end(page.body ?? '');
      }, (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`the page function threw: ${error.message}`);
      });
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function newPage(): Promise<Page> {
  const page = await browser!.newPage();
  await page.setJavaScriptEnabled(false); // the page must work without any script
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  return page;
}

const shot = (page: Page, step: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${step}.png`), fullPage: true });
const visibleText = (page: Page) => page.$eval('body', (body) => (body as unknown as Rendered).innerText);
const answerText = (page: Page) => page.$eval('#answer', (p) => (p as unknown as Rendered).innerText);

/**
 * The button with this text. (Element handles, not locators: a locator waits for animation frames,
 * which never come in a page with JavaScript disabled.)
 */
const button = (page: Page, text: string) => page.waitForSelector(`button::-p-text(${text})`, { visible: true });

/** Clicks the button with this text and returns the response of the navigation it starts. */
async function submit(page: Page, text: string): Promise<HTTPResponse> {
  const target = (await button(page, text))!;
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), target.click()]);
  return response!;
}

const request = (state: WorkflowState) => approvalFunction({ action: 'request', taskToken: `token-${state.incident!.incidentId}`, state, pageUrl: PAGE_URL });
const item = (state: WorkflowState) => readApproval(process.env.MEDIC_LIMITER_TABLE!, state.incident!.incidentId);
const phases = async (state: WorkflowState) => (await readIncident(process.env.MEDIC_LEDGER_TABLE!, state.incident!.incidentId)).map((e) => e.phase);

suite('the approval page in a headless browser (chromium, JavaScript off)', () => {
  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI is set but there is no browser at ${CHROMIUM}: ${INSTALL}. .ci/run installs it.`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await local.start();
    await startServer();
    browser = await puppeteer.launch({
      executablePath: CHROMIUM, headless: true, timeout: LAUNCH_MS, protocolTimeout: LAUNCH_MS,
      // As root (containers, CI) chromium needs --no-sandbox; a container's small /dev/shm can crash it.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  }, LAUNCH_MS + STEP_MS);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    sfn.restore();
    snsMock.restore();
    lambdaMock.restore();
    dynamo().destroy();
    await local.stop();
  }, STEP_MS);

  beforeEach(async () => {
    await freshTables(local, 'browser');
    process.env.MEDIC_APPROVAL_LINKS_TOPIC = LINKS_TOPIC;
    process.env.MEDIC_APPROVAL_FUNCTION = 'medic-approval';
    seen.length = 0;
    sfn.reset();
    snsMock.reset();
    lambdaMock.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    // The page function's invoke runs the approval function here, with exactly the payload it forwards.
    lambdaMock.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
      expect(input.FunctionName).toBe('medic-approval');
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      const out = await approvalFunction(payload);
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(out)) as never };
    });
  });

  test('open the link, see the plan, approve, see the confirmation; the link then refuses a second use', async () => {
    const state = linkState();
    await request(state);
    const link = linksSent()[CAROL];
    const page = await newPage();
    const problems: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text()); });
    try {
      const opened = (await page.goto(link, { waitUntil: 'load' }))!;
      expect(opened.status()).toBe(200);
      expect(opened.headers()['content-security-policy']).toMatch(/^default-src 'none'/);
      expect(await page.title()).toBe('medic: approve api-restart?');
      await page.waitForSelector('#plan-hash', { visible: true });
      const text = await visibleText(page);
      for (const shown of [planHash(state), 'ecs StopTask', 't1', 't2', 'StopTask on t1, t2', CAROL, 'prod-api-5xx', '0 of 1 approval(s) so far']) {
        expect([shown, text.includes(shown)]).toEqual([shown, true]);
      }
      expect(await page.$eval('#plan-hash', (code) => code.textContent)).toBe(planHash(state));
      // The inline style is allowed by the policy's hash (a blocked style would leave the button grey and log an error).
      expect(await page.$eval('button.approve', (b) => getComputedStyle(b).backgroundColor)).toBe('rgb(10, 107, 45)');
      await shot(page, 'approve-1-plan');

      // Opening the link (and whatever else the browser fetched, such as a favicon) decided nothing.
      expect(seen.every((r) => r.method === 'GET')).toBe(true);
      expect(seen.filter((r) => r.path === new URL(link).pathname)).toHaveLength(1);
      expect(await item(state)).toMatchObject({ status: 'pending', approvals: {} });
      expect(await phases(state)).not.toContain('approved');
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 0);

      await page.type('#comment', 'checked in the browser');
      const answered = await submit(page, 'Approve this plan');
      expect(answered.status()).toBe(200);
      expect(answered.url()).toBe(link);
      expect(await page.$eval('h1', (h) => h.textContent)).toBe('Approved');
      expect(await answerText(page)).toMatch(/Approved: 1 of 1 approval\(s\); medic proceeds/);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 0);
      const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
      expect(output.approvals).toEqual([{ principal: CAROL, at: expect.any(String), comment: 'checked in the browser' }]);
      const posted = seen.filter((r) => r.method === 'POST');
      expect(posted).toHaveLength(1);
      expect(Object.fromEntries(new URLSearchParams(posted[0].body))).toEqual({ planHash: planHash(state), decision: 'approve', comment: 'checked in the browser' });
      await shot(page, 'approve-2-confirmation');
      // No error in the console so far: nothing was refused by the content security policy.
      expect(problems).toEqual([]);

      const again = (await page.goto(link, { waitUntil: 'load' }))!;
      expect(again.status()).toBe(409);
      expect(await page.$eval('h1', (h) => h.textContent)).toBe('Link already used');
      expect(await answerText(page)).toMatch(/^You \(carol@example\.com\) approved this plan at /);
      expect(await page.$$('form')).toHaveLength(0);
      await shot(page, 'approve-3-link-already-used');
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    } finally {
      await page.close();
    }
  }, TEST_MS);

  test('reject: the browser blocks an empty reason; with one, the plan is rejected and the task failed', async () => {
    const state = linkState();
    await request(state);
    const link = linksSent()[CAROL];
    const page = await newPage();
    try {
      expect((await page.goto(link, { waitUntil: 'load' }))!.status()).toBe(200);
      await page.waitForSelector('form#reject', { visible: true });
      await shot(page, 'reject-1-plan');

      // An empty reason: the required textarea stops the submission in the browser; nothing is sent.
      await (await button(page, 'Reject'))!.click();
      // The browser's own validation ran: it focused the empty required field (and showed its message).
      expect(await page.$eval('#reason', (area) => area === document.activeElement && (area as unknown as Field).validity.valueMissing)).toBe(true);
      await shot(page, 'reject-2-reason-required');

      await page.type('#reason', 'deploy in progress');
      const answered = await submit(page, 'Reject');
      expect(answered.status()).toBe(200);
      expect(await page.$eval('h1', (h) => h.textContent)).toBe('Rejected');
      // The empty attempt never reached the server: the only POST is the one with the reason.
      const posted = seen.filter((r) => r.method === 'POST');
      expect(posted).toHaveLength(1);
      expect(Object.fromEntries(new URLSearchParams(posted[0].body))).toEqual({ planHash: planHash(state), decision: 'reject', reason: 'deploy in progress' });
      expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      expect(JSON.parse(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!)).toEqual({ principal: CAROL, reason: 'deploy in progress' });
      expect(await phases(state)).toContain('approval-rejected');
      await shot(page, 'reject-3-rejected');

      // The other approver's link has nothing left to answer.
      const dans = (await page.goto(linksSent()[DAN], { waitUntil: 'load' }))!;
      expect(dans.status()).toBe(409);
      expect(await page.$eval('h1', (h) => h.textContent)).toBe('Already rejected');
      await shot(page, 'reject-4-other-link-already-rejected');
    } finally {
      await page.close();
    }
  }, TEST_MS);
});
