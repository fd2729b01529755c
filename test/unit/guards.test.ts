import { GetCalendarStateCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { killSwitchBlocks, readChangeCalendar, readKillSwitch } from '../../lambdas/shared/guards';

/**
 * The two guards read from SSM, as the ledger and a page quote them: the kill switch lets medic
 * act only on exactly `off` in both parameters, the change calendar only when it is OPEN, and
 * either one unreadable fails closed.
 */

const ssm = mockClient(SSMClient);
const SWITCHES = { killSwitch: { global: '/medic/kill-switch', runbook: '/medic/api-restart/kill-switch' } };

afterAll(() => ssm.restore());
beforeEach(() => ssm.reset());

const parameters = (values: Record<string, string | undefined>) =>
  ssm.on(GetParametersCommand).resolves({ Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })) });

describe('kill switch', () => {
  test('both parameters exactly "off": not engaged, and the ledger reason says so', async () => {
    parameters({ '/medic/kill-switch': 'off', '/medic/api-restart/kill-switch': 'off' });
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: false, reason: 'kill switches off' });
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input.Names).toEqual(['/medic/kill-switch', '/medic/api-restart/kill-switch']);
  });

  test('the stack-wide switch is read first: its value is the one quoted when both are on', async () => {
    parameters({ '/medic/kill-switch': 'on', '/medic/api-restart/kill-switch': 'on' });
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: true, reason: 'kill switch /medic/kill-switch is "on" (only exactly "off" lets medic act)' });
  });

  test('the runbook switch on alone engages it', async () => {
    parameters({ '/medic/kill-switch': 'off', '/medic/api-restart/kill-switch': 'on' });
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: true, reason: 'kill switch /medic/api-restart/kill-switch is "on" (only exactly "off" lets medic act)' });
  });

  test('a parameter SSM does not return (deleted, or a typo in its name) counts as on', async () => {
    parameters({ '/medic/kill-switch': 'off' });
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: true, reason: 'kill switch /medic/api-restart/kill-switch is missing (treated as on)' });
    ssm.reset();
    ssm.on(GetParametersCommand).resolves({});
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: true, reason: 'kill switch /medic/kill-switch is missing (treated as on)' });
  });

  test('a parameter without a value reads as the empty string, which is not "off"', async () => {
    parameters({ '/medic/kill-switch': undefined, '/medic/api-restart/kill-switch': 'off' });
    expect(await readKillSwitch(SWITCHES)).toEqual({ engaged: true, reason: 'kill switch /medic/kill-switch is "" (only exactly "off" lets medic act)' });
  });

  test.each([
    ['Off', ', which is not exactly "off"'],
    [' off', ', which is not exactly "off"'],
    ['off\n', ', which is not exactly "off"'],
    ['OFF ', ', which is not exactly "off"'],
    ['of', ''],
    ['', ''],
  ])('value %j engages it, and a look-alike of "off" is named as such', (value, lookalike) => {
    expect(killSwitchBlocks('/k', value)).toBe(`kill switch /k is ${JSON.stringify(value)}${lookalike} (only exactly "off" lets medic act)`);
  });

  test('SSM unreadable: GuardUnavailable (the caller fails closed), with the cause in the message', async () => {
    ssm.on(GetParametersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(readKillSwitch(SWITCHES)).rejects.toMatchObject({ name: 'Medic.GuardUnavailable', message: expect.stringMatching(/^kill switch could not be read: .*Rate exceeded/) });
  });
});

describe('change calendar', () => {
  test('none configured: open, and SSM is not called', async () => {
    expect(await readChangeCalendar(undefined)).toEqual({ open: true, reason: 'no change calendar configured' });
    expect(await readChangeCalendar('')).toEqual({ open: true, reason: 'no change calendar configured' });
    expect(ssm.commandCalls(GetCalendarStateCommand)).toHaveLength(0);
  });

  test('OPEN: open, naming the calendar', async () => {
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    expect(await readChangeCalendar('prod-freeze')).toEqual({ open: true, reason: 'change calendar prod-freeze is OPEN' });
    expect(ssm.commandCalls(GetCalendarStateCommand)[0].args[0].input).toEqual({ CalendarNames: ['prod-freeze'] });
  });

  test('CLOSED: a change freeze', async () => {
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    expect(await readChangeCalendar('prod-freeze')).toEqual({ open: false, reason: 'change calendar prod-freeze is CLOSED (change freeze)' });
  });

  test('no state in the answer: closed, in an unknown state', async () => {
    ssm.on(GetCalendarStateCommand).resolves({});
    expect(await readChangeCalendar('prod-freeze')).toEqual({ open: false, reason: 'change calendar prod-freeze is in an unknown state (change freeze)' });
  });

  test('unreadable: GuardUnavailable naming the calendar', async () => {
    ssm.on(GetCalendarStateCommand).rejects(Object.assign(new Error('no such calendar'), { name: 'InvalidDocument' }));
    await expect(readChangeCalendar('prod-freeze')).rejects.toMatchObject({ name: 'Medic.GuardUnavailable', message: expect.stringMatching(/^change calendar prod-freeze could not be read: .*no such calendar/) });
  });
});
