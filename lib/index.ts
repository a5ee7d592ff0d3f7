export { FINDINGS_API, IntegrityResponder, REQUIRED_APIS, computePermissionsFor } from './integrity-responder';
export { EVIDENCE_PERMISSIONS, EVIDENCE_SCOPE_PERMISSIONS } from './playbook';
export { ResponderAlerting } from './alerting';
export type { ResponderAlert, ResponderAlertingProps } from './alerting';
export { MANAGED_BY, MANAGED_BY_VALUE, RESPONDER_LABEL } from './labels';
export type { ResponderProviders } from './providers';
export { AGGREGATED_SINK_FILTER } from './scope';
export type { Delivery } from './delivery';
export type { InstanceRole, IntegritySink } from './scope';
export { DEFAULT_IAM_PROPAGATION_SECONDS, IntegrityResponderPropsError, SUPPORTED_RUNTIMES } from './props';
export type {
  ContainmentStep,
  Enforcement,
  EvidenceStep,
  FailureAction,
  InstanceGroupAction,
  IntegrityResponderProps,
  LogLevel,
  NodeRuntime,
  ResponseMode,
  StaleEventPolicy,
} from './props';
export {
  CONTAINMENT_STEPS,
  DEFAULT_SNAPSHOT_RETENTION_DAYS,
  EVIDENCE_STEPS,
  MAX_EXCLUDED_PROJECTS,
  DEFAULT_BASELINE_COLLECTION,
} from '../function/contract';
export { BASELINE_STATES, baselineDocument, measurementsFromDocument } from '../function/core/baseline';
export type { BaselineDocument, BaselineFields, BaselineMetadata, BaselineState, StoredPcr } from '../function/core/baseline';
export { baselineDocumentId, fingerprint, sameMeasurements } from '../function/core/measurements';
export type { PcrMeasurement } from '../function/core/measurements';
export { ENTRY_POINT } from '../function/contract';
