import type {
  ContainmentStep,
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  LogLevel,
  ResponseMode,
  StaleEventPolicy,
  UNLIMITED,
} from '../../function/contract';
import type { NodeRuntime } from './props';

/** Props with every default applied and validated. */
export interface ResolvedProps {
  readonly projectId: string;
  readonly region: string;
  readonly namePrefix: string;
  readonly responseMode: ResponseMode;
  readonly runtime: NodeRuntime;
  readonly maxInstanceCount: number;
  readonly memoryMib: number;
  readonly maxInstanceRequestConcurrency: number;
  readonly availableCpu?: string;
  readonly timeoutSeconds: number;
  readonly firestoreDatabaseId?: string;
  readonly firestoreLocationId: string;
  readonly firestoreDeleteProtection: boolean;
  readonly baselineCollection: string;
  readonly requireBaselineApproval: boolean;
  readonly sourceBucketName: string;
  readonly logLevel: LogLevel;
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  readonly relearnMaxAgeSeconds: number;
  readonly failureAction: FailureAction;
  /** The playbook, ending with {@link failureAction}. */
  readonly containment: readonly ContainmentStep[];
  readonly forensicsProjectId?: string;
  readonly snapshotRetentionDays: number;
  readonly firewallPolicyParent?: string;
  readonly quarantineFirewallPolicy?: string;
  /** The first of the quarantine rules' four consecutive priorities. */
  readonly quarantineRulePriority: number;
  readonly raiseFindings: boolean;
  readonly releasePrincipals: readonly string[];
  readonly requireReleaseApproval: boolean;
  readonly enforcement: Enforcement;
  readonly exemptLabel: string;
  readonly scope: string;
  readonly organizationId?: string;
  readonly excludedProjects: readonly string[];
  readonly watchResponderProject: boolean;
  readonly maxDeliveryAttempts: number;
  readonly notificationChannels: readonly string[];
  readonly instanceGroupAction: InstanceGroupAction;
  readonly maxActionsPerWindow: number | typeof UNLIMITED;
  readonly actionWindowSeconds: number;
  readonly enableApis: boolean;
  readonly iamPropagationSeconds: number;
  readonly labels: Record<string, string>;
}
