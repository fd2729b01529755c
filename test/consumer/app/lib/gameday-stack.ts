import type { App } from 'aws-cdk-lib';
import { ShopStack } from './shop-stack';

/** The same stack for `medic gameday`: the game day simulates one account and region. */
export function gameDayStack(app: App): ShopStack {
  return new ShopStack(app, 'Shop', { env: { account: '111111111111', region: 'eu-west-1' } });
}
