/**
 * The Pulumi program (Pulumi.yaml `main` points at its compiled form,
 * dist/infra). Its exports are the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../core/errors";
import { defineStack, type StackOutputs } from "./stack";

function define(): StackOutputs {
  try {
    return defineStack();
  } catch (err) {
    // RunError makes the CLI print the config problems without a stack trace.
    if (err instanceof InputError) throw new pulumi.RunError(`invalid stack config:\n${err.message}`);
    throw err;
  }
}

const stack = define();

export const securityGroupId = stack.securityGroupId;
export const egressRuleIds = stack.egressRuleIds;
export const naclRuleIds = stack.naclRuleIds;
export const routeIds = stack.routeIds;
export const reachabilityPathIds = stack.reachabilityPathIds;
export const reachabilityAnalysisIds = stack.reachabilityAnalysisIds;
export const endpoints = stack.endpoints;
export const probe = stack.probe;
