import { describe, expect, it } from 'vitest';
import type { HandlerFunction } from '../../infra/constructs/handler-function.ts';
import type { TrackerStack } from '../../infra/stack.ts';
import { ENV } from '../../shared/store/tables.ts';
import { logicalId, type Synthesized, synthesizeStages } from './synth.ts';

type Name = 'api' | 'recorder' | 'projector';
const handlers = (stack: TrackerStack): Record<Name, HandlerFunction> => ({
  api: stack.httpApi.handler,
  recorder: stack.recorder.handler,
  projector: stack.projector.handler,
});
const NAMES: Name[] = ['api', 'recorder', 'projector'];

const SIZING: Record<Name, { MemorySize: number; Timeout: number }> = {
  api: { MemorySize: 1024, Timeout: 10 },
  recorder: { MemorySize: 512, Timeout: 30 },
  projector: { MemorySize: 1024, Timeout: 60 },
};

describe('lambda functions', () => {
  const stages = synthesizeStages();

  const fnProps = (s: Synthesized, name: Name) =>
    s.template.toJSON().Resources[logicalId(s.stack, handlers(s.stack)[name].function)].Properties;

  it('deploys exactly the three handlers', () => {
    stages.dev.template.resourceCountIs('AWS::Lambda::Function', 3);
  });

  it.each(NAMES)('runs %s on ARM64 and Node.js 24 with explicit memory and timeout', (name) => {
    expect(fnProps(stages.dev, name)).toMatchObject({
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      ...SIZING[name],
    });
  });

  it.each(NAMES)('gives %s its own log group, kept a week in dev and three months in prod', (name) => {
    for (const [s, days, policy] of [
      [stages.dev, 7, 'Delete'],
      [stages.prod, 90, 'Retain'],
    ] as const) {
      const logGroupId = logicalId(s.stack, handlers(s.stack)[name].logGroup);
      expect(fnProps(s, name).LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
      const logGroup = s.template.toJSON().Resources[logGroupId];
      expect(logGroup.Properties.RetentionInDays).toBe(days);
      expect(logGroup.DeletionPolicy).toBe(policy);
    }
  });

  it('configures each handler with the shared variable names, and only the resources it uses', () => {
    const { stack } = stages.dev;
    const ref = (construct: Parameters<typeof logicalId>[1]) => ({ Ref: logicalId(stack, construct) });
    const common = { [ENV.stage]: 'dev', [ENV.logLevel]: 'debug', NODE_OPTIONS: '--enable-source-maps' };
    expect(fnProps(stages.dev, 'api').Environment.Variables).toEqual({
      ...common,
      [ENV.eventsTable]: ref(stack.tables.events),
      [ENV.projectionsTable]: ref(stack.tables.projections),
      [ENV.keysTable]: ref(stack.tables.keys),
      [ENV.busName]: ref(stack.eventBus.bus),
    });
    expect(fnProps(stages.dev, 'recorder').Environment.Variables).toEqual({
      ...common,
      [ENV.eventsTable]: ref(stack.tables.events),
    });
    expect(fnProps(stages.dev, 'projector').Environment.Variables).toEqual({
      ...common,
      [ENV.projectionsTable]: ref(stack.tables.projections),
    });
  });

  it('logs at info level in prod', () => {
    for (const name of NAMES) {
      expect(fnProps(stages.prod, name).Environment.Variables).toMatchObject({
        [ENV.stage]: 'prod',
        [ENV.logLevel]: 'info',
      });
    }
  });

  it.each(NAMES)('runs %s under a role of its own with no managed policy', (name) => {
    const { stack, template } = stages.dev;
    const roleId = logicalId(stack, handlers(stack)[name].role);
    expect(fnProps(stages.dev, name).Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const role = template.toJSON().Resources[roleId].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });
});
