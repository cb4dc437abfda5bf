import type { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { beforeAll } from 'vitest';
import type { TrackerStack } from '../../infra/stack.ts';
import type { StageName } from '../../infra/stage.ts';
import { createTrackerApp } from '../../infra/tracker-app.ts';

/** Synthesis loads cdk-nag's rules (and CloudFormation's schemas) on first use: give `beforeAll` time. */
export const SYNTH_TIMEOUT = 120_000;

/** Stands in for the esbuild bundles where a test only looks at the template's shape. */
export const STUB_CODE = Code.fromInline('export const handler = async () => ({});');

export interface Synthesized {
  app: App;
  stack: TrackerStack;
  template: Template;
}

/**
 * Builds the app as `cdk synth` does (cdk-nag included, so this throws on an unacknowledged finding) and returns
 * the stack's template. `bundle: true` bundles the real handlers with esbuild (about a second each).
 * CDK's built-in CloudFormation schema validation costs several seconds a synthesis, so only the tests that
 * mirror `cdk synth` end to end (`validate: true`) run it.
 */
export function synthesize(
  stage: StageName,
  options: { alarmEmail?: string; bundle?: boolean; validate?: boolean } = {},
): Synthesized {
  const context: Record<string, string> = { stage };
  if (options.alarmEmail) context.alarmEmail = options.alarmEmail;
  const { app, stack } = createTrackerApp({
    context,
    handlerCode: options.bundle ? undefined : STUB_CODE,
    builtinCloudFormationValidation: options.validate ?? false,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * The dev and prod stacks, synthesized once for the calling test file (in its `beforeAll`): read them as
 * `stages.dev` and `stages.prod` inside the tests.
 */
export function synthesizeStages(): { readonly dev: Synthesized; readonly prod: Synthesized } {
  const stages: { dev?: Synthesized; prod?: Synthesized } = {};
  beforeAll(() => {
    stages.dev = synthesize('dev');
    stages.prod = synthesize('prod');
  }, SYNTH_TIMEOUT);
  return {
    get dev() {
      return stages.dev as Synthesized;
    },
    get prod() {
      return stages.prod as Synthesized;
    },
  };
}

/** The template's logical id of a construct's CloudFormation resource (its default child). */
export function logicalId(stack: TrackerStack, construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return stack.getLogicalId(resource as CfnElement);
}

export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The one resource of a type, failing the test when there is not exactly one. */
export function onlyResource(
  template: Template,
  type: string,
): { id: string; properties: Record<string, unknown> } {
  const entries = Object.entries(resourcesOfType(template, type));
  if (entries.length !== 1) throw new Error(`expected one ${type}, found ${entries.length}`);
  const [id, resource] = entries[0]!;
  return { id, properties: resource.Properties ?? {} };
}

export type PolicyStatementJson = Record<string, unknown>;

/** The statements of the resource policy attached to a queue. */
export function queuePolicyStatements(template: Template, queueLogicalId: string): PolicyStatementJson[] {
  const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find(
    (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueLogicalId }]),
  );
  if (!policy) throw new Error(`no queue policy for ${queueLogicalId}`);
  return policy.Properties.PolicyDocument.Statement;
}
