import type { Template } from 'aws-cdk-lib/assertions';

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
}

/** Every statement granted to a role: its inline policies and the `AWS::IAM::Policy` resources attached to it. */
export function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  const role = template.toJSON().Resources[roleLogicalId];
  if (!role) throw new Error(`no resource ${roleLogicalId}`);
  for (const policy of role.Properties?.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles: unknown[] = policy.Properties.Roles ?? [];
    if (roles.some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleLogicalId }))) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  return statements;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Whether a resource expression refers to a logical id (and, when given, to that attribute of it). */
export function refersTo(expression: unknown, logicalId: string, attribute?: string): boolean {
  if (Array.isArray(expression)) return expression.some((item) => refersTo(item, logicalId, attribute));
  if (expression === null || typeof expression !== 'object') return false;
  const record = expression as Record<string, unknown>;
  if (record.Ref === logicalId) return attribute === undefined;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId)
    return attribute === undefined || getAtt[1] === attribute;
  return Object.values(record).some((value) => refersTo(value, logicalId, attribute));
}

/** The actions a role is allowed on the resources that refer to a logical id (any of its ARNs, indexes, streams). */
export function allowedActionsOn(statements: Statement[], logicalId: string, attribute?: string): string[] {
  const actions = new Set<string>();
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    if (list(statement.Resource).some((resource) => refersTo(resource, logicalId, attribute))) {
      for (const action of list(statement.Action)) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** Every action the role is allowed, on anything. */
export function allowedActions(statements: Statement[]): string[] {
  return [...new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))].sort();
}

/** The resources of the Allow statements that grant an action. */
export function resourcesAllowed(statements: Statement[], action: string): unknown[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
    .flatMap((s) => list(s.Resource));
}
