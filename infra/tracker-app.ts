import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { BUS } from '../shared/bus/routes.ts';
import { TrackerStack } from './stack.ts';
import { stageConfig } from './stage.ts';

export interface TrackerAppOptions extends AppProps {
  /** Replaces the bundled handlers with this code: for template tests only. */
  readonly handlerCode?: lambda.Code;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads the optional `alarmEmail` context value (`-c alarmEmail=ops@example.com`). */
export function alarmEmail(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && EMAIL.test(value)) return value;
  throw new Error(`alarmEmail ${JSON.stringify(value)} is not an e-mail address`);
}

/**
 * The CDK app: one stack for the stage named by the `stage` context value, checked by cdk-nag's AWS Solutions
 * and Serverless packs (synth fails on any finding not acknowledged with a reason).
 *
 * @example
 * const { app } = createTrackerApp({ context: { stage: 'prod' } });
 * app.synth();
 */
export function createTrackerApp(options: TrackerAppOptions = {}): { app: App; stack: TrackerStack } {
  const { handlerCode, ...appProps } = options;
  const app = new App(appProps);
  const stage = stageConfig(app.node.tryGetContext('stage') ?? 'dev');

  const stack = new TrackerStack(app, `${BUS.name}-${stage.name}`, {
    stage,
    alarmEmail: alarmEmail(app.node.tryGetContext('alarmEmail')),
    handlerCode,
    description: `h20-tracker (${stage.name}): event-sourced tracker of data-centre GPU supply`,
    terminationProtection: stage.name === 'prod',
  });
  Tags.of(app).add('project', BUS.name);
  Tags.of(app).add('stage', stage.name);

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
