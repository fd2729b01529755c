#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ShopStack } from '../lib/shop-stack';

// As `cdk init` leaves it: no env (an environment-agnostic stack), with cdk-nag's checks.
const app = new App();
new ShopStack(app, 'Shop');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
