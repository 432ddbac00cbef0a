import { EventType } from './event-type';

/** `data.project` of the webhook body, as on the DeskForge page. */
export interface ProjectData {
  id: string;
  name: string;
}

/** `data.build` of the webhook body; `error` only on `build.failed`. */
export interface BuildData {
  id: string;
  projectId: string;
  version: string;
  platform: string;
  arch: string;
  status: string;
  artifactUrl: string | null;
  duration: number | null;
  error?: string | null;
}

export interface EventBody {
  id: string;
  type: EventType;
  createdAt: string;
  data: { build?: BuildData; project: ProjectData };
}

/**
 * The webhook body, serialized once: these bytes are stored, signed, sent and replayed unchanged.
 * Key order follows the DeskForge example (`build` before `project`); project events have no `build` key.
 */
export function serializeEventBody(id: string, type: EventType, createdAt: Date, project: ProjectData, build?: BuildData): string {
  const data: EventBody['data'] = build
    ? { build, project: { id: project.id, name: project.name } }
    : { project: { id: project.id, name: project.name } };
  const body: EventBody = { id, type, createdAt: createdAt.toISOString(), data };
  return JSON.stringify(body);
}
