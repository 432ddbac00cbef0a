/** Enum values are the dotted wire names (`type` in the webhook body); GraphQL shows the keys. */
export enum EventType {
  BUILD_QUEUED = 'build.queued',
  BUILD_STARTED = 'build.started',
  BUILD_SUCCEEDED = 'build.succeeded',
  BUILD_FAILED = 'build.failed',
  PROJECT_CREATED = 'project.created',
  PROJECT_UPDATED = 'project.updated',
  PROJECT_DELETED = 'project.deleted',
}

export const ALL_EVENT_TYPES: EventType[] = Object.values(EventType);

const EVENT_TYPE_NAMES: ReadonlySet<unknown> = new Set(ALL_EVENT_TYPES);

/** True for a dotted event name (`build.succeeded`), as webhook bodies and the REST API carry them. */
export function isEventType(name: unknown): name is EventType {
  return EVENT_TYPE_NAMES.has(name);
}

/**
 * The distinct types of a client's list, in first-seen order: at most seven however long the list, so
 * a `types` or `events` argument reaches SQL and the per-event filters bounded (API.md §3).
 */
export function foldEventTypes(types: readonly EventType[] | null | undefined): EventType[] | null {
  return types ? [...new Set(types)] : null;
}
