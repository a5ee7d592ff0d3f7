export { IntegrityResponder, REQUIRED_APIS, computePermissionsFor } from './integrity-responder';
export { AGGREGATED_SINK_FILTER } from './scope';
export type { Delivery } from './delivery';
export type { InstanceRole, IntegritySink } from './scope';
export { DEFAULT_IAM_PROPAGATION_SECONDS, IntegrityResponderPropsError, SUPPORTED_RUNTIMES } from './props';
export type {
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  IntegrityResponderProps,
  LogLevel,
  NodeRuntime,
  ResponseMode,
  StaleEventPolicy,
} from './props';
export { baselineDocument, measurementsFromDocument, DEFAULT_BASELINE_COLLECTION } from '../function/baseline';
export { baselineDocumentId, fingerprint, sameMeasurements } from '../function/measurements';
export type { PcrMeasurement } from '../function/measurements';
export { ENTRY_POINT } from '../function/entry-point';
