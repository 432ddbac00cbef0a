import { BuildData } from '../events/event-payload';
import { Build } from './build.entity';
import { BuildStatus } from './build.enums';

/** Whole seconds from start to finish; null until the build has finished. */
export function buildDuration(build: Pick<Build, 'startedAt' | 'finishedAt'>): number | null {
  if (!build.startedAt || !build.finishedAt) return null;
  return Math.round((build.finishedAt.getTime() - build.startedAt.getTime()) / 1000);
}

/** The build as build events carry it (`data.build`); `error` only on a failed build. */
export function buildData(build: Build): BuildData {
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
