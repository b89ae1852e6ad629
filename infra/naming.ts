/**
 * How the SftpAccess component names and tags its children. Every child is
 * `${component}-<role>`, created with `{ parent: component }`; the names are
 * part of each resource's URN, so changing them replaces live rules.
 */
import type * as pulumi from "@pulumi/pulumi";

/** What each part of the component declares its resources with. */
export interface ChildContext {
  /** The component's name, the prefix of every child's name. */
  readonly name: string;
  readonly parent: pulumi.Resource;
  /** Tags for the children that take them. */
  readonly tags: Readonly<Record<string, string>>;
}

export function componentTags(name: string): Record<string, string> {
  return { "hkex:component": name };
}

/** An address or CIDR as a resource-name fragment: 10.151.14.0/24 becomes 10-151-14-0-24. */
export function dashed(address: string): string {
  return address.replace(/[./]/g, "-");
}
