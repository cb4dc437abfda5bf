import { describe, expect, it } from 'vitest';
import { toCdkEventPattern } from '../../infra/constructs/event-bus.ts';
import { BUS, ROUTES } from '../../shared/bus/routes.ts';
import { logicalId, onlyResource, queuePolicyStatements, synthesizeStages } from './synth.ts';

describe('event bus', () => {
  const stages = synthesizeStages();

  it('is a custom bus named after the shared bus name and the stage', () => {
    expect(onlyResource(stages.dev.template, 'AWS::Events::EventBus').properties.Name).toBe(
      `${BUS.name}-dev`,
    );
    expect(onlyResource(stages.prod.template, 'AWS::Events::EventBus').properties.Name).toBe(
      `${BUS.name}-prod`,
    );
  });

  it('archives everything the API publishes on it, longer in prod', () => {
    const busId = logicalId(stages.dev.stack, stages.dev.stack.eventBus.bus);
    const archive = onlyResource(stages.dev.template, 'AWS::Events::Archive').properties;
    expect(archive.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(archive.EventPattern).toEqual({ source: [BUS.source] });
    expect(archive.RetentionDays).toBe(7);
    expect(onlyResource(stages.prod.template, 'AWS::Events::Archive').properties.RetentionDays).toBe(365);
  });

  it('has one rule per shared route, on the bus, whose event pattern equals the route’s', () => {
    const { stack, template } = stages.dev;
    const rules = template.findResources('AWS::Events::Rule');
    expect(Object.keys(rules)).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const rule = rules[logicalId(stack, stack.eventBus.rules.get(route.id)!)]!;
      expect(rule, route.id).toBeDefined();
      expect(rule.Properties.EventPattern).toEqual(route.pattern);
      expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(stack, stack.eventBus.bus) });
      expect(rule.Properties.Description).toBe(route.description);
    }
  });

  it('delivers recorder routes to the recorder queue, with retries and the recorder DLQ behind them', () => {
    const { stack, template } = stages.dev;
    const queueId = logicalId(stack, stack.recorder.queue);
    const dlqId = logicalId(stack, stack.recorder.deadLetterQueue);
    for (const route of ROUTES.filter((r) => r.target === 'recorder')) {
      const rule = template.toJSON().Resources[logicalId(stack, stack.eventBus.rules.get(route.id)!)];
      expect(rule.Properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        },
      ]);
    }
  });

  it('lets only its rules send to the recorder queue and its DLQ', () => {
    const { stack, template } = stages.dev;
    const ruleArns = ROUTES.map((r) => ({
      'Fn::GetAtt': [logicalId(stack, stack.eventBus.rules.get(r.id)!), 'Arn'],
    }));
    for (const queue of [stack.recorder.queue, stack.recorder.deadLetterQueue]) {
      const allows = queuePolicyStatements(template, logicalId(stack, queue)).filter(
        (statement) => statement.Effect === 'Allow',
      );
      expect(allows.map(({ Principal, Condition }) => ({ Principal, Condition }))).toEqual(
        ruleArns.map((arn) => ({
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': arn } },
        })),
      );
      for (const allow of allows) expect([allow.Action].flat()).toContain('sqs:SendMessage');
    }
  });
});

describe('toCdkEventPattern', () => {
  it('renames detail-type, which CDK spells detailType, and keeps every other field as it is', () => {
    expect(
      toCdkEventPattern({ source: ['a'], 'detail-type': [{ prefix: 'b.' }], detail: { 'x-y': [1] } }),
    ).toEqual({ source: ['a'], detailType: [{ prefix: 'b.' }], detail: { 'x-y': [1] } });
  });
});
