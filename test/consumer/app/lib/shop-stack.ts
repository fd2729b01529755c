import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { EcsTaskRestartRunbook, MedicPlatform } from '@medic-runbooks/medic';

/** A newcomer's stack: their own ECS service and alarm, and medic's restart runbook attached to them. */
export class ShopStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { all: {} } });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, clusterName: 'shop', containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const task = new ecs.FargateTaskDefinition(this, 'ApiTask');
    task.addContainer('api', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'api' }) });
    const service = new ecs.FargateService(this, 'Api', { cluster, taskDefinition: task, serviceName: 'api', desiredCount: 2, minHealthyPercent: 100, circuitBreaker: { rollback: true } });
    const cpu = service.metricCpuUtilization().createAlarm(this, 'ApiCpu', { alarmName: 'shop-api-cpu', threshold: 90, evaluationPeriods: 3 });

    // medic: a platform, and the restart runbook on this service's alarm.
    const platform = new MedicPlatform(this, 'Medic', { escalationEmails: ['oncall@example.com'] });
    new EcsTaskRestartRunbook(this, 'ApiRestart', { platform, name: 'api-restart', mode: 'auto', services: [service], alarms: [cpu] });
  }
}
