import { TERRAFORM_BINARY } from '../../testkit/terraform/workspace';

/**
 * `describe` for tests that run the real Terraform: where no terraform binary exists they are
 * skipped (reported by Jest as skipped, never as passed) under a banner that says why.
 */
export const describeWithTerraform: jest.Describe = (() => {
  if (TERRAFORM_BINARY !== undefined) return describe;
  const skipped = ((name: string, fn: jest.EmptyFunction) => {
    process.stderr.write(
      `\n*** SKIPPED: "${name}" needs the terraform binary (none on PATH, $TERRAFORM unset); these tests did not run. ***\n\n`,
    );
    describe.skip(name, fn);
  }) as jest.Describe;
  return Object.assign(skipped, describe);
})();

/** `it` for a test that runs the real Terraform: skipped under a banner where there is none. */
export const itWithTerraform: jest.It = (() => {
  if (TERRAFORM_BINARY !== undefined) return it;
  const skipped = ((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    process.stderr.write(`\n*** SKIPPED: "${name}" needs the terraform binary (none on PATH, $TERRAFORM unset); it did not run. ***\n\n`);
    it.skip(name, fn, timeout);
  }) as jest.It;
  return Object.assign(skipped, it);
})();

/** The number of resources (not data sources) a synthesized configuration declares. */
export function resourceCount(doc: { resource?: Record<string, Record<string, unknown>> }): number {
  return Object.values(doc.resource ?? {}).reduce((n, byId) => n + Object.keys(byId).length, 0);
}
