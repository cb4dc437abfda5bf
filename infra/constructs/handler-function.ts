import { type Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/store/tables.ts';
import {
  BUNDLING,
  entryPath,
  type HandlerName,
  LAMBDA_ARCHITECTURE,
  LAMBDA_RUNTIME,
  LOCK_FILE,
  PROJECT_ROOT,
  SOURCE_MAP_ENVIRONMENT,
} from '../lambda-defaults.ts';
import type { StageConfig } from '../stage.ts';

export interface HandlerFunctionProps {
  readonly entry: HandlerName;
  readonly description: string;
  readonly stage: StageConfig;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Handler-specific variables; `STAGE`, `LOG_LEVEL` and `NODE_OPTIONS` are added. */
  readonly environment: Record<string, string>;
  /**
   * Who invokes the handler and where its failures end up, completing the acknowledgement that it needs no
   * dead-letter queue of its own (those only catch asynchronous invocations).
   */
  readonly failures: string;
  /**
   * Replaces the esbuild bundle of `functions/<entry>.ts` with this code. Only for tests that assert the
   * template's shape and do not need the real bundles.
   */
  readonly code?: lambda.Code;
}

/**
 * One Lambda handler with what every handler gets: its own role (no managed policies, only what its construct
 * grants), its own log group with the stage's retention, ARM64 and the current Node.js runtime.
 */
export class HandlerFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.stage.logRetention,
      removalPolicy: props.stage.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.entry} handler`,
    });
    this.logGroup.grantWrite(this.role);

    const common = {
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        [ENV.stage]: props.stage.name,
        [ENV.logLevel]: props.stage.logLevel,
        ...SOURCE_MAP_ENVIRONMENT,
      },
    } satisfies Partial<lambda.FunctionProps>;

    this.function = props.code
      ? new lambda.Function(this, 'Function', { ...common, code: props.code, handler: 'index.handler' })
      : new NodejsFunction(this, 'Function', {
          ...common,
          entry: entryPath(props.entry),
          handler: 'handler',
          projectRoot: PROJECT_ROOT,
          depsLockFilePath: LOCK_FILE,
          bundling: BUNDLING,
        });

    Validations.of(this.function).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason: `A function dead-letter queue only catches asynchronous invocations, and this handler has none: ${props.failures}`,
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is left off: its trace context does not cross the DynamoDB stream hop, so the flow is correlated ' +
          "by the eventId in the handlers' structured JSON logs instead, at no per-trace cost.",
      },
    );
  }
}

/** The event source mapping that `addEventSource` created on a function, to acknowledge findings on it alone. */
export function eventSourceMapping(fn: lambda.IFunction): lambda.EventSourceMapping {
  const mapping = fn.node.children.find((child) => child instanceof lambda.EventSourceMapping);
  if (!mapping) throw new Error(`${fn.node.path} has no event source mapping`);
  return mapping as lambda.EventSourceMapping;
}
