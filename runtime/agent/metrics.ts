// Prometheus metrics of the node agent. Names follow the peers' (awscni_*, terway_*) shape
// so that existing dashboards translate: pool sizes, ENIs, cloud calls by action and outcome
// with latency, how long a pod waited for its IP, and the free IPs of the subnets it watches.
// docs/metrics.md lists every metric; metrics-doc.test.ts holds it to this registry.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Subnet } from "../cloud/types.ts";
import type { Decision, OperationResult, PoolSummary } from "../pool/index.ts";

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly ips = new Gauge({
    name: "vpccni_pool_ips",
    help: "Secondary IPs of the node pool by state",
    labelNames: ["state"],
    registers: [this.registry],
  });
  private readonly maxBindable = new Gauge({
    name: "vpccni_pool_max_bindable",
    help: "Most IPs the node may bind (ENIs x IPs per ENI, after policy limits)",
    registers: [this.registry],
  });
  private readonly enis = new Gauge({
    name: "vpccni_enis",
    help: "Secondary ENIs the node holds for pods",
    registers: [this.registry],
  });
  private readonly waiting = new Gauge({
    name: "vpccni_pods_waiting",
    help: "Pods that asked for an IP and have none yet",
    registers: [this.registry],
  });
  private readonly inflight = new Gauge({
    name: "vpccni_cloud_operations_inflight",
    help: "Cloud operations in flight",
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: "vpccni_cloud_operations_total",
    help: "Pool decisions carried out, by action and outcome",
    labelNames: ["action", "outcome"],
    registers: [this.registry],
  });
  private readonly operationSeconds = new Histogram({
    name: "vpccni_cloud_operation_duration_seconds",
    help: "Time from decision to cloud answer, by action",
    labelNames: ["action"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly allocations = new Counter({
    name: "vpccni_allocations_total",
    help: "CNI ADD answers, by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  private readonly allocationSeconds = new Histogram({
    name: "vpccni_allocation_duration_seconds",
    help: "Time a CNI ADD waited for its IP",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });
  readonly repairs = new Counter({
    name: "vpccni_dataplane_repairs_total",
    help: "Data plane drift repaired, by kind",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: "vpccni_policy_reloads_total",
    help: "Policy file reloads, by result",
    labelNames: ["result"],
    registers: [this.registry],
  });

  private readonly subnetFree = new Gauge({
    name: "vpccni_subnet_free_ips",
    help: "Free IPs of a subnet the node watches, as DescribeSubnets last reported them",
    labelNames: ["subnet", "zone"],
    registers: [this.registry],
  });
  private readonly subnetTotal = new Gauge({
    name: "vpccni_subnet_total_ips",
    help: "All IPs of a subnet the node watches, as DescribeSubnets last reported them",
    labelNames: ["subnet", "zone"],
    registers: [this.registry],
  });

  pool(s: PoolSummary): void {
    this.ips.set({ state: "bound" }, s.bound);
    this.ips.set({ state: "assigned" }, s.pods);
    this.ips.set({ state: "idle" }, s.idle);
    this.ips.set({ state: "ready" }, s.ready);
    this.maxBindable.set(s.maxBindable);
    this.enis.set(s.enis);
    this.waiting.set(s.waiting);
    this.inflight.set(s.inflight);
  }

  operation(decision: Decision, result: OperationResult, ms: number): void {
    this.operations.inc({ action: decision.action, outcome: result.ok ? "ok" : result.error.kind });
    this.operationSeconds.observe({ action: decision.action }, ms / 1000);
  }

  allocation(ok: boolean, ms: number): void {
    this.allocations.inc({ result: ok ? "ok" : "no-ip" });
    this.allocationSeconds.observe(ms / 1000);
  }

  /**
   * One DescribeSubnets answer: the subnets the node watches now. Series of subnets it no
   * longer watches are dropped, so that a subnet removed from the policy stops alerting.
   */
  subnets(described: Iterable<Subnet>): void {
    this.subnetFree.reset();
    this.subnetTotal.reset();
    for (const s of described) {
      this.subnetFree.set({ subnet: s.id, zone: s.zone }, s.availableIps);
      this.subnetTotal.set({ subnet: s.id, zone: s.zone }, s.totalIps);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
