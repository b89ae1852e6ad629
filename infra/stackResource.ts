/**
 * One resource of a stack as the Pulumi engine records it: what the mock
 * runtime captures for `hkex-ready plan`, what `pulumi stack export` and
 * `pulumi preview --json` hold, and what the offline policy runner reads.
 * A type only, so the policy pack can share it without importing the program.
 */
export interface StackResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  /** What the program declared: resource policies see these. */
  readonly inputs: Record<string, unknown>;
  /** The resource's state: stack policies see inputs overlaid with these. */
  readonly outputs: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}
