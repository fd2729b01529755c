import type { Template } from 'aws-cdk-lib/assertions';

/** Reading a synthesized template: state machine definitions, IAM grants per role, functions by handler. */

export interface State {
  Type: string;
  Resource?: string | Record<string, unknown>;
  Next?: string;
  Default?: string;
  End?: boolean;
  Comment?: string;
  TimeoutSeconds?: number;
  ResultPath?: string | null;
  Choices?: Array<Record<string, unknown> & { Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Parameters?: Record<string, any>;
}
export interface Definition { StartAt: string; States: Record<string, State> }
export interface CfnResource { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, unknown> }

/** A DefinitionString as JSON, each CloudFormation token in it replaced by a JSON rendering of it (`${{"Ref":"Id"}}`). */
export function parseDefinition(definitionString: unknown): Definition {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as Definition;
  const [separator, parts] = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = parts.map((p) => (typeof p === 'string' ? p : `\${${JSON.stringify(p).replace(/[\\"]/g, '')}}`)).join(separator);
  return JSON.parse(text) as Definition;
}

export function machinesOf(template: Template): Record<string, { id: string; definition: Definition; roleId: string }> {
  const out: Record<string, { id: string; definition: Definition; roleId: string }> = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::StepFunctions::StateMachine'))) {
    const definition = parseDefinition(r.Properties.DefinitionString);
    const name = definition.States['Load runbook settings'].Parameters?.runbook?.name as string;
    out[name] = { id, definition, roleId: r.Properties.RoleArn['Fn::GetAtt'][0] as string };
  }
  return out;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export interface Grant { policy: string; roles: string[]; actions: string[]; resources: unknown[]; condition?: Record<string, any> }

/** Every Allow statement of the template's AWS::IAM::Policy resources, with the roles it is attached to. */
export function grantsOf(resources: Record<string, CfnResource>): Grant[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([id, r]) => (asList(r.Properties?.PolicyDocument?.Statement) as Array<Record<string, any>>)
      .filter((s) => s.Effect === 'Allow')
      .map((s) => ({
        policy: id,
        roles: (asList(r.Properties?.Roles) as Array<{ Ref: string }>).map((ref) => ref.Ref),
        actions: asList(s.Action) as string[],
        resources: asList(s.Resource),
        condition: s.Condition,
      })));
}

/** The logical id of the function whose handler is `entry`, and of its role. */
export function functionOf(resources: Record<string, CfnResource>, entry: string): { id: string; roleId: string } {
  const found = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry'] === entry);
  if (found.length !== 1) throw new Error(`expected one function of ${entry}, found ${found.length}`);
  const [id, r] = found[0];
  return { id, roleId: r.Properties!.Role['Fn::GetAtt'][0] as string };
}
