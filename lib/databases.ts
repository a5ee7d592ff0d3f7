import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { FirestoreDocument } from '@cdktf/provider-google/lib/firestore-document';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember, ProjectIamMemberCondition } from '@cdktf/provider-google/lib/project-iam-member';
import { Fn, Token } from 'cdktf';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { BASELINE_POLICY_COLLECTION, dedicatedDatabaseId, dedicatedLedgerDatabaseId } from '../function/contract';
import type { ResolvedProps } from './props';
import { customRoleId } from './tokens';

/**
 * Firestore permissions of the decision ledger: read documents, create and update them (one
 * atomic commit of conditional writes per decision, ADR 0016). No `datastore.entities.delete`: the function cannot erase
 * its own audit trail.
 */
const LEDGER_PERMISSIONS: readonly string[] = [
  'datastore.databases.get',
  'datastore.entities.create',
  'datastore.entities.get',
  'datastore.entities.update',
];

/** The Firestore databases of a responder and the runtime's access to them. */
interface Databases {
  /** The dedicated baseline database; undefined when `firestoreDatabaseId` names an existing one, and in the shutdown mode. */
  readonly baselineDatabase?: FirestoreDatabase;
  /** Id of the database the function reads baselines from. */
  readonly baselineDatabaseId: string;
  /** With `requireBaselineApproval`, the document telling the baseline tool that new baselines start `proposed`. */
  readonly baselinePolicy?: FirestoreDocument;
  /** The decision ledger: every acted-on report, written before the action. */
  readonly ledgerDatabase: FirestoreDatabase;
  readonly ledgerDatabaseId: string;
  /** Custom role of the ledger: read, create and update documents; no delete. */
  readonly ledgerRole: ProjectIamCustomRole;
  /** The runtime's grants: read the baselines (relearn mode only), write the ledger. */
  readonly grants: ITerraformDependable[];
}

interface DatabaseInputs {
  readonly props: ResolvedProps;
  /** `serviceAccount:…` of the runtime identity. */
  readonly runtimeMember: string;
  /** The APIs the construct enables (none unless `enableApis`). */
  readonly apis: ITerraformDependable[];
  /** What the databases and the role wait for: the APIs, when there are any. */
  readonly dependsOn?: ITerraformDependable[];
}

function deleteProtection(p: ResolvedProps): string {
  return p.firestoreDeleteProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED';
}

/**
 * Creates the baseline database (relearn mode, unless an existing one is named), the baseline
 * policy of the two-person rule, the decision ledger, and the runtime's grants on each, every
 * grant under a condition that names its database.
 */
export function createDatabases(c: Construct, inputs: DatabaseInputs): Databases {
  const { props: p, runtimeMember, apis, dependsOn } = inputs;
  const project = p.projectId;
  let baselineDatabase: FirestoreDatabase | undefined;
  let baselineDatabaseId: string;
  // Baselines, read by the function in the relearn mode only: the shutdown mode has none.
  if (p.responseMode === 'relearn-if-known-good' && p.firestoreDatabaseId === undefined) {
    baselineDatabase = new FirestoreDatabase(c, 'BaselineDatabase', {
      project,
      name: dedicatedDatabaseId(p.namePrefix),
      locationId: p.firestoreLocationId,
      type: 'FIRESTORE_NATIVE',
      deleteProtectionState: deleteProtection(p),
      // Baselines are security data: `terraform destroy` leaves the database in place.
      deletionPolicy: 'ABANDON',
      dependsOn,
    });
    // The literal id (not a reference) keeps the plan readable: reviewers see which
    // database the IAM condition and the function's configuration name.
    baselineDatabaseId = dedicatedDatabaseId(p.namePrefix);
  } else {
    // In the shutdown mode the function is told the database but never reads it.
    baselineDatabaseId = p.firestoreDatabaseId ?? dedicatedDatabaseId(p.namePrefix);
  }
  // Read by the baseline tool (never by the function, which enforces BASELINE_APPROVAL):
  // new baselines of this collection start `proposed`. One document per responder, so
  // responders sharing a database keep their own policies.
  const baselinePolicy = p.requireBaselineApproval
    ? new FirestoreDocument(c, 'BaselinePolicy', {
        project,
        database: baselineDatabaseId,
        collection: BASELINE_POLICY_COLLECTION,
        documentId: p.namePrefix,
        fields: policyFields(p.baselineCollection),
        dependsOn: [...apis, ...(baselineDatabase ? [baselineDatabase] : [])],
      })
    : undefined;
  // The decision ledger: the only data the function writes, in a database of its own, so
  // that its write access can never reach the baselines.
  const ledgerDatabaseId = dedicatedLedgerDatabaseId(p.namePrefix);
  const ledgerDatabase = new FirestoreDatabase(c, 'LedgerDatabase', {
    project,
    name: ledgerDatabaseId,
    locationId: p.firestoreLocationId,
    type: 'FIRESTORE_NATIVE',
    deleteProtectionState: deleteProtection(p),
    // The ledger is the audit trail of every action taken: kept on `terraform destroy`.
    deletionPolicy: 'ABANDON',
    dependsOn,
  });

  const grants: ITerraformDependable[] = [];
  if (p.responseMode === 'relearn-if-known-good') {
    grants.push(
      new ProjectIamMember(c, 'RuntimeReadsBaselines', {
        project,
        role: 'roles/datastore.viewer',
        member: runtimeMember,
        condition: {
          title: `${p.namePrefix} baselines only`,
          description: 'Read access limited to the database holding the known-good baselines',
          expression: `resource.name == "projects/${project}/databases/${baselineDatabaseId}"`,
        },
      }),
    );
  }
  // The ledger is an audit trail: the function may read, create and update its records
  // (in atomic commits of conditional writes), never delete them. Permissions per method:
  // cloud.google.com/firestore/docs/security/iam.
  const ledgerRole = new ProjectIamCustomRole(c, 'LedgerRole', {
    project,
    roleId: customRoleId(p.namePrefix, 'ledger'),
    title: `Integrity responder ${p.namePrefix}: write the decision ledger`,
    description: 'Read, create and update decision-ledger documents (atomic commits of conditional writes); no delete.',
    permissions: [...LEDGER_PERMISSIONS],
    stage: 'GA',
    dependsOn,
  });
  grants.push(
    new ProjectIamMember(c, 'RuntimeWritesLedger', {
      project,
      role: ledgerRole.name,
      member: runtimeMember,
      condition: ledgerOnly(p, ledgerDatabaseId),
    }),
  );
  return { baselineDatabase, baselineDatabaseId, baselinePolicy, ledgerDatabase, ledgerDatabaseId, ledgerRole, grants };
}

/**
 * The IAM condition that keeps a project grant of Firestore permissions to the decision ledger's
 * database: the baselines, in a database of their own, stay out of its reach.
 */
export function ledgerOnly(p: ResolvedProps, ledgerDatabaseId: string): ProjectIamMemberCondition {
  return {
    title: `${p.namePrefix} decision ledger only`,
    description: 'Access limited to the database holding the decision ledger',
    expression: `resource.name == "projects/${p.projectId}/databases/${ledgerDatabaseId}"`,
  };
}

/**
 * The baseline policy document's fields, as Firestore's JSON: written out for a written-out
 * collection id, Terraform's `jsonencode()` for a token, so that no value can close the string it
 * sits in and add fields of its own.
 */
function policyFields(baselineCollection: string): string {
  const fields = { baselineCollection: { stringValue: baselineCollection }, requireApproval: { booleanValue: true } };
  return Token.isUnresolved(baselineCollection) ? Fn.jsonencode(fields) : JSON.stringify(fields);
}
