import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';

/** A synthesized stack, parsed, with helpers to find resources by type. */
export interface Plan {
  readonly json: string;
  readonly doc: { resource: Record<string, Record<string, Record<string, unknown>>> };
  /** Resources of one type, keyed by their logical id. */
  resources(type: string): Record<string, Record<string, unknown>>;
  /** The only resource of a type (fails when there is not exactly one). */
  only(type: string): Record<string, unknown>;
  /** Every resource of every type, as [type, id, body]. */
  all(): [string, string, Record<string, unknown>][];
}

export const PROJECT = 'fleet-prod-1234';

/** Synthesizes a stack holding one responder per props object. */
export function synthResponders(...propsList: Partial<IntegrityResponderProps>[]): Plan {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new GoogleProvider(stack, 'google', { project: PROJECT });
  propsList.forEach(
    (props, i) => new IntegrityResponder(stack, i === 0 ? 'Responder' : `Responder${i + 1}`, { projectId: PROJECT, ...props }),
  );
  const json = Testing.synth(stack);
  const doc = JSON.parse(json) as Plan['doc'];
  return {
    json,
    doc,
    resources: (type) => doc.resource[type] ?? {},
    only(type) {
      const found = Object.values(doc.resource[type] ?? {});
      if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
      return found[0]!;
    },
    all: () =>
      Object.entries(doc.resource).flatMap(([type, byId]) =>
        Object.entries(byId).map(([id, body]) => [type, id, body] as [string, string, Record<string, unknown>]),
      ),
  };
}

/** The plan with content hashes replaced, so snapshots change only when the plan's shape does. */
export function scrubbed(plan: Plan): unknown {
  return JSON.parse(plan.json.replace(/[0-9a-f]{64}/g, '<sha256>'));
}
