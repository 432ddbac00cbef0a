import { Build } from '../builds/build.entity';
import { BuildStatus } from '../builds/build.enums';
import { Project } from '../projects/project.entity';
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

/** Whole seconds from start to finish; null until the build has finished. */
export function buildDuration(build: Pick<Build, 'startedAt' | 'finishedAt'>): number | null {
  if (!build.startedAt || !build.finishedAt) return null;
  return Math.round((build.finishedAt.getTime() - build.startedAt.getTime()) / 1000);
}

function buildData(build: Build): BuildData {
  const data: BuildData = {
    id: build.id,
    projectId: build.projectId,
    version: build.version,
    platform: build.platform,
    arch: build.arch,
    status: build.status,
    artifactUrl: build.artifactUrl,
    duration: buildDuration(build),
  };
  if (build.status === BuildStatus.FAILED) data.error = build.error;
  return data;
}

/**
 * The webhook body, serialized once: these bytes are stored, signed, sent and replayed unchanged.
 * Key order follows the DeskForge example (`build` before `project`); project events have no `build` key.
 */
export function serializeEventBody(
  id: string,
  type: EventType,
  createdAt: Date,
  project: Pick<Project, 'id' | 'name'>,
  build?: Build,
): string {
  const data: EventBody['data'] = build
    ? { build: buildData(build), project: { id: project.id, name: project.name } }
    : { project: { id: project.id, name: project.name } };
  const body: EventBody = { id, type, createdAt: createdAt.toISOString(), data };
  return JSON.stringify(body);
}
