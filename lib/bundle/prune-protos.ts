import { Enum, Field, Namespace, ReflectionObject, Root, Service, Type } from 'protobufjs';

/**
 * Reduces a protobuf.js JSON descriptor to the given services and every type they reach.
 *
 * `@google-cloud/compute` ships one descriptor for all ~100 Compute services (3.8 MB); the
 * handler talks to one of them. Pruning at bundle time keeps the shipped bundle small and
 * the cold start short. Extension declarations (e.g. `google.api.http`) are kept with their
 * types, so the REST transcoding annotations still resolve.
 */
export function pruneProtoJson(json: unknown, serviceNames: readonly string[]): unknown {
  const root = Root.fromJSON(json as Parameters<typeof Root.fromJSON>[0]);
  root.resolveAll();
  const keep = new Set<ReflectionObject>();

  const visit = (obj: ReflectionObject | null | undefined): void => {
    if (!obj || keep.has(obj)) return;
    keep.add(obj);
    for (let p = obj.parent; p; p = p.parent) keep.add(p);
    if (obj instanceof Type) {
      for (const field of obj.fieldsArray) visit(field.resolvedType);
      for (const nested of obj.nestedArray) visit(nested);
    } else if (obj instanceof Service) {
      for (const method of obj.methodsArray) {
        visit(method.resolvedRequestType);
        visit(method.resolvedResponseType);
        // A long-running method names its result and metadata types only in this option, and
        // the generated client looks both up when it is constructed.
        for (const option of ['response_type', 'metadata_type']) {
          const name = method.options?.[`(google.longrunning.operation_info).${option}`] as unknown;
          if (typeof name === 'string') visit(obj.lookup(name));
        }
      }
    } else if (obj instanceof Field) {
      visit(obj.resolvedType);
      if (obj.extend !== undefined) visit(obj.parent?.lookup(obj.extend));
    }
  };

  for (const name of serviceNames) visit(root.lookupService(name));
  const extensions = (ns: Namespace): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof Field) visit(child);
      else if (child instanceof Namespace && !(child instanceof Type) && !(child instanceof Service)) extensions(child);
    }
  };
  extensions(root);

  const prune = (ns: Namespace): void => {
    for (const child of [...ns.nestedArray]) {
      if (child instanceof Type || child instanceof Enum || child instanceof Service || child instanceof Field) {
        if (!keep.has(child)) ns.remove(child);
      } else if (child instanceof Namespace) {
        prune(child);
        if (child.nestedArray.length === 0 && !keep.has(child)) ns.remove(child);
      }
    }
  };
  prune(root);
  return root.toJSON();
}
