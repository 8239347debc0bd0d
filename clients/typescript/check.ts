// Compiled (never run) in CI against types generated from openapi/openapi.json, as the phone
// team's client would be: a renamed field, a dropped property or a changed operation breaks this build.
import type { components, operations, paths } from "./generated";

type JobList = operations["listJobs"]["responses"][200]["content"]["application/json"];
type JobListQuery = NonNullable<operations["listJobs"]["parameters"]["query"]>;
type Closure = operations["getClosure"]["responses"][200]["content"]["application/json"];
type ClosureRefusal = operations["requestClosure"]["responses"][409]["content"]["application/json"];
type StillNeeded = components["schemas"]["JobSummary"]["stillNeeded"][number];

// The list screen: one row per job, in the order the server gives.
export function jobRows(list: JobList): string[] {
  return list.jobs.map((job) => {
    const when = job.appointment?.start ?? "unscheduled";
    const missing: StillNeeded[] = job.stillNeeded;
    return `${when} ${job.serviceJobId} ${job.customer.name ?? ""} ${job.scope.title ?? ""} needs: ${missing.join(",")}`;
  });
}

export const today: JobListQuery = { date: "2026-06-15" };
export const listJobsPath: keyof paths = "/v1/jobs";

// The closure banner on the job screen.
export function closureBanner(closure: Closure): string {
  switch (closure.state) {
    case "PENDING_APPROVAL":
      return "Waiting for your supervisor";
    case "QUEUED":
      return "Approved, being sent to Amazon";
    case "COMPLETED":
      return `Closed ${closure.completedAt ?? ""}`;
    case "FAILED":
      return `Amazon refused: ${closure.failureReason ?? "unknown"}`;
    case "REJECTED":
      return `Sent back: ${closure.rejectionReason ?? ""}`;
    default: {
      const unknown: never = closure.state; // a new state must be handled here first
      return unknown;
    }
  }
}

export function refusalText(refusal: ClosureRefusal): string {
  return `${refusal.code} ${refusal.message ?? ""}`;
}

// The offline store: apply one page of the delta feed to what the phone holds.
type Changes = operations["listChanges"]["responses"][200]["content"]["application/json"];
type ChangesQuery = NonNullable<operations["listChanges"]["parameters"]["query"]>;
type Gone = operations["listChanges"]["responses"][410]["content"]["application/json"];

export function applyChanges(held: Map<string, JobList["jobs"][number]>, page: Changes): ChangesQuery {
  for (const id of page.removed) held.delete(id);
  for (const job of page.changes) held.set(job.serviceJobId, job);
  return { since: page.cursor };
}

export function mustResync(answer: Gone): boolean {
  return answer.code === 410;
}
