import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_FORMAT } from '../../infra/constructs/http-api.ts';
import { logicalId, onlyResource, synthesizeStages } from './synth.ts';

describe('HTTP API', () => {
  const stages = synthesizeStages();

  it('is an API Gateway HTTP API', () => {
    expect(onlyResource(stages.dev.template, 'AWS::ApiGatewayV2::Api').properties.ProtocolType).toBe('HTTP');
  });

  it('sends every request to the Hono Lambda (payload format 2.0)', () => {
    const { stack, template } = stages.dev;
    const integration = onlyResource(template, 'AWS::ApiGatewayV2::Integration');
    expect(integration.properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(stack, stack.httpApi.handler.function), 'Arn'] },
    });
    expect(onlyResource(template, 'AWS::ApiGatewayV2::Route').properties).toMatchObject({
      RouteKey: '$default',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration.id }]] },
    });
  });

  it('deploys a single auto-deployed $default stage, throttled per stage', () => {
    expect(onlyResource(stages.dev.template, 'AWS::ApiGatewayV2::Stage').properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    expect(onlyResource(stages.prod.template, 'AWS::ApiGatewayV2::Stage').properties).toMatchObject({
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('writes a JSON access log line per request to a log group with retention', () => {
    const { stack, template } = stages.dev;
    const logGroupId = logicalId(stack, stack.httpApi.accessLogs);
    const { AccessLogSettings } = onlyResource(template, 'AWS::ApiGatewayV2::Stage').properties as {
      AccessLogSettings: { DestinationArn: unknown; Format: string };
    };
    expect(AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    expect(JSON.parse(AccessLogSettings.Format)).toEqual(ACCESS_LOG_FORMAT);
    expect(ACCESS_LOG_FORMAT).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(7);
  });

  it('lets only this API invoke the handler', () => {
    const { stack, template } = stages.dev;
    const permission = onlyResource(template, 'AWS::Lambda::Permission').properties;
    expect(permission).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(stack, stack.httpApi.handler.function), 'Arn'] },
    });
    expect(JSON.stringify(permission.SourceArn)).toContain(logicalId(stack, stack.httpApi.api));
  });
});
