import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrackerApp } from '../../infra/tracker-app.ts';
import { STUB_CODE, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/** The findings a pack reports when acknowledgements are ignored (cdk-nag 3 checks them in `isAcknowledged`). */
function findingsIgnoringAcknowledgements(pack: NagPack, root: IConstruct) {
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return pack.validateScope(root).violations;
}

/** Every finding acknowledged in the stack, each with its written reason in the construct that owns it. */
const EXPECTED = [
  'AwsSolutions-APIG4',
  'AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions-SQS3',
  'Serverless-LambdaDLQ',
  'Serverless-LambdaEventSourceMappingDestination',
  'Serverless-LambdaTracing',
  'Serverless-SNSRedrivePolicy',
  'Serverless-SQSRedrivePolicy',
];

describe('cdk-nag', () => {
  const synthesized: Synthesized[] = [];
  beforeAll(() => {
    // synthesize() runs the registered packs: it throws on any finding left unacknowledged.
    synthesized.push(synthesize('dev'), synthesize('prod', { alarmEmail: 'ops@example.com' }));
  }, SYNTH_TIMEOUT);

  it('finds nothing unacknowledged, error or warning, in either stage', () => {
    for (const { app } of synthesized) {
      for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
        expect(pack.validateScope(app).violations).toEqual([]);
      }
    }
  });

  it(
    'is registered on the app, so that synth fails on a new finding',
    () => {
      const { app, stack } = createTrackerApp({ context: { stage: 'dev' }, handlerCode: STUB_CODE });
      new sqs.Queue(stack, 'PlainQueue', { enforceSSL: false });
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
    },
    SYNTH_TIMEOUT,
  );

  it('acknowledges only these rules, each on the construct it is about, with a specific written reason', () => {
    const { app } = synthesized[1]!;
    const acks = acknowledgements(app);
    expect([...new Set(acks.map((a) => a.id))].sort()).toEqual(EXPECTED);
    for (const ack of acks) {
      expect(ack.path.split('/').length, `${ack.id} at ${ack.path}`).toBeGreaterThan(2);
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(80);
    }
    const rulesByReason = new Map<string, Set<string>>();
    for (const ack of acks)
      rulesByReason.set(ack.reason, (rulesByReason.get(ack.reason) ?? new Set()).add(ack.id));
    for (const [reason, ids] of rulesByReason)
      expect(ids.size, `one reason for ${[...ids]}: ${reason}`).toBe(1);
  });

  it('has no acknowledgement left over: each one silences a finding on its construct', () => {
    const { app } = synthesized[1]!;
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      findingsIgnoringAcknowledgements(pack, app),
    );
    for (const ack of acknowledgements(app)) {
      const silenced = findings.some(
        (f) =>
          f.ruleName === ack.id &&
          f.violatingResources.some(
            (r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`),
          ),
      );
      expect(silenced, `${ack.id} at ${ack.path}`).toBe(true);
    }
  });
});
