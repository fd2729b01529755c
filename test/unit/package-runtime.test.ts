import { TemplateResolver } from '../../lib/local/template-workflow';
import { matchesPattern } from '../../lib/gameday/routing';
import { GAME_DAY_PACKAGES, requireGameDayPackages } from '../../lib/cli/game-day-packages';
import { handlerModule } from '../../lib/platform/function';
import { handlerNames, PACKAGE_ROOT } from '../../lib/package/handler-bundles';
import * as fs from 'node:fs';
import * as path from 'node:path';

describe('the game-day packages (optional peers of the published package)', () => {
  test('all present: nothing to say', () => {
    expect(() => requireGameDayPackages('medic gameday', (name) => name)).not.toThrow();
  });

  test('missing ones are named in one line with the install command and the tested versions', () => {
    const missing = new Set(['dynalite', '@aws-sdk/util-dynamodb']);
    const resolve = (name: string) => {
      if (missing.has(name)) throw new Error(`Cannot find module '${name}'`);
      return name;
    };
    expect(() => requireGameDayPackages('medic gameday', resolve)).toThrow(
      'medic gameday runs offline on packages that are not installed (dynalite, @aws-sdk/util-dynamodb): '
      + `npm install --save-dev dynalite@${GAME_DAY_PACKAGES.dynalite} @aws-sdk/util-dynamodb@${GAME_DAY_PACKAGES['@aws-sdk/util-dynamodb']}`,
    );
  });

  test('the versions named are the ones this clone is tested with', () => {
    for (const [name, version] of Object.entries(GAME_DAY_PACKAGES)) {
      const installed = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(`${name}@${installed.version}`).toBe(`${name}@${version}`);
    }
  });
});

describe('handlers and resources as the offline runners find them', () => {
  test('every handler folder has a module the runners can load, from sources or compiled', () => {
    const names = handlerNames();
    expect(names).toEqual(expect.arrayContaining(['admit', 'validate', 'ledger-writer', 'ecs-task-restart']));
    expect(names).not.toContain('shared');
    for (const name of names) expect(require.resolve(handlerModule(`${name}/index.ts`))).toBe(path.join(PACKAGE_ROOT, 'lambdas', name, 'index.ts'));
  });

  const resources = {
    Cluster: { Type: 'AWS::ECS::Cluster', Properties: { ClusterName: 'shop' } },
    Api: { Type: 'AWS::ECS::Service', Properties: { Cluster: { Ref: 'Cluster' }, ServiceName: 'api' } },
    Unnamed: { Type: 'AWS::ECS::Service', Properties: { Cluster: { Ref: 'Cluster' } } },
    Cpu: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'shop-api-cpu' } },
    Group: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: {} },
  };
  const resolver = new TemplateResolver(resources, { account: '111111111111', region: 'eu-west-1' });

  test('a resource defined in the stack resolves to the name its template gives it, or its logical id', () => {
    expect(resolver.resolve({ Ref: 'Cluster' })).toBe('shop');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Api', 'Name'] })).toBe('api');
    expect(resolver.resolve({ Ref: 'Api' })).toBe('arn:aws:ecs:eu-west-1:111111111111:service/shop/api');
    expect(resolver.resolve({ Ref: 'Unnamed' })).toBe('arn:aws:ecs:eu-west-1:111111111111:service/shop/Unnamed');
    expect(resolver.resolve({ Ref: 'Group' })).toBe('Group');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Cpu', 'Arn'] })).toBe('arn:aws:cloudwatch:eu-west-1:111111111111:alarm:shop-api-cpu');
  });

  test('an alarm rule naming an in-stack alarm matches that alarm\'s events once resolved, and only those', () => {
    const pattern = resolver.resolve({ source: ['aws.cloudwatch'], resources: [{ 'Fn::GetAtt': ['Cpu', 'Arn'] }] }) as Record<string, unknown>;
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', resources: ['arn:aws:cloudwatch:eu-west-1:111111111111:alarm:shop-api-cpu'] })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', resources: ['arn:aws:cloudwatch:eu-west-1:111111111111:alarm:other'] })).toBe(false);
  });
});
