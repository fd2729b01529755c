import type { World } from '../world';
import { installPlatformServices } from './core';
import { installEcs } from './ecs';
import { installAutoScaling } from './auto-scaling';
import { installRds } from './rds';
import { installEc2Disk } from './ec2-disk';
import { installAcm } from './acm';

/**
 * Installs every simulated service. Each reads its own part of the scenario's `world` and
 * answers the SDK calls of the handlers that use it.
 */
export function installServices(world: World): void {
  installPlatformServices(world);
  installEcs(world);
  installAutoScaling(world);
  installRds(world);
  installEc2Disk(world);
  installAcm(world);
}
