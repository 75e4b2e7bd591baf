import { describe, expect, test } from "bun:test";
import { agentRequestFor, attributesOf } from "./rbac-match.ts";

describe("attributesOf", () => {
  test("core and group paths, namespaced or not, subresources, watch in both spellings", () => {
    expect(attributesOf("GET", "/api/v1/nodes/node-a")).toEqual({
      verb: "get",
      group: "",
      resource: "nodes",
      name: "node-a",
    });
    expect(attributesOf("PATCH", "/api/v1/nodes/node-a/status")).toEqual({
      verb: "patch",
      group: "",
      resource: "nodes",
      subresource: "status",
      name: "node-a",
    });
    expect(attributesOf("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn")).toEqual({
      verb: "list",
      group: "",
      resource: "pods",
    });
    expect(attributesOf("GET", "/api/v1/pods?watch=true")).toEqual({ verb: "watch", group: "", resource: "pods" });
    expect(attributesOf("GET", "/api/v1/watch/namespaces/x/pods")).toEqual({
      verb: "watch",
      group: "",
      resource: "pods",
      namespace: "x",
    });
    expect(attributesOf("POST", "/api/v1/namespaces/default/events")).toEqual({
      verb: "create",
      group: "",
      resource: "events",
      namespace: "default",
    });
    expect(attributesOf("GET", "/api/v1/namespaces/kube-system")).toEqual({
      verb: "get",
      group: "",
      resource: "namespaces",
      name: "kube-system",
    });
    expect(attributesOf("DELETE", "/apis/apps/v1/namespaces/x/daemonsets")).toEqual({
      verb: "deletecollection",
      group: "apps",
      resource: "daemonsets",
      namespace: "x",
    });
    expect(attributesOf("GET", "/healthz")).toBeUndefined();
  });
});

describe("agentRequestFor", () => {
  test("the agent's own requests match their entry; others match none", () => {
    expect(agentRequestFor("PATCH", "/api/v1/nodes/n/status")?.why).toContain("eni-ip");
    expect(agentRequestFor("GET", "/apis/vpccni.io/v1alpha1/nodeeniconfigs/n")?.verb).toBe("get");
    // no pod reads: not the pods of its node, not one pod
    expect(agentRequestFor("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn")).toBeUndefined();
    expect(agentRequestFor("GET", "/api/v1/namespaces/x/pods/p")).toBeUndefined();
    expect(agentRequestFor("POST", "/api/v1/namespaces/default/events")?.scope).toEqual({ namespace: "default" });
    expect(agentRequestFor("POST", "/api/v1/namespaces/kube-system/events")).toBeUndefined();
    expect(agentRequestFor("GET", "/api/v1/namespaces/vpccni-system/secrets/keys")).toBeUndefined();
    expect(agentRequestFor("GET", "/api/v1/pods?watch=1")).toBeUndefined();
    expect(agentRequestFor("PATCH", "/api/v1/nodes/n")).toBeUndefined();
    expect(agentRequestFor("GET", "/api/v1/namespaces/x/secrets")).toBeUndefined();
    expect(agentRequestFor("DELETE", "/api/v1/namespaces/x/pods/p")).toBeUndefined();
    expect(agentRequestFor("GET", "/api/v1/nodes")).toBeUndefined();
  });
});
