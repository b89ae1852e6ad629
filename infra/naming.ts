/**
 * How the SftpAccess component names and tags its children. Every child is
 * `${component}-<role>`, created with `{ parent: component }`; the names are
 * part of each resource's URN, so changing them replaces live rules, and
 * childOptions gives each child the aliases that keep its URN when the
 * component itself is renamed or moved.
 */
import * as pulumi from "@pulumi/pulumi";

/** What each part of the component declares its resources with. */
export interface ChildContext {
  /** The component's name, the prefix of every child's name. */
  readonly name: string;
  readonly parent: pulumi.Resource;
  /** Tags for the children that take them. */
  readonly tags: Readonly<Record<string, string>>;
  /** The URNs the component had before (from its own `aliases`). */
  readonly formerUrns: readonly pulumi.Output<string>[];
}

export function componentTags(name: string): Record<string, string> {
  return { "hkex:component": name };
}

/** An address or CIDR as a resource-name fragment: 10.151.14.0/24 becomes 10-151-14-0-24. */
export function dashed(address: string): string {
  return address.replace(/[./]/g, "-");
}

/** The last "::" segment of a URN: the resource's name. */
function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * The URNs a component had before, from the `aliases` its caller gives it:
 * an alias is a URN, or the parts that differ (name, type, parent, project,
 * stack). https://www.pulumi.com/docs/iac/concepts/options/aliases/
 */
export function formerUrnsOf(name: string, type: string, opts: pulumi.ComponentResourceOptions | undefined): pulumi.Output<string>[] {
  return (opts?.aliases ?? []).map((alias) => {
    // An Output here is taken to hold a URN; the parts form is given as a plain object.
    if (typeof alias === "string" || pulumi.Output.isInstance(alias)) return pulumi.output(alias as pulumi.Input<string>);
    const a = alias as pulumi.Alias;
    const parent = "parent" in a ? a.parent : opts?.parent;
    // A top-level resource's URN carries no parent type, though the engine parents it to the stack.
    const parentUrn = parent === pulumi.rootStackResource ? undefined : parent;
    return pulumi
      .all([a.name ?? name, a.type ?? type, a.project, a.stack])
      .apply(([n, t, project, stack]) => pulumi.createUrn(n, t, parentUrn, project, stack));
  });
}

/**
 * Options for a child: parented to the component, and aliased to the URN it
 * had under each former URN of the component. A child named from the
 * component's name takes the former component's name as its prefix, as
 * Pulumi's own inherited aliases do; spelling them out keeps them visible in
 * tests and independent of the engine version.
 */
export function childOptions(
  ctx: ChildContext,
  type: string,
  childName: string,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  const aliases = ctx.formerUrns.map((former) =>
    pulumi.createUrn(
      former.apply((urn) => (childName.startsWith(ctx.name) ? nameOfUrn(urn) + childName.slice(ctx.name.length) : childName)),
      type,
      former,
    ),
  );
  return { ...extra, parent: ctx.parent, ...(aliases.length > 0 ? { aliases } : {}) };
}
