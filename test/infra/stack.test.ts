import { beforeAll, describe, expect, it } from 'vitest';
import { stageConfig } from '../../infra/stage.ts';
import { alarmEmail, createTrackerApp } from '../../infra/tracker-app.ts';
import { BUS } from '../../shared/bus/routes.ts';
import { logicalId, STUB_CODE, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

describe('stack', () => {
  let dev: Synthesized;
  beforeAll(() => {
    dev = synthesize('dev');
  }, SYNTH_TIMEOUT);

  it('outputs the API URL, the bus name and the table names', () => {
    const { stack, template } = dev;
    const outputs = template.toJSON().Outputs;
    expect(outputs.ApiUrl.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: logicalId(stack, stack.httpApi.api) },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/',
        ],
      ],
    });
    expect(outputs.EventBusName.Value).toEqual({ Ref: logicalId(stack, stack.eventBus.bus) });
    expect(outputs.EventsTableName.Value).toEqual({ Ref: logicalId(stack, stack.tables.events) });
    expect(outputs.ProjectionsTableName.Value).toEqual({ Ref: logicalId(stack, stack.tables.projections) });
    expect(outputs.KeysTableName.Value).toEqual({ Ref: logicalId(stack, stack.tables.keys) });
  });

  it('outputs the queues a re-drive needs and the alarm topic', () => {
    const { stack, template } = dev;
    const outputs = template.toJSON().Outputs;
    const arn = (construct: Parameters<typeof logicalId>[1]) => ({
      'Fn::GetAtt': [logicalId(stack, construct), 'Arn'],
    });
    expect(outputs.RecorderQueueArn.Value).toEqual(arn(stack.recorder.queue));
    expect(outputs.RecorderDeadLetterQueueArn.Value).toEqual(arn(stack.recorder.deadLetterQueue));
    expect(outputs.RecorderDeadLetterQueueUrl.Value).toEqual({
      Ref: logicalId(stack, stack.recorder.deadLetterQueue),
    });
    expect(outputs.ProjectorFailureQueueUrl.Value).toEqual({
      Ref: logicalId(stack, stack.projector.failureQueue),
    });
    expect(outputs.AlarmTopicArn.Value).toEqual({ Ref: logicalId(stack, stack.alarms.topic) });
  });

  it(
    'is named after the stage, environment-agnostic, and protected from deletion only in prod',
    () => {
      expect(dev.stack.stackName).toBe(`${BUS.name}-dev`);
      expect(dev.stack.terminationProtection).toBe(false);
      const { stack } = createTrackerApp({ context: { stage: 'prod' }, handlerCode: STUB_CODE });
      expect(stack.stackName).toBe(`${BUS.name}-prod`);
      expect(stack.terminationProtection).toBe(true);
      expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    },
    SYNTH_TIMEOUT,
  );

  it(
    'defaults to the dev stage',
    () => {
      const { stack } = createTrackerApp({ handlerCode: STUB_CODE });
      expect(stack.stackName).toBe(`${BUS.name}-dev`);
    },
    SYNTH_TIMEOUT,
  );
});

describe('context', () => {
  it(
    'accepts only the dev and prod stages',
    () => {
      expect(stageConfig('dev').name).toBe('dev');
      expect(stageConfig('prod').name).toBe('prod');
      for (const bad of ['staging', 'Prod', '', 1]) expect(() => stageConfig(bad)).toThrow(/unknown stage/);
      expect(() => createTrackerApp({ context: { stage: 'qa' }, handlerCode: STUB_CODE })).toThrow(
        /-c stage=dev or -c stage=prod/,
      );
    },
    SYNTH_TIMEOUT,
  );

  it('takes an optional alarm e-mail and refuses anything that is not an address', () => {
    expect(alarmEmail(undefined)).toBeUndefined();
    expect(alarmEmail('')).toBeUndefined();
    expect(alarmEmail('ops@example.com')).toBe('ops@example.com');
    for (const bad of ['ops', 'ops@', 'a b@example.com', 42])
      expect(() => alarmEmail(bad)).toThrow(/alarmEmail/);
  });
});
