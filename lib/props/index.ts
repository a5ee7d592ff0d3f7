// The construct's props: what a user writes (props.ts), and how the construct checks them and
// applies the defaults (validate.ts, with the rules in rules.ts and scope-rules.ts).
export type {
  ContainmentStep,
  Enforcement,
  EvidenceStep,
  FailureAction,
  InstanceGroupAction,
  LogLevel,
  ResponseMode,
  StaleEventPolicy,
} from '../../function/contract';
export { IntegrityResponderPropsError } from '../errors';
export { DEFAULT_IAM_PROPAGATION_SECONDS, SUPPORTED_RUNTIMES } from './props';
export type { IntegrityResponderProps, NodeRuntime } from './props';
export type { ResolvedProps } from './resolved';
export { resolveProps } from './validate';
