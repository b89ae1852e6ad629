/**
 * The Pulumi program (Pulumi.yaml `main` points at its compiled form,
 * dist/infra). Its exports are the stack outputs. Other programs import the
 * component from "hkex-sftp-readiness/infra" (component.ts) instead.
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
export const attachmentIds = stack.attachmentIds;
export const naclRuleIds = stack.naclRuleIds;
export const routeIds = stack.routeIds;
export const reachabilityPathIds = stack.reachabilityPathIds;
export const reachabilityAnalysisIds = stack.reachabilityAnalysisIds;
/** Per source and endpoint: pathFound and the explanation codes of its analysis. */
export const reachability = stack.reachability;
export const endpoints = stack.endpoints;
export const probe = stack.probe;
/** The client scope the component declares; the policy pack reads it from state (docs/network.md). */
export const scope = stack.scope;
export const existingGroupReview = stack.existingGroupReview;
